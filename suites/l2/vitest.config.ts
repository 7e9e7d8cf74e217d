import { defineLayerProject } from '@faultline/vitest';
import { defineConfig } from 'vitest/config';

// Real processes, ports and RSS measurements: one test file at a time.
export default defineConfig(defineLayerProject({ layer: 'l2', root: import.meta.dirname }));
