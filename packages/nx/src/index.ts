/**
 * @faultline/nx: an Nx plugin that infers, from matrix.yaml, a `resilience-<layer>` target on every suite
 * project of each layer and a `resilience-gate` target on the project at the matrix's directory.
 */
export type { FaultlineNxOptions, FaultlineTarget, RunCommandsOptions, TargetInput } from './plugin.ts';
export { BEHAVIOUR_ENV, createNodes, createNodesV2, DEFAULT_OPTIONS, inferTargets, PLUGIN_GLOB } from './plugin.ts';
export type { WorkspaceProject, WorkspaceProjects } from './workspace.ts';
export { workspaceProjects } from './workspace.ts';

/** The plugin's name, as Nx reports it. */
export const name = '@faultline/nx';
