import { defineLayerProject } from '@faultline/vitest';
import { defineConfig } from 'vitest/config';

export default defineConfig(defineLayerProject({ layer: 'l3', root: import.meta.dirname, include: ['*.test.ts'] }));
