// What `npm publish` would ship, checked the way a user's install sees it: every public package
// under packages/ is packed with `npm pack` (after `npm run build`, which `npm test` runs first)
// and each tarball is checked by publint and arethetypeswrong, for stray files (tests, fixtures,
// build info), for every `bin` and `exports` target, for sibling dependency ranges and for a
// README that names the install command and every export of the package's entry point.
import { readFileSync, rmSync } from 'node:fs';
import { join, relative } from 'node:path';
import { checkPackage, createPackageFromTarballData } from '@arethetypeswrong/core';
import type { Problem, ResolutionKind } from '@arethetypeswrong/core/types';
import { publint } from 'publint';
import { formatMessage } from 'publint/utils';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { entryExports, exportTargets, type PackedPackage, packPublicPackages, publicPackages, REPO } from './pack.ts';

/**
 * The packages are ESM only and declare `engines.node >= 22.12`, where `require()` of an ES module
 * works without a flag; so the `esm-only` profile, which ignores the `node10` and `node16-cjs`
 * resolutions. attw's TypeScript models node16-from-CJS as "dynamic import only", which is
 * not a problem on the Node versions these packages support. Every ESM resolution must be clean.
 */
const IGNORED_RESOLUTIONS: readonly ResolutionKind[] = ['node10', 'node16-cjs'];

/** Paths that belong to development, never to a tarball. */
const STRAY = /(^|\/)(test|tests|__tests__|fixtures)\/|\.test\.[cm]?[jt]s$|\.tsbuildinfo$/;

const packages = publicPackages();
let packed: Map<string, PackedPackage>;
let cleanup = () => {};

beforeAll(() => {
  const result = packPublicPackages(packages);
  packed = result.packed;
  cleanup = () => rmSync(result.dir, { recursive: true, force: true });
}, 120_000);
afterAll(() => cleanup());

function tarballOf(name: string): PackedPackage {
  const found = packed.get(name);
  if (!found) throw new Error(`npm pack produced no tarball for ${name}`);
  return found;
}

/** A caret range (`^1.2.3`) that the sibling's own version satisfies. */
function caretAccepts(range: string, version: string): boolean {
  const want = /^\^(\d+)\.(\d+)\.(\d+)$/.exec(range)?.slice(1).map(Number);
  const have = /^(\d+)\.(\d+)\.(\d+)$/.exec(version)?.slice(1).map(Number);
  if (!want || !have) return false;
  const [wMajor, wMinor, wPatch] = want as [number, number, number];
  const [hMajor, hMinor, hPatch] = have as [number, number, number];
  if (hMajor !== wMajor || (wMajor === 0 && hMinor !== wMinor)) return false;
  return hMinor > wMinor || (hMinor === wMinor && hPatch >= wPatch);
}

test('there are public packages to check', () => {
  expect(packages.map((p) => p.name)).toContain('@faultline/cli');
});

describe.each(packages.map((p) => [p.name, p] as const))('%s', (name, pkg) => {
  test('publint reports nothing (strict, suggestions included)', async () => {
    const { tarball } = tarballOf(name);
    const data = readFileSync(tarball);
    const result = await publint({
      pack: { tarball: data.buffer.slice(data.byteOffset, data.byteOffset + data.byteLength) },
      level: 'suggestion',
      strict: true,
    });
    expect(result.messages.map((m) => `${m.type}: ${formatMessage(m, result.pkg, { color: false })}`)).toEqual([]);
  });

  test('arethetypeswrong reports nothing for Node 22.12+ ESM and bundlers', async () => {
    const { tarball } = tarballOf(name);
    const analysis = await checkPackage(createPackageFromTarballData(new Uint8Array(readFileSync(tarball))));
    expect(analysis.types, 'the tarball ships no types').not.toBe(false);
    const counted = (p: Problem) => !('resolutionKind' in p) || !IGNORED_RESOLUTIONS.includes(p.resolutionKind);
    const problems = 'problems' in analysis ? analysis.problems.filter(counted) : [];
    expect(problems).toEqual([]);
  }, 60_000);

  test('the tarball holds no tests, fixtures or build info', () => {
    expect(tarballOf(name).files.filter((f) => STRAY.test(f))).toEqual([]);
  });

  test('every bin and every exports target is in the tarball', () => {
    const files = new Set(tarballOf(name).files);
    const bins = typeof pkg.json.bin === 'string' ? [pkg.json.bin] : Object.values(pkg.json.bin ?? {});
    const targets = [...bins, ...exportTargets(pkg.json.exports), pkg.json.types, pkg.json.main]
      .filter((t): t is string => typeof t === 'string')
      .map((t) => t.replace(/^\.\//, ''));
    expect(targets.length).toBeGreaterThan(0);
    expect(targets.filter((t) => !files.has(t)).map((t) => `${t} (run \`npm run build\` first?)`)).toEqual([]);
  });

  test('sibling @faultline dependencies use real ranges that the siblings satisfy', () => {
    const wrong: string[] = [];
    for (const field of ['dependencies', 'peerDependencies', 'optionalDependencies'] as const) {
      for (const [dep, range] of Object.entries(pkg.json[field] ?? {})) {
        if (!dep.startsWith('@faultline/')) continue;
        const sibling = packages.find((p) => p.name === dep);
        if (!sibling) wrong.push(`${field}.${dep}: not a public package of this repository`);
        else if (!caretAccepts(range, sibling.json.version)) {
          wrong.push(`${field}.${dep}: "${range}" does not accept ${sibling.json.version}`);
        }
      }
    }
    expect(wrong).toEqual([]);
  });

  test('a README with the install command and every export of the entry point', () => {
    const { files } = tarballOf(name);
    expect(files).toContain('README.md');
    const readme = readFileSync(join(pkg.dir, 'README.md'), 'utf8');
    expect(readme).toContain(`npm i -D ${name}`);
    const missing = entryExports(pkg.dir).filter((e) => !new RegExp(`\`${e}\\b`).test(readme));
    const where = `${relative(REPO, pkg.dir)}/README.md`;
    expect(missing, `exports of src/index.ts that ${where} does not name: add one API line each`).toEqual([]);
  });
});
