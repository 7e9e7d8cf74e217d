/** The stylesheet of reports/matrix.html, inlined (the page loads nothing). */
export const HTML_STYLE = `
:root {
  --fg: #1f2328; --muted: #59636e; --line: #d1d9e0; --bg: #fff; --bg2: #f6f8fa; --accent: #0969da;
  --row: 24px; --bar-h: 0px;
  font: 13px/1.4 system-ui, -apple-system, "Segoe UI", Roboto, "Noto Sans", "DejaVu Sans", sans-serif;
  color: var(--fg); background: var(--bg);
}
* { box-sizing: border-box; }
body { margin: 0; }
[hidden] { display: none !important; }
code, pre, .mono { font-family: ui-monospace, "SF Mono", Menlo, Consolas, "DejaVu Sans Mono", monospace; font-size: 12px; }
h1 { font-size: 18px; margin: 0; font-weight: 600; overflow-wrap: anywhere; }
h2 { font-size: 14px; margin: 0 0 6px; }
main { padding: 12px 16px 24px; }
body.panel-open main { margin-right: min(560px, 45vw); }

.top { display: flex; flex-wrap: wrap; gap: 8px 16px; align-items: center; margin-bottom: 10px; }
.top .meta { color: var(--muted); }
.verdict { display: inline-flex; align-items: center; gap: 6px; padding: 3px 10px; border-radius: 999px; font-weight: 600; }
.verdict.passed { background: #dafbe1; color: #116329; border: 1px solid #4ac26b; }
.verdict.failed { background: #ffebe9; color: #a40e26; border: 1px solid #ff8182; }

.summary { display: flex; flex-wrap: wrap; gap: 12px 24px; align-items: flex-start; margin-bottom: 10px; }
.legend { display: flex; flex-wrap: wrap; gap: 6px; }
.chip { display: inline-flex; align-items: center; gap: 6px; padding: 2px 8px 2px 4px; border: 1px solid var(--line);
  border-radius: 6px; background: var(--bg); font: inherit; color: inherit; cursor: pointer; }
.chip:hover { border-color: var(--muted); }
.chip[aria-pressed="true"] { outline: 2px solid var(--accent); outline-offset: 1px; }
.chip .sw { width: 16px; height: 16px; border-radius: 3px; display: inline-block; }
.chip b { font-variant-numeric: tabular-nums; }

table.layers { border-collapse: collapse; }
.layers-wrap { max-width: 100%; min-width: 0; overflow-x: auto; }
table.layers th, table.layers td { text-align: left; padding: 2px 10px 2px 0; white-space: nowrap; vertical-align: top; }
table.layers th { color: var(--muted); font-weight: 500; }
table.layers td.num { text-align: right; font-variant-numeric: tabular-nums; }
table.layers .bad { color: #a40e26; font-weight: 600; }

details.gate { margin-bottom: 10px; border: 1px solid var(--line); border-radius: 6px; padding: 4px 10px; background: var(--bg2); }
details.gate summary { cursor: pointer; font-weight: 600; }
details.gate ul { margin: 6px 0; padding-left: 18px; max-height: 240px; overflow: auto; }
details.gate li { overflow-wrap: anywhere; }
details.gate li.warn::marker { color: #9a6700; }
details.gate li.fail::marker { color: #cf222e; }

.bar { position: sticky; top: 0; z-index: 3; background: var(--bg); display: flex; flex-wrap: wrap; gap: 6px 12px;
  align-items: center; padding: 8px 0; border-bottom: 1px solid var(--line); }
.bar label { display: inline-flex; align-items: center; gap: 4px; color: var(--muted); }
.bar select, .bar input { font: inherit; padding: 2px 4px; border: 1px solid var(--line); border-radius: 4px; background: var(--bg); color: var(--fg); }
.bar input[type="search"] { width: 220px; }
.bar .shown { margin-left: auto; color: var(--muted); font-variant-numeric: tabular-nums; }
.bar button { font: inherit; padding: 2px 8px; border: 1px solid var(--line); border-radius: 4px; background: var(--bg2); cursor: pointer; }

table.grid { border-collapse: separate; border-spacing: 0; width: 100%; table-layout: fixed; }
table.grid thead th { position: sticky; top: var(--bar-h); z-index: 2; background: var(--bg2); text-align: left;
  font-weight: 600; padding: 4px 6px; border-bottom: 1px solid var(--line); white-space: nowrap; overflow: hidden; text-overflow: ellipsis; }
table.grid thead th .sub { display: block; font-weight: 400; color: var(--muted); font-size: 11px; overflow: hidden; text-overflow: ellipsis; }
table.grid td, table.grid tbody th { height: var(--row); padding: 1px 6px; border-bottom: 1px solid #eaeef2;
  white-space: nowrap; overflow: hidden; text-overflow: ellipsis; text-align: left; font-weight: 400; }
table.grid tbody tr:hover td, table.grid tbody tr:hover th { background: #f6f8fa; }
table.grid col.c-id { width: 150px; }
table.grid col.c-sev { width: 72px; }
table.grid col.c-layer { width: 128px; }
table.grid tbody th .id { font-weight: 600; }
table.grid td.title .tag { display: inline-block; margin-left: 6px; padding: 0 5px; border-radius: 8px; background: #eef1f4;
  color: var(--muted); font-size: 11px; line-height: 16px; }
table.grid td.cellcol { padding: 1px 3px; }
tr.empty td { text-align: center; color: var(--muted); padding: 16px; height: auto; }

.sev { font-size: 11px; font-weight: 600; text-transform: uppercase; letter-spacing: .02em; }
.sev-critical { color: #a40e26; } .sev-high { color: #bc4c00; } .sev-medium { color: #9a6700; } .sev-low { color: var(--muted); }

.cell { display: flex; width: 100%; height: 20px; align-items: center; justify-content: space-between; gap: 4px;
  padding: 0 6px; border: 1px solid transparent; border-radius: 4px; font: inherit; font-size: 12px; cursor: pointer; }
.cell .n { font-variant-numeric: tabular-nums; opacity: .8; font-size: 11px; }
.cell:focus-visible { outline: 2px solid var(--accent); outline-offset: 1px; }
.cell.selected { outline: 2px solid #1f2328; outline-offset: 1px; }
.s-covered { background: #aceebb; color: #0f3d1c; border-color: #4ac26b; }
.s-failed { background: #cf222e; color: #fff; border-color: #a40e26; font-weight: 600; }
.s-vacuous { background: #fae17d; color: #4d2d00; border-color: #d4a72c; }
.s-flaky { background: #ffd8b5; color: #5c2b00; border-color: #e16f24; }
.cell.quarantined { outline: 2px dashed #8250df; outline-offset: -4px; }
.cell .v { font-size: 11px; margin-left: 4px; }
.cell .v-short, .o-missed, .o-control-failed, .o-unverified { color: #cf222e; }
.s-skipped { background: #e6d4ff; color: #3c1e70; border-color: #a475f9; }
.s-not-run { background: #d1d9e0; color: #393f46; border-color: #afb8c1; }
.s-missing { background: repeating-linear-gradient(135deg, #82071e 0 5px, #a40e26 5px 10px); color: #fff; border-color: #5c0011; font-weight: 600; }
.s-planned { background: #b6e3ff; color: #0a3069; border-color: #54aeff; }
.s-not-required { background: transparent; color: #8c959f; border: 1px dashed #d8dee4; }
.cell.s-not-required:hover { border-color: #afb8c1; }

aside#details { position: fixed; top: 0; right: 0; bottom: 0; width: min(560px, 45vw); min-width: 320px; z-index: 5;
  background: var(--bg); border-left: 1px solid var(--line); box-shadow: -4px 0 16px rgba(31,35,40,.12);
  overflow: auto; padding: 12px 16px 24px; }
aside#details:focus { outline: none; }
aside#details header { display: flex; gap: 8px; align-items: flex-start; justify-content: space-between; margin-bottom: 8px; }
aside#details h2 { font-size: 16px; overflow-wrap: anywhere; }
aside#details .close { font: inherit; font-size: 18px; line-height: 1; border: 1px solid var(--line); border-radius: 4px;
  background: var(--bg2); cursor: pointer; padding: 2px 8px; }
aside#details section { margin: 12px 0; }
aside#details h3 { font-size: 13px; margin: 0 0 4px; color: var(--muted); text-transform: uppercase; letter-spacing: .03em; }
aside#details dl { display: grid; grid-template-columns: max-content 1fr; gap: 2px 12px; margin: 0; }
aside#details dt { color: var(--muted); }
aside#details dd { margin: 0; overflow-wrap: anywhere; }
aside#details .badge { display: inline-block; padding: 1px 8px; border-radius: 4px; font-size: 12px; }
aside#details table { border-collapse: collapse; width: 100%; }
aside#details table th, aside#details table td { text-align: left; padding: 3px 6px 3px 0; border-bottom: 1px solid #eaeef2;
  vertical-align: top; overflow-wrap: anywhere; }
aside#details table th { color: var(--muted); font-weight: 500; white-space: nowrap; }
aside#details td.nowrap { white-space: nowrap; }
aside#details td.num { text-align: right; font-variant-numeric: tabular-nums; white-space: nowrap; }
aside#details .st-failed { color: #cf222e; font-weight: 600; } .st-passed { color: #1a7f37; } .st-skipped { color: var(--muted); }
aside#details pre { margin: 4px 0 0; padding: 6px 8px; background: #fff5f5; border: 1px solid #ffcecb; border-radius: 4px;
  white-space: pre-wrap; overflow-wrap: anywhere; max-height: 260px; overflow: auto; }
aside#details ul.attrs { margin: 2px 0 0; padding-left: 16px; color: var(--muted); }
aside#details .none { color: var(--muted); font-style: italic; }
aside#details code.cmd { display: block; padding: 4px 8px; background: var(--bg2); border-radius: 4px; overflow-wrap: anywhere; }
`;
