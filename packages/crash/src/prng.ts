// Seeded randomness for kill timing. A tiny hand-written PRNG (mulberry32) so that a run's
// FAULTLINE_SEED replays the same delays on every Node version, unlike Math.random.

/** The seed used when FAULTLINE_SEED is unset: fixed, so an unseeded run is still reproducible. */
export const DEFAULT_SEED = 0x5eed;

/** The environment variable the runner sets to the run's seed (a decimal integer). */
export const SEED_ENV = 'FAULTLINE_SEED';

export interface Rng {
  /** A float in [0, 1). */
  next(): number;
  /** An integer in [min, max], both inclusive. */
  int(min: number, max: number): number;
}

/** The run's seed from FAULTLINE_SEED, or DEFAULT_SEED when unset. */
export function seedFromEnv(env: NodeJS.ProcessEnv = process.env): number {
  const raw = env[SEED_ENV];
  if (raw === undefined || raw.trim() === '') return DEFAULT_SEED;
  if (!/^-?\d+$/.test(raw.trim())) {
    throw new Error(`${SEED_ENV} must be a decimal integer, got '${raw}'; unset it or pass e.g. ${SEED_ENV}=42`);
  }
  return Number(BigInt.asUintN(32, BigInt(raw.trim())));
}

/** Mixes labels into a seed (FNV-1a), so wave 3 of a run gets its own stream independent of wave 2's draws. */
export function deriveSeed(seed: number, ...labels: ReadonlyArray<string | number>): number {
  let h = (0x811c9dc5 ^ seed) >>> 0;
  for (const label of labels) {
    for (const ch of `/${label}`) {
      h ^= ch.charCodeAt(0);
      h = Math.imul(h, 0x01000193) >>> 0;
    }
  }
  return h >>> 0;
}

export function createRng(seed: number): Rng {
  let state = seed >>> 0;
  const next = (): number => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  return {
    next,
    int(min: number, max: number): number {
      if (!Number.isInteger(min) || !Number.isInteger(max) || max < min) {
        throw new Error(`Rng.int(min, max) needs integers with min <= max, got (${min}, ${max})`);
      }
      return min + Math.floor(next() * (max - min + 1));
    },
  };
}
