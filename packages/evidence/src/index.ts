export type { EvidenceSink, EvidenceValue, FaultEvidence, FaultEvidenceInput } from './evidence.ts';
export {
  captureEvidence,
  EvidenceLog,
  evidenceKey,
  isRecordingEvidence,
  MAX_EVIDENCE_ENTRIES,
  recordFault,
  setEvidenceSink,
} from './recorder.ts';
export { reportCapability } from './run-info.ts';
