// The loader parses with zod's JIT off (`jitless`: no parser compiled per object shape, ~8 ms off a
// CLI's one parse). That is only a speed-up while both ways give the same matrix and the same issues,
// in the same order: a zod upgrade that makes them differ fails here.
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, test } from 'vitest';
import { parse } from 'yaml';
import { matrixSchema } from '../src/index.ts';

const root = join(import.meta.dirname, '..', '..', '..');
const fixtures = join(import.meta.dirname, 'fixtures');
const files = [
  ...readdirSync(fixtures).map((name) => join(fixtures, name)),
  join(root, 'examples', 'rust-kv', 'matrix.yaml'),
  join(root, 'examples', 'go-store', 'matrix.yaml'),
];

type Json = null | boolean | number | string | Json[] | { [key: string]: Json };
const REPLACEMENTS: Json[] = [null, 42, 'x', 'NOPE bad', '5x', [], [1], {}, { unknownKey: 1 }, true];

/** The value as parsed, then each way to break it at one place: a key removed, a value replaced, a key added. */
function* variants(data: Json): Generator<Json> {
  yield data;
  const paths: (string | number)[][] = [];
  const walk = (v: Json, path: (string | number)[]) => {
    if (path.length) paths.push(path);
    if (v && typeof v === 'object') for (const [k, child] of Object.entries(v)) walk(child, [...path, k]);
  };
  walk(data, []);
  for (const path of paths) {
    const edit = (change: (parent: Record<string, Json>, key: string) => void) => {
      const copy = structuredClone(data);
      let parent = copy as Record<string, Json>;
      for (const k of path.slice(0, -1)) parent = parent[k] as Record<string, Json>;
      change(parent, String(path.at(-1)));
      return copy;
    };
    yield edit((parent, key) => delete parent[key]);
    for (const value of REPLACEMENTS) yield edit((parent, key) => (parent[key] = value));
    yield edit((parent, key) => {
      const v = parent[key];
      if (v && typeof v === 'object' && !Array.isArray(v)) v.unexpected = 1;
    });
  }
}

const outcome = (r: ReturnType<typeof matrixSchema.safeParse>) => (r.success ? r.data : r.error.issues);

describe('the matrix schema with and without zod JIT', () => {
  test.each(files.map((f) => [f.slice(root.length + 1), f]))('%s and every one-place break of it', (_, file) => {
    let data: Json;
    try {
      data = parse(readFileSync(file, 'utf8')) as Json;
    } catch {
      return; // a fixture that is not YAML at all never reaches the schema
    }
    let compared = 0;
    let rejected = 0;
    for (const input of variants(data)) {
      const jit = matrixSchema.safeParse(structuredClone(input));
      const jitless = matrixSchema.safeParse(structuredClone(input), { jitless: true });
      expect(JSON.stringify(outcome(jitless))).toBe(JSON.stringify(outcome(jit)));
      compared++;
      if (!jit.success) rejected++;
    }
    expect(compared).toBeGreaterThan(0);
    if (compared > 1) expect(rejected).toBeGreaterThan(0);
  });
});
