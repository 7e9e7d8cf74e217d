import type { Cell, CellState, Coverage, LayerResults, Matrix, Verdict } from '@faultline/matrix';

const MAX_BYTES = 1024 * 1024 - 4096; // GitHub's step summary limit is 1 MiB
const MAX_LIST = 200;

export const stateIcon: Record<CellState, string> = {
  covered: '✅',
  failed: '❌',
  flaky: '🎲',
  vacuous: '⚠️',
  skipped: '⏭️',
  'not-run': '⏸️',
  missing: '🚫',
  planned: '🗓️',
  'not-required': '·',
};

/** Failures first, then what is merely not covered; covered last. */
export const stateOrder: CellState[] = [
  'failed',
  'missing',
  'skipped',
  'flaky',
  'vacuous',
  'not-run',
  'planned',
  'covered',
  'not-required',
];

const esc = (s: string) => s.replace(/[|\\`*_[\]<>]/g, (c) => `\\${c}`).replace(/[\r\n]+/g, ' ');

/** reports/matrix.md: verdict, counts, what is not covered (failures first), then the grid; under 1 MiB. */
export function matrixMarkdown(
  matrix: Matrix,
  coverage: Coverage,
  verdict: Verdict,
  runs: readonly LayerResults[],
): string {
  const lines: string[] = [];
  lines.push(`# faultline matrix: ${esc(matrix.system)}`, '');
  lines.push(`**Gate: ${verdict.passed ? 'passed ✅' : `failed ❌ (${verdict.failures.length} reasons)`}**`, '');
  const layerRows = coverage.layers.map((layer) => {
    const r = runs.filter((x) => x.layer === layer);
    if (!r.length) return `| ${layer} | ${esc(matrix.layers[layer]?.title ?? '')} | not run | | | |`;
    const tests = r.flatMap((x) => x.tests);
    const failed = tests.filter((t) => t.state === 'failed').length;
    const seeds = [...new Set(r.map((x) => x.run.seed))].join(', ');
    const backend = r.find((x) => x.run.backend)?.run.backend ?? '';
    const secs = (r.reduce((s, x) => s + x.run.durationMs, 0) / 1000).toFixed(1);
    return `| ${layer} | ${esc(matrix.layers[layer]?.title ?? '')} | ${tests.length} tests, ${failed} failed | ${secs}s | ${seeds} | ${backend} |`;
  });
  lines.push('| layer | title | tests | time | seed | backend |', '|---|---|---|---|---|---|', ...layerRows, '');
  lines.push(
    `| ${stateOrder.map((s) => `${stateIcon[s]} ${s}`).join(' | ')} |`,
    `|${stateOrder.map(() => '---').join('|')}|`,
    `| ${stateOrder.map((s) => coverage.counts[s]).join(' | ')} |`,
    '',
  );

  if (verdict.failures.length || verdict.warnings.length) {
    lines.push('## Gate', '');
    for (const f of verdict.failures.slice(0, MAX_LIST)) lines.push(`- ❌ ${esc(f.message)}`);
    if (verdict.failures.length > MAX_LIST)
      lines.push(`- … and ${verdict.failures.length - MAX_LIST} more failures (see matrix.json)`);
    for (const w of verdict.warnings.slice(0, MAX_LIST)) lines.push(`- ⚠️ ${esc(w.message)}`);
    if (verdict.warnings.length > MAX_LIST) lines.push(`- … and ${verdict.warnings.length - MAX_LIST} more warnings`);
    lines.push('');
  }

  const open = coverage.cells
    .filter((c) => c.required && c.state !== 'covered')
    .sort((a, b) => stateOrder.indexOf(a.state) - stateOrder.indexOf(b.state));
  if (open.length) {
    lines.push('## Not covered', '', '| issue | layer | state | reason |', '|---|---|---|---|');
    for (const c of open.slice(0, MAX_LIST)) {
      lines.push(`| ${esc(c.issue)} | ${c.layer} | ${stateIcon[c.state]} ${c.state} | ${esc(c.reason ?? '')} |`);
    }
    if (open.length > MAX_LIST) lines.push(`| … | | | ${open.length - MAX_LIST} more (see matrix.json) |`);
    lines.push('');
  }

  const byIssue = new Map<string, Cell[]>();
  for (const c of coverage.cells) {
    const list = byIssue.get(c.issue);
    if (list) list.push(c);
    else byIssue.set(c.issue, [c]);
  }
  const grid = [
    '## Matrix',
    '',
    `| issue | severity | ${coverage.layers.join(' | ')} |`,
    `|---|---|${coverage.layers.map(() => '---').join('|')}|`,
  ];
  for (const issue of matrix.issues) {
    const cells = byIssue.get(issue.id) ?? [];
    const row = coverage.layers.map((layer) => {
      const c = cells.find((x) => x.layer === layer);
      if (!c || c.state === 'not-required') return c?.tests.length ? `· ${c.tests.length}` : '·';
      const n = c.tests.length ? ` ${c.tests.length}` : '';
      return `${stateIcon[c.state]}${n}`;
    });
    grid.push(`| ${esc(issue.id)} | ${issue.severity} | ${row.join(' | ')} |`);
  }
  let text = `${lines.join('\n')}\n`;
  const legend = `\n${stateOrder.map((s) => `${stateIcon[s]} ${s}`).join(' · ')}; numbers are tests per cell.\n`;
  let gridText = `${grid.join('\n')}\n`;
  const room = MAX_BYTES - Buffer.byteLength(text) - Buffer.byteLength(legend);
  if (Buffer.byteLength(gridText) > room) {
    // Keep whole rows within the budget and say what was cut.
    let kept = grid.slice(0, 4);
    let size = Buffer.byteLength(kept.join('\n'));
    for (const row of grid.slice(4)) {
      const add = Buffer.byteLength(row) + 1;
      if (size + add > room - 200) break;
      kept = [...kept, row];
      size += add;
    }
    gridText = `${kept.join('\n')}\n\n… ${grid.length - kept.length} more issues: see matrix.html or matrix.json.\n`;
  }
  text += gridText + legend;
  return text;
}
