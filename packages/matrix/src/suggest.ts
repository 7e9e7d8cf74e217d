/**
 * Edit distance with transpositions (optimal string alignment): `mokcs` is one edit from `mocks`. Three
 * rolling rows, and it stops as soon as a whole row exceeds `limit` (the answer is then > limit): a typo
 * is checked against every issue id of a large matrix, so this must not allocate a table per pair.
 */
function distance(a: string, b: string, limit: number): number {
  let before = new Uint16Array(b.length + 1);
  let prev = Uint16Array.from({ length: b.length + 1 }, (_, j) => j);
  let row = new Uint16Array(b.length + 1);
  for (let i = 1; i <= a.length; i++) {
    row[0] = i;
    let rowMin = i;
    for (let j = 1; j <= b.length; j++) {
      const cost = a[i - 1] === b[j - 1] ? 0 : 1;
      let best = Math.min(prev[j]! + 1, row[j - 1]! + 1, prev[j - 1]! + cost);
      if (i > 1 && j > 1 && a[i - 1] === b[j - 2] && a[i - 2] === b[j - 1]) best = Math.min(best, before[j - 2]! + 1);
      row[j] = best;
      rowMin = Math.min(rowMin, best);
    }
    if (rowMin > limit) return limit + 1;
    [before, prev, row] = [prev, row, before];
  }
  return prev[b.length]!;
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
    const d = distance(typo.toLowerCase(), name.toLowerCase(), limit);
    if (d <= limit && (!best || d < best.d)) best = { name, d };
  }
  return best?.name;
}

/** ` (did you mean \`x\`?)` for a typo with a close known name, else the empty string. */
export function didYouMean(typo: string, known: Iterable<string>): string {
  const near = nearestName(typo, known);
  return near === undefined ? '' : ` (did you mean \`${near}\`?)`;
}
