import { join } from 'node:path';
import { type CommandProjectSpec, namedProjects, projectFiles } from '@faultline/matrix';

/** A directory the runner runs vitest in, and the name its results carry. */
export interface WorkspaceProject {
  /** The project's name, or for a path entry the normalised path (`./test/l1`). */
  name: string;
  /** Absolute directory. */
  dir: string;
  /** Directory relative to the matrix's directory, posix, '.' for the root. */
  relDir: string;
  /** Set for a test command in any language (run by command-project.ts instead of vitest). */
  command?: CommandProjectSpec;
}

/**
 * The named projects of the workspace at `root` (package manager workspaces and project.json files, as
 * Nx names them; see @faultline/matrix's resolveLayerProjects, which the runner and the Nx plugin share).
 */
export function workspaceProjects(root: string): Map<string, WorkspaceProject> {
  const projects = new Map<string, WorkspaceProject>();
  for (const [name, p] of namedProjects(root, projectFiles(root))) {
    projects.set(name, { name, dir: join(root, p.root), relDir: p.root });
  }
  return projects;
}
