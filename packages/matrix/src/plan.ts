// A run's plan: each layer of the matrix with its projects resolved to directories (or test commands),
// its timeout and backend. Matrix-only, so `faultline validate` checks it without loading the runner.
import { dirname, resolve } from 'node:path';
import type { LoadedMatrix } from './loader.ts';
import { MatrixError } from './problem.ts';
import { resolveLayerProjects, VITEST_CONFIGS } from './projects.ts';
import { type CommandProjectSpec, durationMs } from './schema.ts';

/** A directory a layer runs vitest in, or a test command, and the name its results carry. */
export interface PlannedProject {
  /** The project's name, or for a path entry the normalised path (`./test/l1`). */
  name: string;
  /** Absolute directory. */
  dir: string;
  /** Directory relative to the matrix's directory, posix, '.' for the root. */
  relDir: string;
  /** Set for a test command in any language (run by the runner's command projects instead of vitest). */
  command?: CommandProjectSpec;
}

export interface LayerPlan {
  layer: string;
  title: string;
  projects: PlannedProject[];
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
 * workspace beside it; the rule is resolveLayerProjects's, shared with the Nx plugin). Entries that name
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
    const projects: PlannedProject[] = [];
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
