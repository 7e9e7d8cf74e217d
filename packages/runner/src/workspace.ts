import { join } from 'node:path';
import { namedProjects, type PlannedProject, projectFiles } from '@faultline/matrix';

/** A project a layer runs: @faultline/matrix's `PlannedProject`, the unit of the run's plan. */
export type WorkspaceProject = PlannedProject;

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
