import { extname } from 'node:path';
import { fileURLToPath } from 'node:url';
import { didYouMean, type LayerKind, layerKind } from '@faultline/matrix';
import type { ViteUserConfig } from 'vitest/config';
import { findMatrix, loadIssueTags } from './tags.ts';

export interface LayerProjectOptions {
  /** Matrix layer this project serves, e.g. "l1". Checked against the matrix. */
  layer: string;
  /** The project's directory; pass `import.meta.dirname`. Default: the current directory. */
  root?: string;
  /** Path to matrix.yaml. Default: FAULTLINE_MATRIX, else the nearest one above `root`. */
  matrix?: string;
  /** Test files, relative to root. Default: `test/**\/*.test.ts`. */
  include?: string[];
  /** Per-test timeout in ms. Default by the layer's kind: 10 s for unit, 60 s for process and network. */
  testTimeout?: number;
  /** Run test files in parallel. Default by the layer's kind: true for unit; false for process and network (real processes, ports, RSS). */
  fileParallelism?: boolean;
  /** Extra setup files run after faultline's own. */
  setupFiles?: string[];
}

// Beside this module: `.ts` when the workspace runs sources, `.js` when installed (built).
const setupFile = fileURLToPath(new URL(`./setup${extname(import.meta.url)}`, import.meta.url));

// Defaults by what a layer's tests do, never by where the layer sits in the matrix: reordering
// columns must not run Toxiproxy suites in parallel with unit-test timeouts.
const KIND_DEFAULTS: Readonly<Record<LayerKind, { timeout: number; fileParallelism: boolean }>> = {
  unit: { timeout: 10_000, fileParallelism: true },
  process: { timeout: 60_000, fileParallelism: false },
  network: { timeout: 60_000, fileParallelism: false },
};

/**
 * The vitest config of one layered suite: issue tags from the matrix with `strictTags`,
 * test locations for reports, and the evidence setup file.
 */
export function defineLayerProject(options: LayerProjectOptions): ViteUserConfig {
  const root = options.root ?? process.cwd();
  const matrixFile = options.matrix ?? findMatrix(root);
  const { matrix, tags } = loadIssueTags(matrixFile);
  const layer = matrix.layers[options.layer];
  if (!layer) {
    throw new Error(
      `${matrixFile}: defineLayerProject({ layer: "${options.layer}" }) names no layer of the matrix${didYouMean(options.layer, Object.keys(matrix.layers))} (layers: ${Object.keys(matrix.layers).join(', ')})`,
    );
  }
  const defaults = KIND_DEFAULTS[layerKind(options.layer, layer)];
  const timeout = options.testTimeout ?? defaults.timeout;
  return {
    test: {
      root,
      include: options.include ?? ['test/**/*.test.ts'],
      tags,
      strictTags: true,
      includeTaskLocation: true,
      setupFiles: [setupFile, ...(options.setupFiles ?? [])],
      testTimeout: timeout,
      hookTimeout: timeout,
      fileParallelism: options.fileParallelism ?? defaults.fileParallelism,
    },
  };
}
