// Seeded randomness for probabilistic actions. mulberry32 is hand-written on purpose: it is
// ten lines, fast, has a 32-bit state that is trivial to seed and replay, and statistical
// quality far beyond what a "fire 30% of the time" decision needs; no npm package is worth
// a dependency for that.

/** A source of floats in [0, 1). */
export type Random = () => number;

export function mulberry32(seed: number): Random {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

function initialSeed(): number {
  const env = process.env.FAULTLINE_SEED;
  if (env !== undefined && env.trim() !== '') {
    const n = Number(env);
    if (Number.isSafeInteger(n)) return n;
    process.emitWarning(`FAULTLINE_SEED="${env}" is not a decimal integer; using a random seed`, 'FailpointsWarning');
  }
  return Math.floor(Math.random() * 2 ** 32);
}

let runSeed = initialSeed();

/**
 * Sets the run seed (FAULTLINE_SEED sets it at import). It applies to failpoints
 * configured afterwards: each point draws from its own stream derived from
 * (seed, name), so a point's pattern does not depend on other points' traffic.
 */
export function setSeed(seed: number): void {
  if (!Number.isSafeInteger(seed)) throw new RangeError(`setSeed(${seed}): the seed must be a safe integer`);
  runSeed = seed;
}

/** The seed in use, to print with a failure so the run can be replayed. */
export function getSeed(): number {
  return runSeed;
}

/** A fresh stream for one failpoint configuration: FNV-1a of the name mixed with the seed. */
export function streamFor(name: string): Random {
  let h = 0x811c9dc5;
  for (let i = 0; i < name.length; i++) h = Math.imul(h ^ name.charCodeAt(i), 0x01000193);
  return mulberry32((h ^ runSeed ^ Math.floor(runSeed / 2 ** 32)) >>> 0);
}
