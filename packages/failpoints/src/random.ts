// Probabilistic actions draw from the run's seed through @faultline/evidence's seed module: one
// reading of FAULTLINE_SEED (unset: a fixed default; not a decimal integer: an error) and one PRNG
// for every fault library, so a run replays with its seed.
import { createRng, deriveSeed, runSeed } from '@faultline/evidence';

/** A source of floats in [0, 1). */
export type Random = () => number;

let seed: number | undefined;

/**
 * Sets the run seed (FAULTLINE_SEED sets it on first use). It applies to failpoints configured
 * afterwards: each point draws from its own stream derived from (seed, name), so a point's pattern
 * does not depend on other points' traffic.
 */
export function setSeed(value: number): void {
  if (!Number.isSafeInteger(value)) throw new RangeError(`setSeed(${value}): the seed must be a safe integer`);
  seed = Number(BigInt.asUintN(32, BigInt(value)));
}

/** The seed in use, to print with a failure so the run can be replayed. */
export function getSeed(): number {
  seed ??= runSeed();
  return seed;
}

/** A fresh stream for one failpoint configuration, derived from (seed, name). */
export function streamFor(name: string): Random {
  return createRng(deriveSeed(getSeed(), 'failpoint', name)).next;
}
