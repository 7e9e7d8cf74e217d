import type { LayerPlan } from './plan.ts';
import { ATTEMPT_ENV } from './reap.ts';

/** What layerEnv reads of the run's options (ExecuteOptions has them all). */
export interface LayerEnvOptions {
  seed: number;
  matrixFile: string;
  root: string;
  backend?: string;
  /** Extra variables for every process, last so they win (FAULTLINE_BREAK under `faultline verify`). */
  env?: Readonly<Record<string, string>>;
}

/**
 * The variables every process of one layer attempt sees, a vitest worker's tests and a command
 * project alike: the seed, the layer, where the matrix and the scratch dir are, the attempt id the
 * reaper finds them by, and the layer-3 backend.
 */
export function layerEnv(
  plan: LayerPlan,
  options: LayerEnvOptions,
  layerRunDir: string,
  attemptId: string,
): Record<string, string> {
  const backend = options.backend ?? process.env.FAULTLINE_L3_BACKEND ?? plan.backend;
  // `faultline run --toxiproxy-url` sets the variable; the matrix layer's `toxiproxyUrl` is the default.
  const toxiproxyUrl = process.env.FAULTLINE_TOXIPROXY_URL || plan.toxiproxyUrl;
  return {
    FAULTLINE_SEED: String(options.seed),
    FAULTLINE_LAYER: plan.layer,
    FAULTLINE_MATRIX: options.matrixFile,
    FAULTLINE_ROOT: options.root,
    FAULTLINE_RUN_DIR: layerRunDir,
    [ATTEMPT_ENV]: attemptId,
    ...(backend ? { FAULTLINE_L3_BACKEND: backend } : {}),
    ...(toxiproxyUrl ? { FAULTLINE_TOXIPROXY_URL: toxiproxyUrl } : {}),
    ...options.env,
  };
}
