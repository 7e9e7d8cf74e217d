#!/usr/bin/env node
// Plain-JS launcher: one clear line on an old Node; on a Node that has TypeScript stripping or
// node:sqlite only behind a flag (22.12), the same command again with those flags; then the CLI.
import { missingFlags, reexecWith, requireNode } from '@faultline/evidence/node-guard';

requireNode('media-cache');
if (!(await reexecWith(missingFlags({ typescript: true, sqlite: true })))) await import('../src/cli.ts');
