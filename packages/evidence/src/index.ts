export type { EvidenceSink, EvidenceValue, FaultEvidence, FaultEvidenceInput } from './evidence.ts';
export {
  actedOn,
  captureEvidence,
  EvidenceLog,
  evidenceKey,
  isRecordingEvidence,
  MAX_EVIDENCE_ENTRIES,
  recordFault,
  recordNoEffect,
  setEvidenceSink,
} from './recorder.ts';
export { reportCapability } from './run-info.ts';
