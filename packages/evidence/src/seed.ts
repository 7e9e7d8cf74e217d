// The run's seed, read one way for every fault library, and the one PRNG they draw from. Replay is a
// promise of faultline: the same FAULTLINE_SEED gives the same failpoint patterns, kill timing and
// toxicity. mulberry32 is written here on purpose: ten lines, a 32-bit state trivial to seed and replay,
// the same numbers on every Node version (unlike Math.random), and far more quality than "fire 30% of
// the time" needs; no package is worth a dependency for that.

/** The environment variable the runner sets to the run's seed (a decimal integer). */
export const SEED_ENV = 'FAULTLINE_SEED';

/** The seed when FAULTLINE_SEED is unset: fixed, so a run outside faultline is reproducible too. */
export const DEFAULT_SEED = 0x5eed;

/** A seed that is not a decimal integer: says where it came from and what to write instead. */
export class SeedError extends Error {
  readonly kind = 'invalid-seed';
}

/**
 * A seed from text: a decimal integer (negative and 64-bit values are reduced to 32 bits, as the seed
 * state is 32 bits). `where` names the source in the error (the variable, a flag).
 */
export function parseSeed(raw: string, where: string = SEED_ENV): number {
  const text = raw.trim();
  if (!/^-?\d{1,20}$/.test(text)) {
    throw new SeedError(`${where} must be a decimal integer, got '${raw}'; unset it or pass e.g. ${where}=42`);
  }
  return Number(BigInt.asUintN(32, BigInt(text)));
}

/** The run's seed: FAULTLINE_SEED when set, else DEFAULT_SEED; anything but a decimal integer throws SeedError. */
export function runSeed(env: NodeJS.ProcessEnv = process.env): number {
  const raw = env[SEED_ENV];
  return raw === undefined || raw.trim() === '' ? DEFAULT_SEED : parseSeed(raw);
}

/**
 * Mixes labels into a seed (FNV-1a), so each consumer (a failpoint by name, kill wave 3, the Toxiproxy
 * server) gets its own stream, independent of how many numbers the others drew.
 */
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

export interface Rng {
  /** A float in [0, 1). */
  next(): number;
  /** An integer in [min, max], both inclusive. */
  int(min: number, max: number): number;
}

/** mulberry32 seeded with `seed` (32 bits). */
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
        throw new RangeError(`Rng.int(min, max) needs integers with min <= max, got (${min}, ${max})`);
      }
      return min + Math.floor(next() * (max - min + 1));
    },
  };
}
