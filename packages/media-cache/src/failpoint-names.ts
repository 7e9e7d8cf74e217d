/**
 * Every failpoint the daemon evaluates (configure with FAILPOINTS="name=spec;…", cfg(), or the
 * failpoints HTTP control). `<id>` is an origin id, `<task>` a supervised task name.
 * `return(ECODE)` throws an error with that errno code at the point.
 */
export const FAILPOINTS = Object.freeze({
  chunkBeforeWrite: 'chunk.before-write',
  chunkAfterOpen: 'chunk.after-open',
  chunkAfterWrite: 'chunk.after-write',
  indexBeforeInsert: 'index.before-insert',
  originRead: 'origin.read',
  originReadById: 'origin.<id>.read',
  healthCheck: 'health.check',
  healthCheckById: 'health.<id>.check',
  scanBatch: 'scan.batch',
  scanBeforeCheckpoint: 'scan.before-checkpoint',
  dbOpen: 'db.open',
  checkpointBeforeRename: 'checkpoint.before-rename',
  actionRun: 'action.run',
  cacheEvict: 'cache.evict',
  taskStart: 'task.<task>',
});
