export { errnoError, isInjectedFault } from './errno.ts';
export type { FaultControl, Faulty, FaultyOptions } from './faulty.ts';
export { faulty } from './faulty.ts';
export type { FsFaultControl, FsFaultRule, FsOp, FsPromises } from './fs.ts';
export { createFaultyFs } from './fs.ts';
export type { FaultMode } from './modes.ts';
export { describeMode, FailAfterN, FailEveryNth, Healthy, PartialRead, ReturnError, Timeout } from './modes.ts';
