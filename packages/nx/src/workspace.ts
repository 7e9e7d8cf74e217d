import { readFileSync } from 'node:fs';
import { basename, join } from 'node:path';
import { type NamedProject, type NamedProjects, namedProjects } from '@faultline/matrix';

// How names map to projects is @faultline/matrix's rule, shared with `faultline run`; kept under the
// names this package has always exported.

/** Where a project lives and how its name was found, for messages. */
export type WorkspaceProject = NamedProject;

/** Project name -> where it is, as Nx's own package.json and project.json inference would name them. */
export type WorkspaceProjects = NamedProjects;

/**
 * Names every project Nx would infer from the given package.json and project.json files (paths relative
 * to the workspace root, as Nx hands them to a plugin).
 */
export const workspaceProjects: (workspaceRoot: string, files: readonly string[]) => WorkspaceProjects = namedProjects;

interface PackageJson {
  name?: unknown;
  nx?: { name?: unknown };
  dependencies?: unknown;
  devDependencies?: unknown;
}

function readPackageJson(file: string): PackageJson {
  try {
    const value: unknown = JSON.parse(readFileSync(file, 'utf8'));
    return value !== null && typeof value === 'object' ? (value as PackageJson) : {};
  } catch {
    return {};
  }
}

function stringOf(value: unknown): string | undefined {
  return typeof value === 'string' && value.length > 0 ? value : undefined;
}

/**
 * The name Nx gives (or we give) the project at `root`: the one found in the workspace, else the name in
 * `root/package.json` (Nx only infers the root package.json as a project when it has an `nx` key, so the
 * plugin creates that project itself), else the directory's name.
 */
export function nameOfRoot(workspaceRoot: string, projects: WorkspaceProjects, root: string): string {
  for (const [name, project] of projects) if (project.root === root) return name;
  const pkg = readPackageJson(join(workspaceRoot, root, 'package.json'));
  return stringOf(pkg.nx?.name) ?? stringOf(pkg.name) ?? basename(join(workspaceRoot, root));
}

/**
 * The project whose root holds `dir` (posix, relative to the workspace root): the deepest named project
 * that contains it, as Nx assigns a file to a project; else the workspace root.
 */
export function enclosingRoot(projects: WorkspaceProjects, dir: string): string {
  let best = '.';
  for (const { root } of projects.values()) {
    const contains = root === '.' || dir === root || dir.startsWith(`${root}/`);
    if (contains && root.length > best.length) best = root;
  }
  return best;
}

/** The `@faultline/*` packages the root package.json declares (dependencies or devDependencies), sorted. */
export function declaredFaultlinePackages(workspaceRoot: string): string[] {
  const pkg = readPackageJson(join(workspaceRoot, 'package.json'));
  const names = [pkg.dependencies, pkg.devDependencies].flatMap((deps) =>
    deps !== null && typeof deps === 'object' ? Object.keys(deps) : [],
  );
  return [...new Set(names.filter((n) => n.startsWith('@faultline/')))].sort();
}
