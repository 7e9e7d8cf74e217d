/** Edit distance with transpositions (optimal string alignment): `mokcs` is one edit from `mocks`. */
function distance(a: string, b: string): number {
  const d: number[][] = Array.from({ length: a.length + 1 }, (_, i) =>
    Array.from({ length: b.length + 1 }, (_, j) => (i === 0 ? j : j === 0 ? i : 0)),
  );
  const at = (i: number, j: number) => d[i]?.[j] ?? Number.POSITIVE_INFINITY;
  for (let i = 1; i <= a.length; i++) {
    for (let j = 1; j <= b.length; j++) {
      const cost = a[i - 1] === b[j - 1] ? 0 : 1;
      let best = Math.min(at(i - 1, j) + 1, at(i, j - 1) + 1, at(i - 1, j - 1) + cost);
      if (i > 1 && j > 1 && a[i - 1] === b[j - 2] && a[i - 2] === b[j - 1]) best = Math.min(best, at(i - 2, j - 2) + 1);
      (d[i] as number[])[j] = best;
    }
  }
  return at(a.length, b.length);
}

/**
 * The known name closest to a typo (`redis-timout` → `redis-timeout`), or undefined when none is
 * close: at most a third of the longer name's characters differ (so `l4` suggests nothing).
 */
export function nearestName(typo: string, known: Iterable<string>): string | undefined {
  let best: { name: string; d: number } | undefined;
  for (const name of known) {
    const limit = Math.floor(Math.max(typo.length, name.length) / 3);
    // The length difference alone rules most names out before the quadratic distance.
    if (Math.abs(typo.length - name.length) > limit) continue;
    const d = distance(typo.toLowerCase(), name.toLowerCase());
    if (d <= limit && (!best || d < best.d)) best = { name, d };
  }
  return best?.name;
}

/** ` (did you mean \`x\`?)` for a typo with a close known name, else the empty string. */
export function didYouMean(typo: string, known: Iterable<string>): string {
  const near = nearestName(typo, known);
  return near === undefined ? '' : ` (did you mean \`${near}\`?)`;
}
