// The plan of a run is @faultline/matrix's (`faultline validate` checks it without loading the runner);
// the runner's modules take its types from here.
export type { LayerPlan, PlannedProject, PlanOptions, RunPlan } from '@faultline/matrix';
export { planRun } from '@faultline/matrix';
