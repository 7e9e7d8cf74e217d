/**
 * The script of reports/matrix.html, inlined. Plain ES2020 for the browser; it reads the report
 * from the `application/json` block and builds the grid once, then filters by toggling `hidden`.
 * Every string from the report reaches the DOM through `textContent` (never innerHTML).
 * String.raw keeps the `\u` escapes below for the browser instead of turning them into raw characters.
 */
export const HTML_SCRIPT = String.raw`
(function () {
  'use strict';
  var data = JSON.parse(document.getElementById('faultline-data').textContent);
  var R = data.report;
  var ERRORS = data.errors || {};
  var STATES = ['covered', 'failed', 'flaky', 'vacuous', 'skipped', 'not-run', 'missing', 'planned', 'not-required'];
  var WORST = ['failed', 'missing', 'skipped', 'flaky', 'vacuous', 'not-run', 'planned', 'covered', 'not-required'];
  var LABEL = { covered: 'covered', failed: 'failed', flaky: 'flaky', vacuous: 'vacuous', skipped: 'skipped',
    'not-run': 'not run', missing: 'missing', planned: 'planned', 'not-required': 'not required' };
  var CTRL = /[\u0000-\u0008\u000b\u000c\u000e-\u001f\u007f]/g;
  var LONE = /[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/g;

  /** Report text as displayable text: lone surrogates become U+FFFD, control characters their visible pictures. */
  function txt(v) {
    return String(v === undefined || v === null ? '' : v).replace(LONE, '\ufffd').replace(CTRL, function (c) {
      var n = c.charCodeAt(0);
      return String.fromCharCode(n === 0x7f ? 0x2421 : 0x2400 + n);
    });
  }
  function el(tag, cls, text) {
    var e = document.createElement(tag);
    if (cls) e.className = cls;
    if (text !== undefined && text !== null) e.textContent = txt(text);
    return e;
  }
  function add(parent) {
    for (var i = 1; i < arguments.length; i++) if (arguments[i]) parent.appendChild(arguments[i]);
    return parent;
  }
  function dur(ms) {
    if (!(ms >= 0)) return '';
    if (ms < 1000) return Math.round(ms) + ' ms';
    if (ms < 60000) return (ms / 1000).toFixed(1) + ' s';
    var s = Math.round(ms / 1000);
    return Math.floor(s / 60) + 'm ' + String(s % 60).padStart(2, '0') + 's';
  }
  function $(id) { return document.getElementById(id); }

  var layers = R.layers.map(function (l) { return l.id; });
  var layerById = {};
  R.layers.forEach(function (l) { layerById[l.id] = l; });
  var cellIndex = new Map();
  R.cells.forEach(function (c) { cellIndex.set(c.issue + '\u0000' + c.layer, c); });

  // ---- grid, built once ----
  var table = $('grid');
  var colgroup = add(el('colgroup'), el('col', 'c-id'), el('col', 'c-title'), el('col', 'c-sev'));
  layers.forEach(function () { colgroup.appendChild(el('col', 'c-layer')); });
  var headRow = el('tr');
  var th0 = el('th', '', 'issue'); th0.scope = 'col';
  var th1 = el('th', '', 'title'); th1.scope = 'col';
  var th2 = el('th', '', 'severity'); th2.scope = 'col';
  add(headRow, th0, th1, th2);
  var layerHeads = layers.map(function (id) {
    var l = layerById[id];
    var th = el('th', '', id);
    th.scope = 'col';
    th.title = txt(l.title);
    th.appendChild(el('span', 'sub', l.ran ? l.tests + ' tests' + (l.failed ? ', ' + l.failed + ' failed' : '') : 'not run'));
    headRow.appendChild(th);
    return th;
  });
  var thead = add(el('thead'), headRow);
  var tbody = el('tbody');
  var frag = document.createDocumentFragment();
  var rows = R.issues.map(function (issue, index) {
    var tr = el('tr');
    var idCell = el('th');
    idCell.scope = 'row';
    idCell.appendChild(el('span', 'id', issue.id));
    if (issue.ref !== undefined) idCell.title = txt(issue.id + ' (' + issue.ref + ')');
    var titleCell = el('td', 'title');
    titleCell.appendChild(el('span', '', issue.title));
    issue.tags.forEach(function (t) { titleCell.appendChild(el('span', 'tag', t)); });
    titleCell.title = txt(issue.title + (issue.status && issue.status !== 'active' ? ' [' + issue.status + ']' : ''));
    var sevCell = el('td', 'sev sev-' + String(issue.severity).replace(/[^a-z]/g, ''), issue.severity);
    add(tr, idCell, titleCell, sevCell);
    var states = {};
    var tds = layers.map(function (layer) {
      var td = el('td', 'cellcol');
      var cell = cellIndex.get(issue.id + '\u0000' + layer);
      if (cell) {
        states[layer] = cell.state;
        var b = el('button', 'cell s-' + cell.state);
        b.type = 'button';
        b.dataset.issue = String(index);
        b.dataset.layer = layer;
        b.dataset.state = cell.state;
        b.setAttribute('aria-controls', 'details');
        b.setAttribute('aria-expanded', 'false');
        var n = cell.tests.length;
        var label = cellLabel(cell);
        if (cell.quarantine) b.classList.add('quarantined');
        b.setAttribute('aria-label', txt(issue.id + ' in ' + layer + ': ' + label + ', ' + n + ' test' + (n === 1 ? '' : 's')));
        b.appendChild(el('span', 'lbl', cell.state === 'not-required' ? '\u2014' : label));
        if (n) b.appendChild(el('span', 'n', String(n)));
        if (cell.verify && cell.verify.declared) {
          var vc = cell.verify.caught === cell.verify.declared;
          b.appendChild(el('span', 'v ' + (vc ? 'v-ok' : 'v-short'), '\u26e8 ' + cell.verify.caught + '/' + cell.verify.declared));
          b.setAttribute('aria-label', b.getAttribute('aria-label') + ', ' + verifyText(cell.verify));
        }
        td.appendChild(b);
      }
      tr.appendChild(td);
      return td;
    });
    frag.appendChild(tr);
    var worst = WORST.length;
    layers.forEach(function (l) { if (states[l]) worst = Math.min(worst, WORST.indexOf(states[l])); });
    return {
      tr: tr, tds: tds, index: index, issue: issue, states: states, worst: worst,
      text: (issue.id + '\u0000' + issue.title + '\u0000' + (issue.ref === undefined ? '' : issue.ref)).toLowerCase(),
    };
  });
  var emptyRow = el('tr', 'empty');
  var emptyCell = el('td', '', 'No issue matches these filters.');
  emptyCell.colSpan = 3 + layers.length;
  emptyRow.appendChild(emptyCell);
  emptyRow.hidden = true;
  frag.appendChild(emptyRow);
  tbody.appendChild(frag);
  add(table, colgroup, thead, tbody);

  // ---- filters ----
  var fState = $('f-state'), fLayer = $('f-layer'), fSev = $('f-sev'), fTag = $('f-tag'), fText = $('f-text');
  var fSort = $('f-sort'), shown = $('shown');
  function option(select, value, label) {
    var o = el('option', '', label);
    o.value = value;
    select.appendChild(o);
  }
  STATES.forEach(function (s) { option(fState, s, LABEL[s] + ' (' + (R.counts[s] || 0) + ')'); });
  layers.forEach(function (l) { option(fLayer, l, l); });
  var sevs = [], tags = [];
  R.issues.forEach(function (i) {
    if (sevs.indexOf(i.severity) < 0) sevs.push(i.severity);
    i.tags.forEach(function (t) { if (tags.indexOf(t) < 0) tags.push(t); });
  });
  var SEV_ORDER = ['critical', 'high', 'medium', 'low'];
  sevs.sort(function (a, b) { return (SEV_ORDER.indexOf(a) + 1 || 99) - (SEV_ORDER.indexOf(b) + 1 || 99); });
  sevs.forEach(function (s) { option(fSev, s, s); });
  tags.sort().forEach(function (t) { option(fTag, t, txt(t)); });

  var chips = Array.prototype.slice.call(document.querySelectorAll('.legend .chip'));

  function apply() {
    var st = fState.value, ly = fLayer.value, sv = fSev.value, tg = fTag.value;
    var q = fText.value.trim().toLowerCase();
    var visible = ly ? [ly] : layers;
    layers.forEach(function (l, j) {
      var hide = visible.indexOf(l) < 0;
      if (layerHeads[j].hidden !== hide) layerHeads[j].hidden = hide;
      if (colgroup.children[3 + j].hidden !== hide) colgroup.children[3 + j].hidden = hide;
    });
    var count = 0;
    for (var i = 0; i < rows.length; i++) {
      var r = rows[i];
      var ok = (!sv || r.issue.severity === sv) && (!tg || r.issue.tags.indexOf(tg) >= 0) && (!q || r.text.indexOf(q) >= 0);
      if (ok && st) {
        ok = false;
        for (var k = 0; k < visible.length; k++) if (r.states[visible[k]] === st) { ok = true; break; }
      }
      if (r.tr.hidden === ok) r.tr.hidden = !ok;
      if (ok) count++;
      for (var j = 0; j < layers.length; j++) {
        var hideCol = ly !== '' && layers[j] !== ly;
        if (r.tds[j].hidden !== hideCol) r.tds[j].hidden = hideCol;
      }
    }
    emptyRow.hidden = count > 0;
    emptyCell.colSpan = 3 + visible.length;
    shown.textContent = count === rows.length ? rows.length + ' issues' : count + ' of ' + rows.length + ' issues';
    chips.forEach(function (c) { c.setAttribute('aria-pressed', String(c.dataset.state === st)); });
  }
  function sort() {
    var order = rows.slice();
    if (fSort.value === 'worst') order.sort(function (a, b) { return a.worst - b.worst || a.index - b.index; });
    var f = document.createDocumentFragment();
    order.forEach(function (r) { f.appendChild(r.tr); });
    f.appendChild(emptyRow);
    tbody.appendChild(f);
  }
  var timer = 0;
  [fState, fLayer, fSev, fTag].forEach(function (s) { s.addEventListener('change', apply); });
  fText.addEventListener('input', function () {
    clearTimeout(timer);
    timer = setTimeout(apply, 60);
  });
  fSort.addEventListener('change', sort);
  $('f-reset').addEventListener('click', function () {
    fState.value = fLayer.value = fSev.value = fTag.value = fText.value = '';
    apply();
  });
  chips.forEach(function (c) {
    c.addEventListener('click', function () {
      fState.value = fState.value === c.dataset.state ? '' : c.dataset.state;
      apply();
    });
  });

  // Keep the grid's header under the sticky filter bar.
  var bar = $('bar');
  function barHeight() { document.documentElement.style.setProperty('--bar-h', bar.offsetHeight + 'px'); }
  barHeight();
  if (window.ResizeObserver) new ResizeObserver(barHeight).observe(bar);
  else window.addEventListener('resize', barHeight);

  // ---- details panel ----
  var panel = $('details'), pTitle = $('d-title'), pBody = $('d-body');
  var current = null;

  function dl(pairs) {
    var d = el('dl');
    pairs.forEach(function (p) {
      if (p[1] === undefined || p[1] === null || p[1] === '') return;
      d.appendChild(el('dt', '', p[0]));
      var dd = el('dd');
      if (typeof p[1] === 'object') dd.appendChild(p[1]); else dd.textContent = txt(p[1]);
      d.appendChild(dd);
    });
    return d;
  }
  function section(title) {
    var s = el('section');
    s.appendChild(el('h3', '', title));
    return s;
  }
  function row(cells, head) {
    var tr = el('tr');
    cells.forEach(function (c) {
      var e = el(head ? 'th' : 'td', c[1] || '');
      if (typeof c[0] === 'object' && c[0] !== null) e.appendChild(c[0]); else e.textContent = txt(c[0]);
      tr.appendChild(e);
    });
    return tr;
  }
  // "flaky 7/10" under run --repeat; a quarantine is always shown, never a silent green.
  function cellLabel(cell) {
    var label = LABEL[cell.state];
    if (cell.attempts) label += ' ' + cell.attempts.passed + '/' + cell.attempts.total;
    if (cell.quarantine) label += cell.quarantine.expired ? ' \u00b7 quarantine expired' : ' \u00b7 quarantined';
    return label;
  }
  // "verified: 2 of 2 breaks caught" (faultline verify), the same words as matrix.md and the gate.
  function verifyText(v) {
    if (!v) return '';
    var s = v.declared > 1 ? 's' : '';
    if (!v.declared) return 'no break declared';
    if (v.breaks.every(function (b) { return b.outcome === 'unverified'; })) return 'not verified: ' + v.declared + ' break' + s + ' declared';
    return 'verified: ' + v.caught + ' of ' + v.declared + ' break' + s + ' caught';
  }
  function quarantineText(q) {
    return q ? (q.expired ? 'expired ' : 'until ') + q.until + ': ' + q.reason : '';
  }
  function defaultReason(cell) {
    if (cell.reason) return cell.reason;
    if (cell.state === 'covered') return 'tests passed and recorded fault evidence';
    if (cell.state === 'not-required') return 'the policy does not require this layer for this issue';
    return '';
  }

  function show(btn) {
    var issue = R.issues[Number(btn.dataset.issue)];
    var layer = layerById[btn.dataset.layer];
    var cell = cellIndex.get(issue.id + '\u0000' + layer.id);
    if (current) { current.classList.remove('selected'); current.setAttribute('aria-expanded', 'false'); }
    current = btn;
    btn.classList.add('selected');
    btn.setAttribute('aria-expanded', 'true');
    pTitle.textContent = txt(issue.id + ' \u00d7 ' + layer.id);
    pBody.textContent = '';

    var badge = el('span', 'badge s-' + cell.state, cellLabel(cell));
    var seeds = layer.seeds.length ? layer.seeds.join(', ') : '';
    add(pBody, dl([
      ['issue', issue.title],
      ['ref', issue.ref === undefined ? '' : String(issue.ref)],
      ['state', badge],
      ['reason', defaultReason(cell)],
      ['required', cell.required ? 'yes' : 'no'],
      ['severity', issue.severity],
      ['tags', issue.tags.join(', ')],
      ['layer', layer.id + (layer.title && layer.title !== layer.id ? ' \u2014 ' + layer.title : '')],
      ['seed', seeds],
      ['backend', layer.backend || ''],
      ['layer not run', layer.notRun || ''],
      ['attempts', cell.attempts ? cell.attempts.passed + '/' + cell.attempts.total + ' passed' : ''],
      ['failing seeds', cell.attempts ? cell.attempts.failingSeeds.join(', ') : ''],
      ['quarantine', quarantineText(cell.quarantine)],
      ['verification', verifyText(cell.verify)],
    ]));
    if (cell.verify && cell.verify.breaks.length) {
      var vs = section('breaks (faultline verify)');
      var vt = el('table');
      vt.appendChild(row([['FAULTLINE_BREAK'], ['outcome'], ['detail']], true));
      cell.verify.breaks.forEach(function (b) {
        var detail = b.reason || '';
        if (b.outcome !== 'caught' && b.passed && b.passed.length) detail += (detail ? '; ' : '') + 'still passed: ' + b.passed.join('; ');
        vt.appendChild(row([[b.name], [b.outcome, 'o-' + b.outcome], [b.outcome === 'caught' ? '' : detail]]));
      });
      vs.appendChild(vt);
      pBody.appendChild(vs);
    }
    if (cell.attempts && cell.attempts.replay.length) {
      var reps = section('replay each failing seed');
      cell.attempts.replay.forEach(function (c) { reps.appendChild(el('code', 'cmd', c)); });
      pBody.appendChild(reps);
    } else if (layer.seeds.length === 1) {
      var rep = section('replay');
      rep.appendChild(el('code', 'cmd', 'faultline run --layer ' + layer.id + ' --issue ' + issue.id + ' --seed ' + layer.seeds[0]));
      pBody.appendChild(rep);
    }

    var ts = section('tests (' + cell.tests.length + ')');
    if (!cell.tests.length) ts.appendChild(el('p', 'none', 'No test is tagged with this issue in this layer.'));
    else {
      var tt = el('table');
      tt.appendChild(row([['test'], ['state'], ['time', 'num'], ['evidence', 'num']], true));
      cell.tests.forEach(function (t) {
        var name = el('div');
        name.appendChild(el('div', '', t.fullName || t.name));
        name.appendChild(el('div', 'mono', t.file + ':' + t.line));
        var stateText = t.state + (t.flaky ? ' (flaky)' : '') + (t.vacuous ? ' \u00b7 recorded no fault' : '');
        var state = el('span', 'st-' + String(t.state).replace(/[^a-z]/g, ''), stateText);
        tt.appendChild(row([[name], [state, 'nowrap'], [dur(t.durationMs), 'num'], [String(t.evidence), 'num']]));
        var errs = ERRORS[t.id] || [];
        if (t.error || errs.length) {
          var etr = el('tr');
          var etd = el('td');
          etd.colSpan = 4;
          // The excerpt (first lines and the diff) first; the whole errors and stacks folded under it.
          if (t.error) {
            etd.appendChild(el('pre', 'error', t.error));
            if (errs.length) {
              var fold = el('details', 'stack');
              fold.appendChild(el('summary', '', 'whole error and stack'));
              errs.forEach(function (e) { fold.appendChild(el('pre', '', e)); });
              etd.appendChild(fold);
            }
          } else errs.forEach(function (e) { etd.appendChild(el('pre', 'error', e)); });
          etr.appendChild(etd);
          tt.appendChild(etr);
        }
      });
      ts.appendChild(tt);
    }
    pBody.appendChild(ts);

    var es = section('evidence (' + cell.evidence.length + ')');
    if (!cell.evidence.length) es.appendChild(el('p', 'none', 'No fault evidence recorded.'));
    else {
      var et = el('table');
      et.appendChild(row([['kind'], ['name / detail'], ['count', 'num']], true));
      cell.evidence.forEach(function (e) {
        var what = el('div');
        what.appendChild(el('div', 'mono', e.name));
        what.appendChild(el('div', '', e.detail));
        var keys = e.attributes ? Object.keys(e.attributes) : [];
        if (keys.length || e.source) {
          var ul = el('ul', 'attrs');
          if (e.source) ul.appendChild(el('li', '', 'source: ' + e.source));
          keys.forEach(function (k) { ul.appendChild(el('li', '', k + ': ' + String(e.attributes[k]))); });
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
  tbody.addEventListener('click', function (ev) {
    var b = ev.target.closest && ev.target.closest('button.cell');
    if (b) show(b);
  });
  $('d-close').addEventListener('click', hide);
  document.addEventListener('keydown', function (ev) {
    if (ev.key === 'Escape' && !panel.hidden) { hide(); return; }
    var b = ev.target;
    if (!b.classList || !b.classList.contains('cell')) return;
    var dx = ev.key === 'ArrowRight' ? 1 : ev.key === 'ArrowLeft' ? -1 : 0;
    var dy = ev.key === 'ArrowDown' ? 1 : ev.key === 'ArrowUp' ? -1 : 0;
    if (!dx && !dy) return;
    ev.preventDefault();
    var td = b.parentElement, tr = td.parentElement;
    var col = Array.prototype.indexOf.call(tr.children, td);
    var target = null;
    if (dx) {
      var c = td;
      do { c = dx > 0 ? c.nextElementSibling : c.previousElementSibling; } while (c && (c.hidden || !c.querySelector('button.cell')));
      target = c && c.querySelector('button.cell');
    } else {
      var r = tr;
      do { r = dy > 0 ? r.nextElementSibling : r.previousElementSibling; } while (r && r.hidden);
      target = r && r.children[col] && r.children[col].querySelector('button.cell');
    }
    if (target) target.focus();
  });

  apply();
  document.documentElement.dataset.ready = 'true';
})();
`;
