import { readFileSync } from 'node:fs';
import { basename, join, matchesGlob, posix } from 'node:path';

/** Where a project lives and how its name was found, for messages. */
export interface WorkspaceProject {
  /** Project root relative to the workspace root, posix separators, '.' for the root. */
  root: string;
  /** The file that names the project (`package.json` or `project.json`), relative to the workspace root. */
  source: string;
}

/** Project name -> where it is, as Nx's own package.json and project.json inference would name them. */
export type WorkspaceProjects = ReadonlyMap<string, WorkspaceProject>;

interface PackageJson {
  name?: unknown;
  nx?: { name?: unknown };
  workspaces?: unknown;
  dependencies?: unknown;
  devDependencies?: unknown;
}

export function readJson(file: string): unknown {
  return JSON.parse(readFileSync(file, 'utf8'));
}

function tryReadJson(file: string): unknown {
  try {
    return readJson(file);
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

/**
 * The package.json globs of the package manager's workspaces (npm/yarn `workspaces`, pnpm-workspace.yaml's
 * `packages`, lerna.json). Mirrors Nx's package.json inference: a package.json outside these is not a
 * project unless a project.json sits beside it.
 */
function workspaceGlobs(workspaceRoot: string): { positive: string[]; negative: string[] } {
  const patterns: string[] = [];
  const pkg = asPackageJson(tryReadJson(join(workspaceRoot, 'package.json')));
  const ws = pkg.workspaces;
  const wsList = Array.isArray(ws) ? ws : asPackageJsonWorkspaces(ws);
  patterns.push(...wsList.filter((p): p is string => typeof p === 'string'));
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

function asPackageJsonWorkspaces(ws: unknown): unknown[] {
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
 * Names every project Nx would infer from the given package.json and project.json files (paths relative to
 * the workspace root, as Nx hands them to a plugin): a project.json's `name` wins, then package.json's
 * `nx.name`, then its `name`. A package.json counts only inside the package manager's workspaces, beside a
 * project.json, or (the root one) when it has an `nx` key, as in Nx.
 */
export function workspaceProjects(workspaceRoot: string, files: readonly string[]): WorkspaceProjects {
  const projectJsons = files.filter((f) => posix.basename(f) === 'project.json');
  const packageJsons = files.filter((f) => posix.basename(f) === 'package.json');
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
  const projects = new Map<string, WorkspaceProject>();
  for (const [root, { name, source }] of byRoot) {
    if (!projects.has(name)) projects.set(name, { root, source });
  }
  return projects;
}

/**
 * The name Nx gives (or we give) the project at `root`: the one found in the workspace, else the name in
 * `root/package.json` (Nx only infers the root package.json as a project when it has an `nx` key, so the
 * plugin creates that project itself), else the directory's name.
 */
export function nameOfRoot(workspaceRoot: string, projects: WorkspaceProjects, root: string): string {
  for (const [name, project] of projects) if (project.root === root) return name;
  const pkg = asPackageJson(tryReadJson(join(workspaceRoot, root, 'package.json')));
  return stringOf(pkg.nx?.name) ?? stringOf(pkg.name) ?? basename(join(workspaceRoot, root));
}

/** Whether the root package.json declares `name` as a (dev) dependency, i.e. it comes from the registry. */
export function rootDeclares(workspaceRoot: string, name: string): boolean {
  const pkg = asPackageJson(tryReadJson(join(workspaceRoot, 'package.json')));
  return [pkg.dependencies, pkg.devDependencies].some(
    (deps) => deps !== null && typeof deps === 'object' && Object.hasOwn(deps, name),
  );
}
