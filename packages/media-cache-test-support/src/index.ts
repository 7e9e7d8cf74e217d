// Test helpers shared by media-cache's unit tests and the l1, l2 and l3 suites. Each suite keeps
// what is its own (its cleanup registry, how it starts media-cache, FAULTLINE_BREAK) in its helpers.ts.
export { type ChunkFile, listChunkFiles } from './chunk-files.ts';
export { MEDIA_CACHE_BIN, type Readiness, readiness, serveArgs, spawnDaemon } from './daemon-bin.ts';
export { controlRequest, type HttpResult, httpRequest, json, type RequestOptions } from './http-request.ts';
export { KiB, MiB, mediaBytes, mediaPieces, sha256 } from './media.ts';
export { type Fetched, type GetOptions, getObserved } from './observed-get.ts';
export { diskFiles, MEMORY_MTIME_MS, memoryFiles, type OriginFile, type OriginFiles } from './origin-files.ts';
export {
  type OriginMode,
  type OriginRequest,
  refusedPort,
  StaticOrigin,
  type StaticOriginOptions,
} from './static-origin.ts';
export { cleanupTemps, tempDir } from './temp-dirs.ts';
export { sleep, waitFor } from './wait.ts';
