#!/usr/bin/env node
// Plain-JS launcher: one clear line on an old Node; on a Node that has TypeScript stripping or
// node:sqlite only behind a flag (22.12), the same command again with those flags; then the CLI.
import { missingFlags, reexecWith, requireNode } from '@faultline/evidence/node-guard';

requireNode('media-cache');
// The daemon runs from its TypeScript sources: Node's compile cache keeps their stripped, compiled
// form on disk, which cuts a start from ~1.1 s to ~0.3 s (the suites start many). The variable carries
// it through the re-exec below; a directory that cannot be used only turns the cache off (a status, no throw).
const { enableCompileCache } = await import('node:module');
const { tmpdir } = await import('node:os');
process.env.NODE_COMPILE_CACHE ??= `${tmpdir()}/faultline-compile-cache`;
enableCompileCache?.(process.env.NODE_COMPILE_CACHE);
if (!(await reexecWith(missingFlags({ typescript: true, sqlite: true })))) await import('../src/cli.ts');
