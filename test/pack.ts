// The public packages of this repository and their tarballs, as `npm pack` makes them.
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';

export const REPO = join(import.meta.dirname, '..');

/** The package.json fields the checks read. */
export interface PackageJson {
  name: string;
  version: string;
  private?: boolean;
  bin?: string | Record<string, string>;
  exports?: unknown;
  types?: string;
  main?: string;
  dependencies?: Record<string, string>;
  peerDependencies?: Record<string, string>;
  optionalDependencies?: Record<string, string>;
}

export interface PublicPackage {
  name: string;
  /** Absolute directory of the package. */
  dir: string;
  json: PackageJson;
}

export interface PackedPackage {
  tarball: string;
  /** Packed size in bytes, as npm reports it. */
  size: number;
  /** Paths inside the tarball, relative to its `package/` root. */
  files: string[];
}

/** Every package under packages/ that is not private, sorted by name. */
export function publicPackages(): PublicPackage[] {
  const root = join(REPO, 'packages');
  return readdirSync(root, { withFileTypes: true })
    .filter((d) => d.isDirectory())
    .map((d) => {
      const dir = join(root, d.name);
      const json = JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8')) as PackageJson;
      return { name: json.name, dir, json };
    })
    .filter((p) => p.json.private !== true)
    .sort((a, b) => a.name.localeCompare(b.name));
}

interface NpmPackEntry {
  name: string;
  filename: string;
  size: number;
  files: Array<{ path: string }>;
}

/**
 * Packs the packages into a new temp dir with one `npm pack` call (npm starts once, not once per
 * package). The caller removes `dir`.
 */
export function packPublicPackages(packages: readonly PublicPackage[]): {
  dir: string;
  packed: Map<string, PackedPackage>;
} {
  const dir = mkdtempSync(join(tmpdir(), 'faultline-pack-'));
  const workspaces = packages.flatMap((p) => ['--workspace', relative(REPO, p.dir)]);
  const out = execFileSync('npm', ['pack', '--json', '--pack-destination', dir, ...workspaces], {
    cwd: REPO,
    encoding: 'utf8',
    stdio: ['ignore', 'pipe', 'pipe'],
    maxBuffer: 64 * 1024 * 1024,
  });
  const entries = JSON.parse(out) as NpmPackEntry[];
  const packed = new Map<string, PackedPackage>();
  for (const e of entries) {
    packed.set(e.name, { tarball: join(dir, e.filename), size: e.size, files: e.files.map((f) => f.path) });
  }
  return { dir, packed };
}

/** Every file path an `exports` map points at (all conditions, all subpaths). */
export function exportTargets(exports: unknown): string[] {
  if (typeof exports === 'string') return [exports];
  if (Array.isArray(exports)) return exports.flatMap(exportTargets);
  if (exports && typeof exports === 'object') return Object.values(exports).flatMap(exportTargets);
  return [];
}

/**
 * The names `src/index.ts` exports (values and types). The entry points only use
 * `export [type] { a, type b, c as d } from '…'` and `export const|function|class x`.
 */
export function entryExports(dir: string): string[] {
  const text = readFileSync(join(dir, 'src', 'index.ts'), 'utf8');
  const names = new Set<string>();
  for (const [, list] of text.matchAll(/export\s+(?:type\s+)?\{([^}]*)\}/g)) {
    for (const item of list!.split(',')) {
      const name = item
        .trim()
        .replace(/^type\s+/, '')
        .split(/\s+as\s+/)
        .pop();
      if (name) names.add(name);
    }
  }
  for (const [, name] of text.matchAll(
    /export\s+(?:declare\s+)?(?:const|let|function|class|interface|type)\s+(\w+)/g,
  )) {
    names.add(name!);
  }
  return [...names].sort();
}
