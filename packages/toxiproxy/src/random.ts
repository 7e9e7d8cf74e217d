/**
 * The server's random source (toxicity rolls, jitter, slicer splits). With a seed (option
 * or env `FAULTLINE_SEED`) it is a deterministic PRNG, so a run that opens connections and
 * applies toxics in the same order replays the same choices; otherwise `Math.random`.
 */
export function createRandom(seed: number | string | undefined = process.env.FAULTLINE_SEED): () => number {
  if (seed === undefined || seed === '') return Math.random;
  let state = hashSeed(String(seed));
  // mulberry32: tiny, fast and good enough for fault injection choices.
  return () => {
    state = (state + 0x6d2b79f5) | 0;
    let t = Math.imul(state ^ (state >>> 15), 1 | state);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

function hashSeed(text: string): number {
  let h = 2166136261;
  for (let i = 0; i < text.length; i++) h = Math.imul(h ^ text.charCodeAt(i), 16777619);
  return h >>> 0;
}
