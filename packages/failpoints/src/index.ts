import './startup.ts';

export type { WaitForHitOptions } from './control.ts';
export { cfg, cfgCallback, count, list, remove, waitForHit } from './control.ts';
export type { OnReturn } from './failpoint.ts';
export { FailpointError, FailpointPanic, failpoint, failpointAsync, setLogger } from './failpoint.ts';
export type { ControlServer } from './http.ts';
export { parseControlAddress, startHttpControl } from './http.ts';
export type { Action, Task } from './parse.ts';
export { FailpointConfigError, parseSpec } from './parse.ts';
export { getSeed, setSeed } from './random.ts';
export type { FailSequence } from './registry.ts';
export { failSequence, hasFailpoints, setFailpointsEnabled } from './registry.ts';
export type { FailpointSet, FailScenarioOptions, ScenarioOptions } from './scenario.ts';
export { Failpoints, FailScenario, scenario } from './scenario.ts';
