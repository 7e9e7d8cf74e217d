export type { EvidenceValue, FaultEvidence, FaultEvidenceInput } from '@faultline/evidence';
export { bindEvidence, evidenceTarget, isRecordingEvidence, recordFault, reportCapability } from '@faultline/evidence';
export type { FaultlineAttempt, FaultlineTaskMeta } from './meta.ts';
export type { LayerProjectOptions } from './project.ts';
export { defineLayerProject } from './project.ts';
export type { FaultlineReporterOptions, ReporterEvent } from './reporter.ts';
export { FaultlineReporter } from './reporter.ts';
export { findMatrix, issueTags, loadIssueTags } from './tags.ts';
