export {
  ATTEMPT_ENV,
  ATTEMPT_LABEL,
  askEngine,
  attemptLabels,
  DEFAULT_ENGINE_SOCKET,
  type EngineAnswer,
  type EngineEndpoint,
  engineEndpoint,
} from './engine.ts';
export type { EvidenceSink, EvidenceValue, FaultEvidence, FaultEvidenceInput } from './evidence.ts';
export type { RecordOptions } from './recorder.ts';
export {
  actedOn,
  bindEvidence,
  captureEvidence,
  EvidenceLog,
  evidenceKey,
  evidenceTarget,
  isRecordingEvidence,
  MAX_EVIDENCE_ENTRIES,
  recordFault,
  recordNoEffect,
  setEvidenceSink,
} from './recorder.ts';
export { reportCapability } from './run-info.ts';
export type { Rng } from './seed.ts';
export { createRng, DEFAULT_SEED, deriveSeed, parseSeed, runSeed, SEED_ENV, SeedError } from './seed.ts';
