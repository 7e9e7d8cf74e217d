export { errnoError, isInjectedFault } from './errno.ts';
export type { FaultControl, Faulty, FaultyOptions } from './faulty.ts';
export { faulty } from './faulty.ts';
export type { FaultyFsOptions, FsFaultControl, FsFaultRule, FsObserver, FsOp, FsPromises } from './fs.ts';
export { createFaultyFs } from './fs.ts';
export type { FaultMode } from './modes.ts';
export {
  describeMode,
  FailAfterN,
  FailEveryNth,
  FailSpec,
  Healthy,
  PartialRead,
  ReturnError,
  Timeout,
} from './modes.ts';
export type { PowerLossFs, PowerLossFsOptions } from './power-loss.ts';
export { createPowerLossFs, recordPowerLoss } from './power-loss.ts';
export type { PowerLossOp, PowerLossReport } from './power-loss-model.ts';
export { describePowerLoss, PowerLossModel, powerLossActed } from './power-loss-model.ts';
