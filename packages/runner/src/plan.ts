import { dirname, resolve } from 'node:path';
import { durationMs, type LoadedMatrix, MatrixError, type Problem } from '@faultline/matrix';
import { hasVitestConfig, type WorkspaceProject, workspaceProjects } from './workspace.ts';

export interface LayerPlan {
  layer: string;
  title: string;
  projects: WorkspaceProject[];
  timeoutMs: number;
  backend?: string;
}

export interface RunPlan {
  root: string;
  matrixFile: string;
  layers: LayerPlan[];
}

export interface PlanOptions {
  /** Layers to run; default all, in matrix order. */
  layers?: readonly string[];
}

/** Resolves every layer's projects to workspace directories; unknown names are problems at their line. */
export function planRun(loaded: LoadedMatrix, options: PlanOptions = {}): RunPlan {
  const { matrix, file } = loaded;
  const root = dirname(resolve(file));
  const all = workspaceProjects(root);
  const problems: Problem[] = [];
  const layers: LayerPlan[] = [];
  for (const [layer, spec] of Object.entries(matrix.layers)) {
    if (options.layers && !options.layers.includes(layer)) continue;
    const projects: WorkspaceProject[] = [];
    spec.projects.forEach((name, i) => {
      const project = all.get(name);
      if (!project) {
        const known = [...all.keys()].sort().join(', ') || 'none';
        problems.push({
          ...loaded.locate(['layers', layer, 'projects', i]),
          message: `project "${name}" is not a workspace package (workspace packages: ${known})`,
        });
      } else if (!hasVitestConfig(project.dir)) {
        problems.push({
          ...loaded.locate(['layers', layer, 'projects', i]),
          message: `project "${name}" (${project.relDir}) has no vitest.config.ts`,
        });
      } else projects.push(project);
    });
    layers.push({
      layer,
      title: spec.title,
      projects,
      timeoutMs: durationMs(spec.timeout),
      ...(spec.backend ? { backend: spec.backend } : {}),
    });
  }
  if (problems.length) throw new MatrixError(problems);
  return { root, matrixFile: resolve(file), layers };
}
