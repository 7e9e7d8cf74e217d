import { createRng, deriveSeed, parseSeed, runSeed } from '@faultline/evidence';

/**
 * The server's random source (toxicity rolls, jitter, slicer splits), from @faultline/evidence's seed
 * module like every faultline fault library: the seed option (a number, or the `-seed` flag's text),
 * else env FAULTLINE_SEED, else a fixed default. A run that opens connections and applies toxics in
 * the same order replays the same choices.
 */
export function createRandom(seed?: number | string): () => number {
  const value = typeof seed === 'number' ? seed : typeof seed === 'string' ? parseSeed(seed, '-seed') : runSeed();
  return createRng(deriveSeed(value, 'toxiproxy')).next;
}
