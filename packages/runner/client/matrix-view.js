// @ts-check
// The script of reports/matrix.html, inlined by src/reports/html.ts when the report is written (its hash goes in
// the page's Content-Security-Policy). A checked source file: `tsc -p packages/runner/tsconfig.client.json`
// type-checks it against the DOM, biome lints it. Plain ES2020 for the browser, no modules: it reads the
// report from the `application/json` block and builds the grid once, then filters by toggling `hidden`.
// Every string from the report reaches the DOM through `textContent` (never innerHTML).
(() => {
  const data = JSON.parse($('faultline-data').textContent);
  const R = data.report;
  const ERRORS = data.errors || {};
  // The cell states, their labels and the worst-first order come from @faultline/matrix with the data.
  const STATES = data.states.order;
  const WORST = data.states.worst;
  const LABEL = data.states.labels;
  const CTRL = /[\u0000-\u0008\u000b\u000c\u000e-\u001f\u007f]/g;
  const LONE = /[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/g;

  /** Report text as displayable text: lone surrogates become U+FFFD, control characters their visible pictures. */
  function txt(v) {
    return String(v === undefined || v === null ? '' : v)
      .replace(LONE, '\ufffd')
      .replace(CTRL, (c) => {
        const n = c.charCodeAt(0);
        return String.fromCharCode(n === 0x7f ? 0x2421 : 0x2400 + n);
      });
  }
  function el(tag, cls, text) {
    const e = document.createElement(tag);
    if (cls) e.className = cls;
    if (text !== undefined && text !== null) e.textContent = txt(text);
    return e;
  }
  /**
   * @param {HTMLElement} parent
   * @param {...(Node | null | undefined | false)} children
   */
  function add(parent, ...children) {
    for (const c of children) if (c) parent.appendChild(c);
    return parent;
  }
  function dur(ms) {
    if (!(ms >= 0)) return '';
    if (ms < 1000) return `${Math.round(ms)} ms`;
    if (ms < 60000) return `${(ms / 1000).toFixed(1)} s`;
    const s = Math.round(ms / 1000);
    return `${Math.floor(s / 60)}m ${String(s % 60).padStart(2, '0')}s`;
  }
  /**
   * An element the page's markup (html.ts) always has; a missing one is a bug of the report, said as such.
   * @param {string} id
   * @returns {any} typed loosely: inputs, selects and the table are all reached through it
   */
  function $(id) {
    const e = document.getElementById(id);
    if (!e) throw new Error(`matrix.html: element #${id} is missing`);
    return e;
  }

  const layers = R.layers.map((l) => l.id);
  const layerById = {};
  R.layers.forEach((l) => {
    layerById[l.id] = l;
  });
  const cellIndex = new Map();
  R.cells.forEach((c) => {
    cellIndex.set(`${c.issue}\u0000${c.layer}`, c);
  });

  // ---- grid, built once ----
  const table = $('grid');
  const colgroup = add(el('colgroup'), el('col', 'c-id'), el('col', 'c-title'), el('col', 'c-sev'));
  layers.forEach(() => {
    colgroup.appendChild(el('col', 'c-layer'));
  });
  const headRow = el('tr');
  const th0 = el('th', '', 'issue');
  th0.scope = 'col';
  const th1 = el('th', '', 'title');
  th1.scope = 'col';
  const th2 = el('th', '', 'severity');
  th2.scope = 'col';
  add(headRow, th0, th1, th2);
  const layerHeads = layers.map((id) => {
    const l = layerById[id];
    const th = el('th', '', id);
    th.scope = 'col';
    th.title = txt(l.title);
    th.appendChild(el('span', 'sub', l.ran ? `${l.tests} tests${l.failed ? `, ${l.failed} failed` : ''}` : 'not run'));
    headRow.appendChild(th);
    return th;
  });
  const thead = add(el('thead'), headRow);
  const tbody = el('tbody');
  const frag = document.createDocumentFragment();
  const rows = R.issues.map((issue, index) => {
    const tr = el('tr');
    const idCell = el('th');
    idCell.scope = 'row';
    idCell.appendChild(el('span', 'id', issue.id));
    if (issue.ref !== undefined) idCell.title = txt(`${issue.id} (${issue.ref})`);
    const titleCell = el('td', 'title');
    titleCell.appendChild(el('span', '', issue.title));
    issue.tags.forEach((t) => {
      titleCell.appendChild(el('span', 'tag', t));
    });
    titleCell.title = txt(issue.title + (issue.status && issue.status !== 'active' ? ` [${issue.status}]` : ''));
    const sevCell = el('td', `sev sev-${String(issue.severity).replace(/[^a-z]/g, '')}`, issue.severity);
    add(tr, idCell, titleCell, sevCell);
    const states = {};
    const tds = layers.map((layer) => {
      const td = el('td', 'cellcol');
      const cell = cellIndex.get(`${issue.id}\u0000${layer}`);
      if (cell) {
        states[layer] = cell.state;
        const b = el('button', `cell s-${cell.state}`);
        b.type = 'button';
        b.dataset.issue = String(index);
        b.dataset.layer = layer;
        b.dataset.state = cell.state;
        b.setAttribute('aria-controls', 'details');
        b.setAttribute('aria-expanded', 'false');
        const n = cell.tests.length;
        const label = cellLabel(cell);
        if (cell.quarantine) b.classList.add('quarantined');
        b.setAttribute('aria-label', txt(`${issue.id} in ${layer}: ${label}, ${n} test${n === 1 ? '' : 's'}`));
        b.appendChild(el('span', 'lbl', cell.state === 'not-required' ? '\u2014' : label));
        if (n) b.appendChild(el('span', 'n', String(n)));
        if (cell.verify?.declared) {
          const vc = cell.verify.caught === cell.verify.declared;
          b.appendChild(
            el('span', `v ${vc ? 'v-ok' : 'v-short'}`, `\u26e8 ${cell.verify.caught}/${cell.verify.declared}`),
          );
          b.setAttribute('aria-label', `${b.getAttribute('aria-label')}, ${verifyText(cell.verify)}`);
        }
        td.appendChild(b);
      }
      tr.appendChild(td);
      return td;
    });
    frag.appendChild(tr);
    let worst = WORST.length;
    layers.forEach((l) => {
      if (states[l]) worst = Math.min(worst, WORST.indexOf(states[l]));
    });
    return {
      tr: tr,
      tds: tds,
      index: index,
      issue: issue,
      states: states,
      worst: worst,
      text: `${issue.id}\u0000${issue.title}\u0000${issue.ref === undefined ? '' : issue.ref}`.toLowerCase(),
    };
  });
  const emptyRow = el('tr', 'empty');
  const emptyCell = el('td', '', 'No issue matches these filters.');
  emptyCell.colSpan = 3 + layers.length;
  emptyRow.appendChild(emptyCell);
  emptyRow.hidden = true;
  frag.appendChild(emptyRow);
  tbody.appendChild(frag);
  add(table, colgroup, thead, tbody);

  // ---- filters ----
  const fState = $('f-state'),
    fLayer = $('f-layer'),
    fSev = $('f-sev'),
    fTag = $('f-tag'),
    fText = $('f-text');
  const fSort = $('f-sort'),
    shown = $('shown');
  function option(select, value, label) {
    const o = el('option', '', label);
    o.value = value;
    select.appendChild(o);
  }
  STATES.forEach((s) => {
    option(fState, s, `${LABEL[s]} (${R.counts[s] || 0})`);
  });
  layers.forEach((l) => {
    option(fLayer, l, l);
  });
  const sevs = [],
    tags = [];
  R.issues.forEach((i) => {
    if (sevs.indexOf(i.severity) < 0) sevs.push(i.severity);
    i.tags.forEach((t) => {
      if (tags.indexOf(t) < 0) tags.push(t);
    });
  });
  const SEV_ORDER = ['critical', 'high', 'medium', 'low'];
  sevs.sort((a, b) => (SEV_ORDER.indexOf(a) + 1 || 99) - (SEV_ORDER.indexOf(b) + 1 || 99));
  sevs.forEach((s) => {
    option(fSev, s, s);
  });
  tags.sort().forEach((t) => {
    option(fTag, t, txt(t));
  });

  const chips = Array.prototype.slice.call(document.querySelectorAll('.legend .chip'));

  function apply() {
    const st = fState.value,
      ly = fLayer.value,
      sv = fSev.value,
      tg = fTag.value;
    const q = fText.value.trim().toLowerCase();
    const visible = ly ? [ly] : layers;
    layers.forEach((l, j) => {
      const hide = visible.indexOf(l) < 0;
      if (layerHeads[j].hidden !== hide) layerHeads[j].hidden = hide;
      const col = /** @type {HTMLElement} */ (colgroup.children[3 + j]);
      if (col.hidden !== hide) col.hidden = hide;
    });
    let count = 0;
    for (let i = 0; i < rows.length; i++) {
      const r = rows[i];
      let ok =
        (!sv || r.issue.severity === sv) && (!tg || r.issue.tags.indexOf(tg) >= 0) && (!q || r.text.indexOf(q) >= 0);
      if (ok && st) {
        ok = false;
        for (let k = 0; k < visible.length; k++)
          if (r.states[visible[k]] === st) {
            ok = true;
            break;
          }
      }
      if (r.tr.hidden === ok) r.tr.hidden = !ok;
      if (ok) count++;
      for (let j = 0; j < layers.length; j++) {
        const hideCol = ly !== '' && layers[j] !== ly;
        if (r.tds[j].hidden !== hideCol) r.tds[j].hidden = hideCol;
      }
    }
    emptyRow.hidden = count > 0;
    emptyCell.colSpan = 3 + visible.length;
    shown.textContent = count === rows.length ? `${rows.length} issues` : `${count} of ${rows.length} issues`;
    chips.forEach((c) => {
      c.setAttribute('aria-pressed', String(c.dataset.state === st));
    });
  }
  function sort() {
    const order = rows.slice();
    if (fSort.value === 'worst') order.sort((a, b) => a.worst - b.worst || a.index - b.index);
    const f = document.createDocumentFragment();
    order.forEach((r) => {
      f.appendChild(r.tr);
    });
    f.appendChild(emptyRow);
    tbody.appendChild(f);
  }
  let timer = 0;
  [fState, fLayer, fSev, fTag].forEach((s) => {
    s.addEventListener('change', apply);
  });
  fText.addEventListener('input', () => {
    clearTimeout(timer);
    timer = setTimeout(apply, 60);
  });
  fSort.addEventListener('change', sort);
  $('f-reset').addEventListener('click', () => {
    fState.value = fLayer.value = fSev.value = fTag.value = fText.value = '';
    apply();
  });
  chips.forEach((c) => {
    c.addEventListener('click', () => {
      fState.value = fState.value === c.dataset.state ? '' : c.dataset.state;
      apply();
    });
  });

  // Keep the grid's header under the sticky filter bar.
  const bar = $('bar');
  function barHeight() {
    document.documentElement.style.setProperty('--bar-h', `${bar.offsetHeight}px`);
  }
  barHeight();
  if (window.ResizeObserver) new ResizeObserver(barHeight).observe(bar);
  else window.addEventListener('resize', barHeight);

  // ---- details panel ----
  const panel = $('details'),
    pTitle = $('d-title'),
    pBody = $('d-body');
  /** @type {HTMLElement | null} */
  let current = null;

  function dl(pairs) {
    const d = el('dl');
    pairs.forEach((p) => {
      if (p[1] === undefined || p[1] === null || p[1] === '') return;
      d.appendChild(el('dt', '', p[0]));
      const dd = el('dd');
      if (typeof p[1] === 'object') dd.appendChild(p[1]);
      else dd.textContent = txt(p[1]);
      d.appendChild(dd);
    });
    return d;
  }
  function section(title) {
    const s = el('section');
    s.appendChild(el('h3', '', title));
    return s;
  }
  function row(cells, head) {
    const tr = el('tr');
    cells.forEach((c) => {
      const e = el(head ? 'th' : 'td', c[1] || '');
      if (typeof c[0] === 'object' && c[0] !== null) e.appendChild(c[0]);
      else e.textContent = txt(c[0]);
      tr.appendChild(e);
    });
    return tr;
  }
  // "flaky 7/10" under run --repeat; a quarantine is always shown, never a silent green.
  function cellLabel(cell) {
    let label = LABEL[cell.state];
    if (cell.attempts) label += ` ${cell.attempts.passed}/${cell.attempts.total}`;
    if (cell.quarantine) label += cell.quarantine.expired ? ' \u00b7 quarantine expired' : ' \u00b7 quarantined';
    return label;
  }
  // "verified: 2 of 2 breaks caught" (faultline verify), the same words as matrix.md and the gate.
  function verifyText(v) {
    if (!v) return '';
    const s = v.declared > 1 ? 's' : '';
    if (!v.declared) return 'no break declared';
    if (v.breaks.every((b) => b.outcome === 'unverified')) return `not verified: ${v.declared} break${s} declared`;
    return `verified: ${v.caught} of ${v.declared} break${s} caught`;
  }
  function quarantineText(q) {
    return q ? `${(q.expired ? 'expired ' : 'until ') + q.until}: ${q.reason}` : '';
  }
  function defaultReason(cell) {
    if (cell.reason) return cell.reason;
    if (cell.state === 'covered') return 'tests passed and recorded fault evidence';
    if (cell.state === 'not-required') return 'the policy does not require this layer for this issue';
    return '';
  }

  function show(btn) {
    const issue = R.issues[Number(btn.dataset.issue)];
    const layer = layerById[btn.dataset.layer];
    const cell = cellIndex.get(`${issue.id}\u0000${layer.id}`);
    if (current) {
      current.classList.remove('selected');
      current.setAttribute('aria-expanded', 'false');
    }
    current = btn;
    btn.classList.add('selected');
    btn.setAttribute('aria-expanded', 'true');
    pTitle.textContent = txt(`${issue.id} \u00d7 ${layer.id}`);
    pBody.textContent = '';

    const badge = el('span', `badge s-${cell.state}`, cellLabel(cell));
    const seeds = layer.seeds.length ? layer.seeds.join(', ') : '';
    add(
      pBody,
      dl([
        ['issue', issue.title],
        ['ref', issue.ref === undefined ? '' : String(issue.ref)],
        ['state', badge],
        ['reason', defaultReason(cell)],
        ['required', cell.required ? 'yes' : 'no'],
        ['severity', issue.severity],
        ['tags', issue.tags.join(', ')],
        ['layer', layer.id + (layer.title && layer.title !== layer.id ? ` \u2014 ${layer.title}` : '')],
        ['seed', seeds],
        ['backend', layer.backend || ''],
        ['layer not run', layer.notRun || ''],
        ['attempts', cell.attempts ? `${cell.attempts.passed}/${cell.attempts.total} passed` : ''],
        ['failing seeds', cell.attempts ? cell.attempts.failingSeeds.join(', ') : ''],
        ['quarantine', quarantineText(cell.quarantine)],
        ['verification', verifyText(cell.verify)],
      ]),
    );
    if (cell.verify?.breaks.length) {
      const vs = section('breaks (faultline verify)');
      const vt = el('table');
      vt.appendChild(row([['FAULTLINE_BREAK'], ['outcome'], ['detail']], true));
      cell.verify.breaks.forEach((b) => {
        let detail = b.reason || '';
        if (b.outcome !== 'caught' && b.passed && b.passed.length)
          detail += `${detail ? '; ' : ''}still passed: ${b.passed.join('; ')}`;
        vt.appendChild(row([[b.name], [b.outcome, `o-${b.outcome}`], [b.outcome === 'caught' ? '' : detail]]));
      });
      vs.appendChild(vt);
      pBody.appendChild(vs);
    }
    if (cell.attempts?.replay.length) {
      const reps = section('replay each failing seed');
      cell.attempts.replay.forEach((c) => {
        reps.appendChild(el('code', 'cmd', c));
      });
      pBody.appendChild(reps);
    } else if (layer.seeds.length === 1) {
      const rep = section('replay');
      rep.appendChild(
        el('code', 'cmd', `faultline run --layer ${layer.id} --issue ${issue.id} --seed ${layer.seeds[0]}`),
      );
      pBody.appendChild(rep);
    }

    const ts = section(`tests (${cell.tests.length})`);
    if (!cell.tests.length) ts.appendChild(el('p', 'none', 'No test is tagged with this issue in this layer.'));
    else {
      const tt = el('table');
      tt.appendChild(row([['test'], ['state'], ['time', 'num'], ['evidence', 'num']], true));
      cell.tests.forEach((t) => {
        const name = el('div');
        name.appendChild(el('div', '', t.fullName || t.name));
        name.appendChild(el('div', 'mono', `${t.file}:${t.line}`));
        const stateText = t.state + (t.flaky ? ' (flaky)' : '') + (t.vacuous ? ' \u00b7 recorded no fault' : '');
        const state = el('span', `st-${String(t.state).replace(/[^a-z]/g, '')}`, stateText);
        tt.appendChild(row([[name], [state, 'nowrap'], [dur(t.durationMs), 'num'], [String(t.evidence), 'num']]));
        const errs = ERRORS[t.id] || [];
        if (t.error || errs.length) {
          const etr = el('tr');
          const etd = el('td');
          etd.colSpan = 4;
          // The excerpt (first lines and the diff) first; the whole errors and stacks folded under it.
          if (t.error) {
            etd.appendChild(el('pre', 'error', t.error));
            if (errs.length) {
              const fold = el('details', 'stack');
              fold.appendChild(el('summary', '', 'whole error and stack'));
              errs.forEach((e) => {
                fold.appendChild(el('pre', '', e));
              });
              etd.appendChild(fold);
            }
          } else
            errs.forEach((e) => {
              etd.appendChild(el('pre', 'error', e));
            });
          etr.appendChild(etd);
          tt.appendChild(etr);
        }
      });
      ts.appendChild(tt);
    }
    pBody.appendChild(ts);

    const es = section(`evidence (${cell.evidence.length})`);
    if (!cell.evidence.length) es.appendChild(el('p', 'none', 'No fault evidence recorded.'));
    else {
      const et = el('table');
      et.appendChild(row([['kind'], ['name / detail'], ['count', 'num']], true));
      cell.evidence.forEach((e) => {
        const what = el('div');
        what.appendChild(el('div', 'mono', e.name));
        what.appendChild(el('div', '', e.detail));
        const keys = e.attributes ? Object.keys(e.attributes) : [];
        if (keys.length || e.source) {
          const ul = el('ul', 'attrs');
          if (e.source) ul.appendChild(el('li', '', `source: ${e.source}`));
          keys.forEach((k) => {
            ul.appendChild(el('li', '', `${k}: ${String(e.attributes[k])}`));
          });
          what.appendChild(ul);
        }
        et.appendChild(row([[e.kind], [what], [String(e.count), 'num']]));
      });
      es.appendChild(et);
    }
    pBody.appendChild(es);

    panel.hidden = false;
    document.body.classList.add('panel-open');
    panel.scrollTop = 0;
    panel.focus();
  }
  function hide() {
    panel.hidden = true;
    document.body.classList.remove('panel-open');
    if (current) {
      current.classList.remove('selected');
      current.setAttribute('aria-expanded', 'false');
      current.focus();
    }
    current = null;
  }
  tbody.addEventListener('click', (ev) => {
    const b = ev.target.closest?.('button.cell');
    if (b) show(b);
  });
  $('d-close').addEventListener('click', hide);
  document.addEventListener('keydown', (ev) => {
    if (ev.key === 'Escape' && !panel.hidden) {
      hide();
      return;
    }
    const b = ev.target;
    if (!(b instanceof HTMLElement) || !b.classList.contains('cell')) return;
    const dx = ev.key === 'ArrowRight' ? 1 : ev.key === 'ArrowLeft' ? -1 : 0;
    const dy = ev.key === 'ArrowDown' ? 1 : ev.key === 'ArrowUp' ? -1 : 0;
    if (!dx && !dy) return;
    ev.preventDefault();
    /** @type {any} */
    const td = b.parentElement;
    /** @type {any} */
    const tr = td.parentElement;
    const col = Array.prototype.indexOf.call(tr.children, td);
    /** @type {HTMLElement | null} */
    let target = null;
    if (dx) {
      let c = td;
      do {
        c = dx > 0 ? c.nextElementSibling : c.previousElementSibling;
      } while (c && (c.hidden || !c.querySelector('button.cell')));
      target = c?.querySelector('button.cell');
    } else {
      let r = tr;
      do {
        r = dy > 0 ? r.nextElementSibling : r.previousElementSibling;
      } while (r?.hidden);
      target = r?.children[col]?.querySelector('button.cell');
    }
    if (target) target.focus();
  });

  apply();
  document.documentElement.dataset.ready = 'true';
})();
