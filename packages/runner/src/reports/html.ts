import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { cellStates, type LayerResults, plural, STATE_LABEL, STATE_ORDER } from '@faultline/matrix';
import { HTML_STYLE } from './html-style.ts';
import type { MatrixReport } from './json.ts';

/**
 * The page's script: a checked browser source file of this package (client/matrix-view.js, type-checked
 * against the DOM by tsconfig.client.json, linted by biome), inlined so the report stays one file. The
 * same path from src/reports and dist/reports.
 */
const HTML_SCRIPT = readFileSync(new URL('../../client/matrix-view.js', import.meta.url), 'utf8');

/** What matrix.json does not carry but the page can show: the errors of failed tests, by test id. */
export interface MatrixHtmlDetails {
  errors: Record<string, readonly string[]>;
}

const MAX_GATE_LINES = 300;
const MAX_ERRORS_PER_TEST = 5;
const MAX_ERROR_CHARS = 8000;

/**
 * Report text for HTML: well-formed (lone surrogates become U+FFFD), control characters shown as
 * their Control Pictures (U+2400 block), then `& < > " '` escaped. Safe in text and quoted attributes.
 */
export function htmlText(value: string | number | boolean | undefined): string {
  return String(value ?? '')
    .toWellFormed()
    .replace(/[\u0000-\u0008\u000b\u000c\u000e-\u001f\u007f]/g, (c) => {
      const code = c.charCodeAt(0);
      return String.fromCharCode(code === 0x7f ? 0x2421 : 0x2400 + code);
    })
    .replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}

/**
 * JSON for a `<script type="application/json">` block: `<`, `>` and `&` as `\u` escapes so no string can
 * close the element or open a comment, and U+2028/2029 escaped too. JSON.parse gives back the same value.
 */
export function scriptJson(value: unknown): string {
  return JSON.stringify(value).replace(
    /[<>&\u2028\u2029]/g,
    (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`,
  );
}

/** Errors of failed tests, keyed by test id, for `matrixHtml`'s details (bounded: 5 per test, 8 kB each). */
export function testErrors(runs: readonly LayerResults[]): Record<string, string[]> {
  const errors: Record<string, string[]> = {};
  for (const run of runs) {
    for (const test of run.tests) {
      if (!test.errors.length) continue;
      errors[test.id] = test.errors.slice(0, MAX_ERRORS_PER_TEST).map((e) => {
        const text = e.stack?.includes(e.message) ? e.stack : e.stack ? `${e.message}\n${e.stack}` : e.message;
        return text.length > MAX_ERROR_CHARS ? `${text.slice(0, MAX_ERROR_CHARS)}\n… (truncated)` : text;
      });
    }
  }
  return errors;
}

function duration(ms: number): string {
  if (ms < 1000) return `${Math.round(ms)} ms`;
  if (ms < 60_000) return `${(ms / 1000).toFixed(1)} s`;
  const s = Math.round(ms / 1000);
  return `${Math.floor(s / 60)}m ${String(s % 60).padStart(2, '0')}s`;
}

const sha256 = (text: string) => `'sha256-${createHash('sha256').update(text, 'utf8').digest('base64')}'`;

function header(report: MatrixReport): string {
  const { verdict } = report;
  const n = verdict.failures.length;
  const w = verdict.warnings.length;
  const badge = verdict.passed
    ? `<span class="verdict passed" id="verdict">✓ gate passed</span>`
    : `<span class="verdict failed" id="verdict">✗ gate failed · ${n} failure${n === 1 ? '' : 's'}</span>`;
  const warnings = w ? ` · ${w} warning${w === 1 ? '' : 's'}` : '';
  return `<div class="top"><h1>faultline matrix: ${htmlText(report.system)}</h1>${badge}<span class="meta">${plural(report.issues.length, 'issue')} × ${plural(report.layers.length, 'layer')}${warnings} · generated ${htmlText(report.generatedAt)}</span></div>`;
}

function legend(report: MatrixReport): string {
  const chips = cellStates.map(
    (s) =>
      `<button type="button" class="chip" data-state="${s}" aria-pressed="false" title="show only issues with a ${STATE_LABEL[s]} cell"><span class="sw s-${s}"></span>${STATE_LABEL[s]} <b>${report.counts[s] ?? 0}</b></button>`,
  );
  return `<div class="legend" role="group" aria-label="cell states (click to filter)">${chips.join('')}</div>`;
}

function layerTable(report: MatrixReport): string {
  const rows = report.layers.map((l) => {
    const status = l.ran ? 'ran' : `not run${l.notRun ? `: ${htmlText(l.notRun)}` : ''}`;
    return `<tr><td><b>${htmlText(l.id)}</b></td><td>${htmlText(l.title)}</td><td class="num">${l.tests}</td><td class="num${l.failed ? ' bad' : ''}">${l.failed}</td><td class="mono">${htmlText(l.seeds.join(', '))}</td><td>${htmlText(l.backend)}</td><td class="num">${l.ran ? duration(l.durationMs) : ''}</td><td>${status}</td></tr>`;
  });
  return `<div class="layers-wrap"><table class="layers" aria-label="layers"><thead><tr><th>layer</th><th>title</th><th>tests</th><th>failed</th><th>seed</th><th>backend</th><th>time</th><th></th></tr></thead><tbody>${rows.join('')}</tbody></table></div>`;
}

function gateList(report: MatrixReport): string {
  const { failures, warnings } = report.verdict;
  if (!failures.length && !warnings.length) return '';
  const items = [
    ...failures.map((f) => `<li class="fail">${htmlText(f.message)}</li>`),
    ...warnings.map((w) => `<li class="warn">warning: ${htmlText(w.message)}</li>`),
  ];
  const more =
    items.length > MAX_GATE_LINES ? `<li>… and ${items.length - MAX_GATE_LINES} more (see matrix.json)</li>` : '';
  const open = failures.length <= 12 ? ' open' : '';
  return `<details class="gate"${open}><summary>Gate: ${failures.length} failure${failures.length === 1 ? '' : 's'}, ${warnings.length} warning${warnings.length === 1 ? '' : 's'}</summary><ul>${items.slice(0, MAX_GATE_LINES).join('')}${more}</ul></details>`;
}

const filterBar = `<div class="bar" id="bar" role="search">
<label>state <select id="f-state"><option value="">any</option></select></label>
<label>layer <select id="f-layer"><option value="">all</option></select></label>
<label>severity <select id="f-sev"><option value="">any</option></select></label>
<label>tag <select id="f-tag"><option value="">any</option></select></label>
<label>search <input type="search" id="f-text" placeholder="issue id or title" autocomplete="off"></label>
<label>order <select id="f-sort"><option value="matrix">matrix</option><option value="worst">worst first</option></select></label>
<button type="button" id="f-reset">reset</button>
<span class="shown" id="shown" aria-live="polite"></span>
</div>`;

/**
 * reports/matrix.html: one self-contained page (inline CSS and JS, the report embedded as JSON, a CSP
 * that forbids any network request) with the issue × layer grid, filters, and per-cell details.
 */
export function matrixHtml(report: MatrixReport, details?: MatrixHtmlDetails): string {
  const states = { order: cellStates, worst: STATE_ORDER, labels: STATE_LABEL };
  const json = scriptJson({ report, errors: details?.errors ?? {}, states });
  const csp = `default-src 'none'; script-src ${sha256(HTML_SCRIPT)}; style-src ${sha256(HTML_STYLE)}; img-src data:; base-uri 'none'; form-action 'none'`;
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta http-equiv="Content-Security-Policy" content="${csp}">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="referrer" content="no-referrer">
<title>${report.verdict.passed ? '✓' : '✗'} faultline matrix: ${htmlText(report.system)}</title>
<style>${HTML_STYLE}</style>
</head>
<body>
<main>
${header(report)}
<div class="summary">${legend(report)}${layerTable(report)}</div>
${gateList(report)}
${filterBar}
<noscript><p>The grid needs JavaScript; the same data is in matrix.json.</p></noscript>
<table class="grid" id="grid" aria-label="coverage: issues × layers"></table>
</main>
<aside id="details" hidden tabindex="-1" aria-labelledby="d-title"><header><h2 id="d-title"></h2><button type="button" class="close" id="d-close" aria-label="close details">×</button></header><div id="d-body"></div></aside>
<script type="application/json" id="faultline-data">${json}</script>
<script>${HTML_SCRIPT}</script>
</body>
</html>
`;
}
