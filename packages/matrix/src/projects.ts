// What a `layers.<id>.projects` entry means, in one place: `faultline run` (the runner's plan) and the
// Nx plugin both resolve entries here, so a name can never mean one directory to one and another to
// the other. Only node:fs and node:path: the Nx plugin uses it without loading vitest.
import { existsSync, globSync, readFileSync, statSync } from 'node:fs';
import { basename, isAbsolute, join, matchesGlob, posix, relative, resolve } from 'node:path';
import type { LoadedMatrix } from './loader.ts';
import type { Problem } from './problem.ts';
import type { CommandProjectSpec } from './schema.ts';
import { didYouMean } from './suggest.ts';

/** The config files vitest looks for in a project directory, in its order. */
export const VITEST_CONFIGS = [
  'vitest.config.ts',
  'vitest.config.mts',
  'vitest.config.cts',
  'vitest.config.js',
  'vitest.config.mjs',
  'vitest.config.cjs',
] as const;

/**
 * Whether a projects entry is a path (to a directory holding a vitest config) rather than a project
 * name: `.`, `..`, anything starting with `./`, `../` or `/`, or containing a `/` without being a scoped
 * package name (`@scope/name`). Decided by the text alone, so a new package never changes its meaning.
 */
export function isProjectPath(entry: string): boolean {
  const e = entry.replaceAll('\\', '/');
  if (e === '.' || e === '..' || e.startsWith('./') || e.startsWith('../') || e.startsWith('/')) return true;
  return !e.startsWith('@') && e.includes('/');
}

/**
 * The stable name of a path entry in results and reports: posix, normalised, no trailing slash, and
 * `./` in front of a path inside the matrix's directory (`test/l1/` and `./test//l1` are `./test/l1`).
 */
export function projectPathName(entry: string): string {
  const normal = posix.normalize(entry.replaceAll('\\', '/')).replace(/(.)\/+$/, '$1');
  return normal === '.' || normal.startsWith('../') || normal === '..' || normal.startsWith('/')
    ? normal
    : `./${normal}`;
}

/** The vitest config file in `dir` (its name), if any. */
export function vitestConfigIn(dir: string): string | undefined {
  return VITEST_CONFIGS.find((f) => existsSync(join(dir, f)));
}

// ---------------------------------------------------------------------------------------------
// Project names, as Nx's own package.json / project.json inference gives them.

/** Where a named project lives and what names it. */
export interface NamedProject {
  /** Project root relative to the workspace root, posix separators, '.' for the root. */
  root: string;
  /** The file that names the project (`package.json` or `project.json`), relative to the workspace root. */
  source: string;
}

/** Project name -> where it is. */
export type NamedProjects = ReadonlyMap<string, NamedProject>;

interface PackageJson {
  name?: unknown;
  nx?: { name?: unknown };
  workspaces?: unknown;
}

function tryReadJson(file: string): unknown {
  try {
    return JSON.parse(readFileSync(file, 'utf8'));
  } catch {
    return undefined;
  }
}

function asPackageJson(value: unknown): PackageJson {
  return value !== null && typeof value === 'object' ? (value as PackageJson) : {};
}

function stringOf(value: unknown): string | undefined {
  return typeof value === 'string' && value.length > 0 ? value : undefined;
}

function npmWorkspaces(ws: unknown): unknown[] {
  if (Array.isArray(ws)) return ws;
  const packages = ws !== null && typeof ws === 'object' ? (ws as { packages?: unknown }).packages : undefined;
  return Array.isArray(packages) ? packages : [];
}

/** `packages:` of pnpm-workspace.yaml, read line by line (a flat list of quoted or bare globs). */
function pnpmPackages(workspaceRoot: string): string[] {
  let text: string;
  try {
    text = readFileSync(join(workspaceRoot, 'pnpm-workspace.yaml'), 'utf8');
  } catch {
    return [];
  }
  const out: string[] = [];
  let inPackages = false;
  for (const line of text.split(/\r?\n/)) {
    if (/^packages\s*:/.test(line)) {
      inPackages = true;
      continue;
    }
    if (!inPackages) continue;
    const item = /^\s+-\s*(['"]?)(.+?)\1\s*(#.*)?$/.exec(line);
    if (item?.[2]) out.push(item[2]);
    else if (/^\S/.test(line)) inPackages = false;
  }
  return out;
}

/**
 * The package.json globs of the package manager's workspaces (npm/yarn `workspaces`, pnpm-workspace.yaml's
 * `packages`, lerna.json). Mirrors Nx: a package.json outside these is not a project unless a project.json
 * sits beside it.
 */
function workspaceGlobs(workspaceRoot: string): { positive: string[]; negative: string[] } {
  const pkg = asPackageJson(tryReadJson(join(workspaceRoot, 'package.json')));
  const patterns = npmWorkspaces(pkg.workspaces).filter((p): p is string => typeof p === 'string');
  patterns.push(...pnpmPackages(workspaceRoot));
  const lerna = tryReadJson(join(workspaceRoot, 'lerna.json'));
  if (lerna !== undefined) {
    const packages = (lerna as { packages?: unknown }).packages;
    patterns.push(...(Array.isArray(packages) && packages.length ? packages.map(String) : ['packages/*']));
  }
  const normalize = (p: string) => {
    const clean = p.replace(/^\.\//, '').replace(/\/$/, '');
    return clean.endsWith('package.json') ? clean : posix.join(clean, 'package.json');
  };
  const positive = patterns.filter((p) => !p.startsWith('!')).map(normalize);
  const negative = patterns.filter((p) => p.startsWith('!')).map((p) => normalize(p.slice(1)));
  if (negative.length && !positive.length) positive.push('**/package.json');
  return { positive, negative };
}

/**
 * Names every project Nx would infer from the given package.json and project.json files (paths relative
 * to the workspace root): a project.json's `name` wins, then package.json's `nx.name`, then its `name`.
 * A package.json counts only inside the package manager's workspaces, beside a project.json, or (the root
 * one) when it has an `nx` key, as in Nx.
 */
export function namedProjects(workspaceRoot: string, files: readonly string[]): NamedProjects {
  const normalized = files.map((f) => f.replaceAll('\\', '/'));
  const projectJsons = normalized.filter((f) => posix.basename(f) === 'project.json');
  const packageJsons = normalized.filter((f) => posix.basename(f) === 'package.json');
  const projectJsonRoots = new Set(projectJsons.map((f) => posix.dirname(f)));
  const globs = workspaceGlobs(workspaceRoot);
  const inWorkspaces = (file: string) =>
    globs.positive.some((g) => matchesGlob(file, g)) && !globs.negative.some((g) => matchesGlob(file, g));

  const byRoot = new Map<string, { name: string; source: string }>();
  for (const file of packageJsons) {
    const root = posix.dirname(file);
    const pkg = asPackageJson(tryReadJson(join(workspaceRoot, file)));
    const counted = root === '.' ? pkg.nx !== undefined : inWorkspaces(file) || projectJsonRoots.has(root);
    if (!counted) continue;
    const name = stringOf(pkg.nx?.name) ?? stringOf(pkg.name);
    if (name) byRoot.set(root, { name, source: file });
  }
  for (const file of projectJsons) {
    const name = stringOf(asPackageJson(tryReadJson(join(workspaceRoot, file))).name);
    if (name) byRoot.set(posix.dirname(file), { name, source: file });
  }
  const projects = new Map<string, NamedProject>();
  for (const [root, { name, source }] of [...byRoot].sort(([a], [b]) => a.localeCompare(b))) {
    if (!projects.has(name)) projects.set(name, { root, source });
  }
  return projects;
}

/**
 * Every package.json and project.json under the workspace root, relative to it, as Nx hands them to a
 * plugin (node_modules and dot-directories skipped). For callers that are not given Nx's file list.
 */
export function projectFiles(workspaceRoot: string): string[] {
  const skip = (path: string) => {
    const name = basename(path);
    return name === 'node_modules' || (name.startsWith('.') && name !== '.' && name !== '..');
  };
  return globSync(['**/package.json', '**/project.json'], { cwd: workspaceRoot, exclude: skip })
    .map((f) => f.replaceAll('\\', '/'))
    .sort();
}

// ---------------------------------------------------------------------------------------------
// Resolving the entries of a matrix.

/** One resolved `projects` entry. */
export interface LayerProject {
  /** The entry as written in the matrix (a command project's `name`). */
  entry: string;
  /** The name in results and reports: the project's name, or the normalised path (`./test/l1`). */
  name: string;
  kind: 'name' | 'path' | 'command';
  /** Directory relative to the workspace root, posix, '.' for the root; `../` when a path leaves it. */
  root: string;
  /** Absolute directory. */
  dir: string;
  /** Its vitest config's file name; always set for a path (a path without one is a problem). */
  vitestConfig: string | undefined;
  /** A test command in any language (kind `command`): what to run and where its results are. */
  command?: CommandProjectSpec;
}

export interface ResolveOptions {
  /** Absolute directory project names are looked up in (package manager workspaces, project.json files). */
  workspaceRoot: string;
  /** package.json / project.json files relative to the workspace root (Nx's list); default: found by walking it. */
  files?: readonly string[];
  /** Only these layers (default all). */
  layers?: readonly string[];
}

export interface ResolvedProjects {
  /** Layer id -> its resolved projects, in matrix order (an entry with a problem is left out). */
  layers: Map<string, LayerProject[]>;
  /** Every entry that names nothing usable, located at the entry in the matrix. */
  problems: Problem[];
  /** The named projects of the workspace (empty when every entry is a path). */
  named: NamedProjects;
}

type Resolution = { project: LayerProject } | { problem: string };

function toPosixRoot(workspaceRoot: string, dir: string): string {
  return relative(workspaceRoot, dir).split('\\').join('/') || '.';
}

function resolvePath(entry: string, matrixDir: string, workspaceRoot: string): Resolution {
  const shown = `project path "${entry}"`;
  if (isAbsolute(entry) || entry.startsWith('/')) {
    return {
      problem: `${shown} is absolute: write it relative to the matrix's directory (e.g. ./test/l1) so the matrix works on every machine`,
    };
  }
  const dir = resolve(matrixDir, entry);
  if (!existsSync(dir)) {
    return { problem: `${shown} does not exist (it is relative to the matrix's directory: ${dir})` };
  }
  if (!statSync(dir).isDirectory()) return { problem: `${shown} is not a directory (${dir})` };
  const vitestConfig = vitestConfigIn(dir);
  if (!vitestConfig) {
    return {
      problem: `${shown} holds no vitest config (${VITEST_CONFIGS.join(', ')}): add one, e.g. with defineLayerProject from @faultline/vitest`,
    };
  }
  const root = toPosixRoot(workspaceRoot, dir);
  return { project: { entry, name: projectPathName(entry), kind: 'path', root, dir, vitestConfig } };
}

function resolveName(entry: string, named: NamedProjects, workspaceRoot: string): Resolution {
  const project = named.get(entry);
  if (!project) {
    const names = [...named.keys()].sort();
    const known = names.length
      ? `projects: ${names.slice(0, 12).join(', ')}${names.length > 12 ? `, and ${names.length - 12} more` : ''}`
      : 'the workspace has none';
    return {
      problem:
        `project "${entry}" is not a project of this workspace${didYouMean(entry, names)} (no package.json in the package manager ` +
        `workspaces, nor a project.json, has that name; ${known}). To name a directory, write a path: ./test/l1`,
    };
  }
  const dir = join(workspaceRoot, project.root);
  return {
    project: { entry, name: entry, kind: 'name', root: project.root, dir, vitestConfig: vitestConfigIn(dir) },
  };
}

function resolveCommand(spec: CommandProjectSpec, matrixDir: string, workspaceRoot: string): Resolution {
  const shown = `command project "${spec.name}": cwd "${spec.cwd}"`;
  if (isAbsolute(spec.cwd)) {
    return {
      problem: `${shown} is absolute: write it relative to the matrix's directory so the matrix works anywhere`,
    };
  }
  const dir = resolve(matrixDir, spec.cwd);
  if (!existsSync(dir) || !statSync(dir).isDirectory()) {
    return { problem: `${shown} is not a directory (it is relative to the matrix's directory: ${dir})` };
  }
  const root = toPosixRoot(workspaceRoot, dir);
  return {
    project: { entry: spec.name, name: spec.name, kind: 'command', root, dir, vitestConfig: undefined, command: spec },
  };
}

/**
 * Resolves every `projects` entry of the matrix's layers to a directory: a path relative to the matrix's
 * directory (it must hold a vitest config), else a project name of the workspace. Two entries that reach
 * the same directory are a problem (a directory's tests belong to one column, once).
 */
export function resolveLayerProjects(loaded: LoadedMatrix, options: ResolveOptions): ResolvedProjects {
  const matrixDir = resolve(loaded.file, '..');
  const entries = Object.entries(loaded.matrix.layers).filter(([id]) => !options.layers || options.layers.includes(id));
  const needsNames = entries.some(([, layer]) =>
    layer.projects.some((p) => typeof p === 'string' && !isProjectPath(p)),
  );
  // Walking the tree for names costs time; a matrix of paths alone (a single-package project) skips it.
  const named =
    needsNames || options.files
      ? namedProjects(options.workspaceRoot, options.files ?? projectFiles(options.workspaceRoot))
      : new Map<string, NamedProject>();
  const layers = new Map<string, LayerProject[]>();
  const problems: Problem[] = [];
  const seen = new Map<string, { layer: string; entry: string }>();
  for (const [layerId, layer] of entries) {
    const resolved: LayerProject[] = [];
    for (const [i, spec] of layer.projects.entries()) {
      const entry = typeof spec === 'string' ? spec : spec.name;
      const r =
        typeof spec !== 'string'
          ? resolveCommand(spec, matrixDir, options.workspaceRoot)
          : isProjectPath(spec)
            ? resolvePath(spec, matrixDir, options.workspaceRoot)
            : resolveName(spec, named, options.workspaceRoot);
      // Commands may share a directory (two test binaries of one crate); their names must differ.
      const key = 'project' in r ? (r.project.command ? `command:${r.project.name}` : r.project.dir) : undefined;
      const first = key === undefined ? undefined : seen.get(key);
      const where = first && (first.layer === layerId ? 'this layer' : `layer "${first.layer}"`);
      const problem =
        'problem' in r
          ? r.problem
          : first && typeof spec !== 'string'
            ? `command project name "${entry}" is already used in ${where}: each command project needs its own name`
            : first
              ? `project "${entry}" is the directory ${r.project.root} of "${first.entry}", already in ` +
                `${where}: a directory's tests run once, in one layer`
              : undefined;
      if (problem !== undefined || !('project' in r)) {
        problems.push({
          ...loaded.locate(['layers', layerId, 'projects', i]),
          message: `layer "${layerId}": ${problem}`,
        });
        continue;
      }
      seen.set(key ?? r.project.dir, { layer: layerId, entry });
      resolved.push(r.project);
    }
    layers.set(layerId, resolved);
  }
  return { layers, problems, named };
}
