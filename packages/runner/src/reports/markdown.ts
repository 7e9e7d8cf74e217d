import {
  type Cell,
  type Coverage,
  errorExcerpt,
  type FileError,
  type LayerResults,
  type Matrix,
  plural,
  STATE_ICON,
  STATE_ORDER,
  type TestRecord,
  type Verdict,
  verificationSummary,
} from '@faultline/matrix';

const MAX_BYTES = 1024 * 1024 - 4096; // GitHub's step summary limit is 1 MiB
const MAX_LIST = 200;

/** A cell's state with its pass rate under `run --repeat` ("flaky 7/10") and its quarantine, if any. */
function stateText(c: Cell): string {
  const rate = c.attempts ? ` ${c.attempts.passed}/${c.attempts.total}` : '';
  const q = c.quarantine ? ` (quarantine ${c.quarantine.expired ? 'expired' : 'until'} ${c.quarantine.until})` : '';
  return `${c.state}${rate}${q}`;
}

const esc = (s: string) => s.replace(/[|\\`*_[\]<>]/g, (c) => `\\${c}`).replace(/[\r\n]+/g, ' ');

const MAX_FAILURES = 50;
const FILE_ERROR_LABEL: Record<FileError['kind'], string> = {
  load: 'did not load',
  timeout: 'was killed at the layer timeout',
  crash: 'crashed',
  interrupted: 'was stopped by an interrupt (SIGINT/SIGTERM)',
  unhandled: 'threw an unhandled error',
};

/** Text for inline HTML (a <summary>): well-formed, no control characters, `& < > " '` escaped. */
const html = (s: string) =>
  s
    .toWellFormed()
    .replace(/[\u0000-\u001f\u007f]/g, ' ')
    .replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`)
    .replace(/&#62;/g, '&gt;')
    .replace(/&#60;/g, '&lt;')
    .replace(/&#38;/g, '&amp;');

/** A fenced block no text can leave: the fence is longer than any backtick run inside. */
function codeBlock(text: string): string {
  const clean = text.toWellFormed().replace(/[\u0000-\u0008\u000b\u000c\u000e-\u001f\u007f]/g, '\uFFFD');
  const longest = Math.max(0, ...(clean.match(/`+/g) ?? []).map((run) => run.length));
  const fence = '`'.repeat(Math.max(3, longest + 1));
  return `${fence}text\n${clean}\n${fence}`;
}

function details(summary: string, body: string[]): string[] {
  return [`<details><summary>${html(summary)}</summary>`, '', ...body, '', '</details>', ''];
}

function failedTestDetails(run: LayerResults, t: TestRecord, issues: ReadonlySet<string>): string[] {
  const own = t.tags.filter((tag) => issues.has(tag));
  const label = own.length ? `${own.join(', ')} × ${run.layer}` : run.layer;
  const excerpt = errorExcerpt(t.errors, 20, 1500);
  const issue = own[0] ? ` --issue ${own[0]}` : '';
  return details(`❌ ${label}: ${t.file}:${t.line} ${t.fullName}`, [
    ...(excerpt ? [codeBlock(excerpt), ''] : []),
    `replay: \`faultline run --layer ${run.layer}${issue} --seed ${run.run.seed}\``,
  ]);
}

function fileErrorDetails(run: LayerResults, e: FileError): string[] {
  const where = e.line ? `${e.file}:${e.line}` : e.file;
  return details(`❌ ${run.layer}: ${where} ${FILE_ERROR_LABEL[e.kind]}`, [
    codeBlock(errorExcerpt([{ message: e.message }], 20, 1500) ?? e.kind),
    '',
    `replay: \`faultline run --layer ${run.layer} --seed ${run.run.seed}\``,
  ]);
}

/** ## Failures: each failed test and file error, collapsed, with its first error lines and replay command. */
function failureSection(matrix: Matrix, runs: readonly LayerResults[]): string[] {
  const issues = new Set(matrix.issues.map((i) => i.id));
  // A file that did not load hides all its tests: those come first.
  const entries = [
    ...runs.flatMap((run) => run.errors.map((e) => () => fileErrorDetails(run, e))),
    ...runs.flatMap((run) =>
      run.tests.filter((t) => t.state === 'failed').map((t) => () => failedTestDetails(run, t, issues)),
    ),
  ];
  if (!entries.length) return [];
  const lines = ['## Failures', ''];
  for (const entry of entries.slice(0, MAX_FAILURES)) lines.push(...entry());
  if (entries.length > MAX_FAILURES) {
    lines.push(`… and ${plural(entries.length - MAX_FAILURES, 'more failed test')} (see matrix.json)`, '');
  }
  return lines;
}

/** ## Honest cells: each cell with declared breaks, "verified: 2 of 2 breaks caught", and what fell short. */
function honestSection(coverage: Coverage): string[] {
  const cells = coverage.cells.filter((c) => c.verify);
  if (!cells.length) return [];
  const lines = ['## Honest cells', '', '| issue | layer | verification | breaks |', '|---|---|---|---|'];
  for (const c of cells.slice(0, MAX_LIST)) {
    const v = c.verify!;
    const breaks = v.breaks.map((b) => {
      const still = b.passed?.length ? ` (still passed: ${b.passed.slice(0, 2).join('; ')})` : '';
      return `${b.name} ${b.outcome}${b.outcome === 'caught' ? '' : still}`;
    });
    const mark = v.declared > 0 && v.caught === v.declared ? '🛡️' : v.required ? '❌' : '⚠️';
    lines.push(`| ${esc(c.issue)} | ${c.layer} | ${mark} ${verificationSummary(v)} | ${esc(breaks.join(', '))} |`);
  }
  if (cells.length > MAX_LIST) lines.push(`| … | | | ${cells.length - MAX_LIST} more (see matrix.json) |`);
  lines.push('');
  return lines;
}

/** reports/matrix.md: verdict, counts, what is not covered (failures first), then the grid; under 1 MiB. */
export function matrixMarkdown(
  matrix: Matrix,
  coverage: Coverage,
  verdict: Verdict,
  runs: readonly LayerResults[],
): string {
  const lines: string[] = [];
  lines.push(`# faultline matrix: ${esc(matrix.system)}`, '');
  lines.push(
    `**Gate: ${verdict.passed ? 'passed ✅' : `failed ❌ (${plural(verdict.failures.length, 'reason')})`}**`,
    '',
  );
  const layerRows = coverage.layers.map((layer) => {
    const r = runs.filter((x) => x.layer === layer);
    if (!r.length) return `| ${layer} | ${esc(matrix.layers[layer]?.title ?? '')} | not run | | | |`;
    const tests = r.flatMap((x) => x.tests);
    const failed = tests.filter((t) => t.state === 'failed').length;
    const seeds = [...new Set(r.map((x) => x.run.seed))].join(', ');
    const backend = r.find((x) => x.run.backend)?.run.backend ?? '';
    const secs = (r.reduce((s, x) => s + x.run.durationMs, 0) / 1000).toFixed(1);
    return `| ${layer} | ${esc(matrix.layers[layer]?.title ?? '')} | ${plural(tests.length, 'test')}, ${failed} failed | ${secs}s | ${seeds} | ${backend} |`;
  });
  lines.push('| layer | title | tests | time | seed | backend |', '|---|---|---|---|---|---|', ...layerRows, '');
  lines.push(
    `| ${STATE_ORDER.map((s) => `${STATE_ICON[s]} ${s}`).join(' | ')} |`,
    `|${STATE_ORDER.map(() => '---').join('|')}|`,
    `| ${STATE_ORDER.map((s) => coverage.counts[s]).join(' | ')} |`,
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

  lines.push(...failureSection(matrix, runs));

  const open = coverage.cells
    .filter((c) => c.required && (c.state !== 'covered' || c.quarantine))
    .sort((a, b) => STATE_ORDER.indexOf(a.state) - STATE_ORDER.indexOf(b.state));
  if (open.length) {
    lines.push('## Not covered', '', '| issue | layer | state | reason |', '|---|---|---|---|');
    for (const c of open.slice(0, MAX_LIST)) {
      const replay = c.attempts?.replay[0] ? `; replay: \`${c.attempts.replay[0]}\`` : '';
      const quarantine = c.quarantine ? `; quarantined: ${esc(c.quarantine.reason)}` : '';
      lines.push(
        `| ${esc(c.issue)} | ${c.layer} | ${STATE_ICON[c.state]} ${stateText(c)} | ${esc(c.reason ?? '')}${quarantine}${replay} |`,
      );
    }
    if (open.length > MAX_LIST) lines.push(`| … | | | ${open.length - MAX_LIST} more (see matrix.json) |`);
    lines.push('');
  }

  lines.push(...honestSection(coverage));

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
      const rate = c.attempts ? ` ${c.attempts.passed}/${c.attempts.total}` : '';
      const verified = c.verify?.declared ? ` 🛡️${c.verify.caught}/${c.verify.declared}` : '';
      return `${STATE_ICON[c.state]}${n}${rate}${c.quarantine ? ' 🔒' : ''}${verified}`;
    });
    grid.push(`| ${esc(issue.id)} | ${issue.severity} | ${row.join(' | ')} |`);
  }
  let text = `${lines.join('\n')}\n`;
  const legend = `\n${STATE_ORDER.map((s) => `${STATE_ICON[s]} ${s}`).join(' · ')}; numbers are tests per cell; n/N: attempts passed (run --repeat); 🔒 quarantined; 🛡️c/d: c of d declared breaks caught (faultline verify).\n`;
  let gridText = `${grid.join('\n')}\n`;
  const room = MAX_BYTES - Buffer.byteLength(text) - Buffer.byteLength(legend);
  if (Buffer.byteLength(gridText) > room) {
    // Keep whole rows within the budget and say what was cut.
    const kept = grid.slice(0, 4);
    let size = Buffer.byteLength(kept.join('\n'));
    for (const row of grid.slice(4)) {
      const add = Buffer.byteLength(row) + 1;
      if (size + add > room - 200) break;
      kept.push(row); // not a spread: copying the kept rows per row was quadratic (17 s at 50,000 issues)
      size += add;
    }
    gridText = `${kept.join('\n')}\n\n… ${grid.length - kept.length} more issues: see matrix.html or matrix.json.\n`;
  }
  text += gridText + legend;
  return text;
}
