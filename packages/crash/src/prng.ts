// Kill timing draws from the run's seed through @faultline/evidence's seed module (one reading of
// FAULTLINE_SEED and one PRNG for every fault library); crash keeps its historical export names.
export type { Rng } from '@faultline/evidence';
export { createRng, DEFAULT_SEED, deriveSeed, runSeed as seedFromEnv, SEED_ENV } from '@faultline/evidence';
