import { join } from 'node:path';
import { defineLayerProject } from '@faultline/vitest';
import { defineConfig } from 'vitest/config';

// faultline's own matrix, not the reference system's matrix.yaml above this directory.
export default defineConfig(
  defineLayerProject({
    layer: 'self',
    root: import.meta.dirname,
    matrix: join(import.meta.dirname, '..', '..', 'faultline.matrix.yaml'),
  }),
);
