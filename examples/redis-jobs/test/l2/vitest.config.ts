import { defineLayerProject } from '@faultline/vitest';
import { defineConfig } from 'vitest/config';

// Real processes and signals: one test file at a time (the layer default).
export default defineConfig(defineLayerProject({ layer: 'l2', root: import.meta.dirname, include: ['*.test.ts'] }));
