import { dirname, resolve } from 'node:path';
import { durationMs, type LoadedMatrix, MatrixError, resolveLayerProjects, VITEST_CONFIGS } from '@faultline/matrix';
import type { WorkspaceProject } from './workspace.ts';

export interface LayerPlan {
  layer: string;
  title: string;
  projects: WorkspaceProject[];
  timeoutMs: number;
  backend?: string;
  /** The layer's external Toxiproxy API URL (`toxiproxyUrl`), passed to its tests as FAULTLINE_TOXIPROXY_URL. */
  toxiproxyUrl?: string;
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

/**
 * Resolves every layer's projects to directories (paths relative to the matrix, or names of the
 * workspace beside it; the rule is @faultline/matrix's, shared with the Nx plugin). Entries that name
 * nothing, or a directory without a vitest config, are problems at their line.
 */
export function planRun(loaded: LoadedMatrix, options: PlanOptions = {}): RunPlan {
  const { matrix, file } = loaded;
  const root = dirname(resolve(file));
  const resolved = resolveLayerProjects(loaded, {
    workspaceRoot: root,
    ...(options.layers ? { layers: options.layers } : {}),
  });
  const problems = [...resolved.problems];
  const layers: LayerPlan[] = [];
  for (const [layer, found] of resolved.layers) {
    const spec = matrix.layers[layer]!;
    const projects: WorkspaceProject[] = [];
    for (const p of found) {
      if (p.command) {
        // A test command in another language: no vitest config, its results are read from a file or stdout.
        projects.push({ name: p.name, dir: p.dir, relDir: p.root, command: p.command });
      } else if (p.vitestConfig === undefined) {
        // A path without a config is already a problem; a named project is one only when run.
        problems.push({
          ...loaded.locate(['layers', layer, 'projects', spec.projects.indexOf(p.entry)]),
          message: `layer "${layer}": project "${p.entry}" (${p.root}) has no vitest config (${VITEST_CONFIGS.join(', ')})`,
        });
      } else projects.push({ name: p.name, dir: p.dir, relDir: p.root });
    }
    layers.push({
      layer,
      title: spec.title,
      projects,
      timeoutMs: durationMs(spec.timeout),
      ...(spec.backend ? { backend: spec.backend } : {}),
      ...(spec.toxiproxyUrl ? { toxiproxyUrl: spec.toxiproxyUrl } : {}),
    });
  }
  if (problems.length) throw new MatrixError(problems.sort((a, b) => a.line - b.line || a.col - b.col));
  return { root, matrixFile: resolve(file), layers };
}
