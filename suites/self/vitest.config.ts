import { join } from 'node:path';
import { defineLayerProject } from '@faultline/vitest';
import { defineConfig } from 'vitest/config';

// faultline's own matrix, not the reference system's matrix.yaml above this directory.
export default defineConfig(
  defineLayerProject({
    layer: 'self',
    root: import.meta.dirname,
    matrix: join(import.meta.dirname, '..', '..', 'faultline.matrix.yaml'),
    // Each test starts the CLI on a fixture project once or twice (a vitest start each): slow on a loaded
    // machine, and every wait inside the tests is bounded on its own.
    testTimeout: 180_000,
  }),
);
