// `@faultline/crash/processes`: the process table alone, for code that kills process trees (the
// runner's layer timeout and interrupt) and must not load the harness (execa, faults, failpoints,
// node:http) at start-up to do it. The same functions as the package's entry point.
export type { ProcStat } from './process-table.ts';
export { isProcessAlive, listProcesses } from './process-table.ts';
