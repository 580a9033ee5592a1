// pages.js - the dashboard's pages (docs/dashboard.md), built with DOM calls
// only (text goes in as text, never as HTML), reading everything through
// the HTTP API (api.js). Live pages poll: the deployment page asks
// GET /deployments/ID/events?after=N every second.
import { api, serverNow } from './api.js';

// ---- small helpers ----

// h('a', {href: '#/'}, 'text', child...): an element; attributes as given,
// children as text nodes or elements (null and false are skipped).
export function h(tag, attrs, ...children) {
  const e = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs || {})) {
    if (v === false || v === null || v === undefined) continue;
    if (k === 'class') e.className = v;
    else if (k.startsWith('on')) e.addEventListener(k.slice(2), v);
    else e.setAttribute(k, v === true ? '' : String(v));
  }
  for (const c of children.flat()) {
    if (c === null || c === undefined || c === false) continue;
    e.append(c instanceof Node ? c : document.createTextNode(String(c)));
  }
  return e;
}

// The API's problem detail (or any error's message), as it is.
export function showError(e) {
  const box = document.getElementById('error');
  box.textContent = typeof e === 'string' ? e : e.message;
  box.hidden = false;
}
export function clearError() {
  const box = document.getElementById('error');
  box.textContent = '';
  box.hidden = true;
}

// Run fn now and again ms after each run ends (never two at once), until stopped.
function poll(fn, ms) {
  let stopped = false, timer = null;
  const run = async () => {
    try {
      await fn();
    } catch (e) {
      if (!stopped) showError(e);
    }
    if (!stopped) timer = setTimeout(run, ms);
  };
  run();
  return () => {
    stopped = true;
    clearTimeout(timer);
  };
}

const FINAL = new Set(['succeeded', 'rolled_back', 'failed']);

function duration(ms) {
  if (ms < 0) ms = 0;
  const s = Math.round(ms / 1000);
  if (s < 60) return `${s}s`;
  if (s < 3600) return `${Math.floor(s / 60)}m ${s % 60}s`;
  if (s < 86400) return `${Math.floor(s / 3600)}h ${Math.floor((s % 3600) / 60)}m`;
  return `${Math.floor(s / 86400)}d ${Math.floor((s % 86400) / 3600)}h`;
}

function when(t) {
  if (!t) return '—';
  const d = new Date(t);
  return d.toISOString().replace('T', ' ').replace(/\.\d+Z$/, 'Z');
}

function ago(t) {
  return t ? duration(serverNow() - Date.parse(t)) + ' ago' : '—';
}

// What is left of the current step's hold: the API's hold_until (wall time).
function holdLeft(d) {
  if (!d.hold_until) return '—';
  const ms = Date.parse(d.hold_until) - serverNow();
  return ms > 0 ? duration(ms) : 'done: at the next passing analysis';
}

function stepText(d) {
  return d.steps ? `${d.step}/${d.steps}` : String(d.step);
}

function num(v, unit, digits) {
  return v === null || v === undefined || typeof v !== 'number' ? '—' : v.toFixed(digits) + unit;
}

function badge(state) {
  return h('span', { class: `state state-${state}`, 'data-state': state }, state.replace('_', ' '));
}

// ---- deployments now and recent ----

export function deploymentsPage(ctx) {
  const nowBody = h('tbody', { id: 'now' }), recentBody = h('tbody', { id: 'recent' });
  const head = () => h('thead', {}, h('tr', {},
    ['#', 'service', 'version', 'env', 'strategy', 'state', 'step', 'weight', 'hold left', 'updated']
      .map((c) => h('th', {}, c))));
  ctx.main.replaceChildren(
    h('h1', {}, 'Deployments'),
    h('h2', {}, 'Now'), h('table', { class: 'grid' }, head(), nowBody),
    h('h2', {}, 'Recent'), h('table', { class: 'grid' }, head(), recentBody));
  let items = null;
  const row = (d) => h('tr', { 'data-id': d.id, 'data-state': d.state },
    h('td', {}, h('a', { href: `#/deployments/${d.id}` }, `#${d.id}`)),
    h('td', {}, d.service),
    h('td', {}, d.from_version ? `${d.from_version} → ${d.version}` : d.version),
    h('td', {}, d.env),
    h('td', {}, d.strategy || d.type),
    h('td', {}, badge(d.state)),
    h('td', { class: 'step' }, stepText(d)),
    h('td', { class: 'weight' }, `${d.weight}%`),
    h('td', { class: 'left' }, holdLeft(d)),
    h('td', { title: when(d.updated_at) }, ago(d.updated_at)));
  const render = () => {
    if (!items) return;
    const now = items.filter((d) => !FINAL.has(d.state)), recent = items.filter((d) => FINAL.has(d.state));
    nowBody.replaceChildren(...(now.length ? now.map(row)
      : [h('tr', {}, h('td', { colspan: 10, class: 'muted' }, 'No deployment in progress.'))]));
    recentBody.replaceChildren(...(recent.length ? recent.map(row)
      : [h('tr', {}, h('td', { colspan: 10, class: 'muted' }, 'None yet.'))]));
  };
  const stop = poll(async () => {
    items = (await api('GET', '/deployments?limit=50')).items;
    clearError();
    render();
  }, 1000);
  const tick = setInterval(render, 1000);
  return () => {
    stop();
    clearInterval(tick);
  };
}

// ---- one deployment, live ----

function chart(el, title, unit, series) {
  if (typeof uPlot !== 'function') {
    el.replaceChildren(h('p', { class: 'muted' }, 'The chart library did not load.'));
    return null;
  }
  const opts = {
    title, width: Math.max(320, el.clientWidth || 560), height: 220,
    series: [{}, { label: 'stable / baseline', stroke: '#2b6cb0', width: 2, value: (u, v) => num(v, unit, 2) },
      { label: 'canary', stroke: '#dd6b20', width: 2, value: (u, v) => num(v, unit, 2) }],
    // from 0, and at least 1 unit tall: an error rate of 0 stays a flat line at the bottom
    scales: { x: { time: true }, y: { range: (u, min, max) => [0, Math.max(1, (max || 0) * 1.15)] } },
    axes: [{}, { label: unit, size: 60 }],
  };
  return new uPlot(opts, series, el);
}

export function deploymentPage(ctx, id) {
  const roles = new Set(ctx.identity.roles);
  const title = h('h1', {}, `Deployment #${id}`);
  const summary = h('dl', { class: 'summary', id: 'summary' });
  const reason = h('p', { class: 'reason', id: 'reason' });
  const actions = h('div', { class: 'actions', id: 'actions' });
  const gateBox = h('section', { id: 'approvals' });
  const clNote = h('p', { class: 'muted', id: 'checklist-note' });
  const clBody = h('tbody', { id: 'checklist' });
  const errChart = h('div', { class: 'chart', id: 'chart-error' }), p99Chart = h('div', { class: 'chart', id: 'chart-p99' });
  const chartNote = h('p', { class: 'muted', id: 'chart-note' });
  const charts = h('div', { class: 'charts', hidden: true }, errChart, p99Chart);
  const cmpBody = h('tbody', { id: 'comparison' });
  const tlBody = h('tbody', { id: 'timeline' });
  const comment = h('input', { type: 'text', id: 'comment', placeholder: 'comment (required to reject)' });
  ctx.main.replaceChildren(
    h('p', {}, h('a', { href: '#/' }, '← deployments')), title, summary, reason, actions,
    h('h2', {}, 'Approvals'), gateBox,
    h('h2', {}, 'Checklist'), clNote,
    h('table', { class: 'grid' }, h('thead', {}, h('tr', {},
      ['item', 'list', 'state', 'blocks', 'by', 'at', 'evidence'].map((c) => h('th', {}, c)))), clBody),
    h('h2', {}, 'Canary vs stable'), chartNote, charts,
    h('h3', {}, 'Last comparison'),
    h('table', { class: 'grid' }, h('thead', {}, h('tr', {},
      ['metric', 'stable / baseline', 'canary', 'delta', 'status'].map((c) => h('th', {}, c)))), cmpBody),
    h('h2', {}, 'Timeline'),
    h('table', { class: 'grid' }, h('thead', {}, h('tr', {},
      ['#', 'at', 'from', 'to', 'step', 'weight', 'reason'].map((c) => h('th', {}, c)))), tlBody));

  let detail = null, gate = null, checklist = null, shownChecklist = null, seq = 0, lastAnalysis = 0, busy = false;
  const points = { t: [], es: [], ec: [], ps: [], pc: [] };
  let lastTable = null;
  let uErr = null, uP99 = null;

  const renderSummary = () => {
    if (!detail) return;
    const d = detail.deployment;
    title.replaceChildren(`#${d.id} ${d.service} ${d.version} `, badge(d.state));
    const item = (k, v, field) => [h('dt', {}, k), h('dd', { 'data-field': field || null }, v)];
    summary.replaceChildren(
      ...item('state', d.state, 'state'), ...item('step', stepText(d), 'step'),
      ...item('weight', `${d.weight}%`, 'weight'), ...item('hold left', holdLeft(d), 'left'),
      ...item('env', d.env), ...item('from', d.from_version || '—'),
      ...item('type / strategy', `${d.type} / ${d.strategy || '—'}`),
      ...item('requested by', d.requested_by || '—'), ...item('created', when(d.created_at)));
    reason.textContent = d.reason || '';
  };

  const act = async (what, body) => {
    if (what === 'abort' && !window.confirm(`Abort deployment #${id}? It rolls back on the controller's next tick.`))
      return;
    try {
      await api('POST', `/deployments/${id}/${what}`, body);
      clearError();
      refresh();
    } catch (e) {
      showError(e);
    }
  };

  let shownActions = null, shownGate = null;
  const renderActions = () => {
    if (!detail) return;
    const d = detail.deployment;
    if (shownActions === d.state) return;	// rebuilt only when the state changes
    shownActions = d.state;
    actions.replaceChildren();
    if (FINAL.has(d.state)) return;
    if (!roles.has('deployer')) {
      actions.append(h('p', { class: 'muted' }, 'Promote, pause and abort need the role deployer.'));
      return;
    }
    const b = (what, label, body) => h('button', { type: 'button', id: `btn-${what}`, onclick: () => act(what, body) }, label);
    if (d.state === 'progressing' || d.state === 'paused' || d.state === 'monitoring') actions.append(b('promote', 'Promote'));
    if (d.state === 'progressing' || d.state === 'monitoring') actions.append(b('pause', 'Pause'));
    if (d.state === 'paused') actions.append(b('resume', 'Resume'));
    actions.append(b('abort', 'Abort'));
  };

  const decide = async (decision, role) => {
    const body = { role };
    if (comment.value.trim()) body.comment = comment.value.trim();
    try {
      await api('POST', `/deployments/${id}/${decision}`, body);
      clearError();
      refresh();
    } catch (e) {
      showError(e);
    }
  };

  const renderGate = () => {
    if (!gate || !detail) return;
    const d = detail.deployment;
    const key = JSON.stringify([gate, FINAL.has(d.state)]);
    if (shownGate === key) return;	// unchanged: keep the comment being typed and its focus
    shownGate = key;
    const rows = [];
    for (const a of gate.approved) rows.push(h('li', { class: 'approved' }, `${a.role}: approved by ${a.by} at ${when(a.at)}`));
    for (const m of gate.missing) {
      const li = h('li', { class: 'missing', 'data-role': m.role }, `${m.role}: ${m.why} `);
      if (!FINAL.has(d.state) && !gate.rejected) {
        if (roles.has(m.role)) {
          li.append(h('button', { type: 'button', class: 'approve', 'data-role': m.role, onclick: () => decide('approve', m.role) }, `Approve as ${m.role}`),
            ' ', h('button', { type: 'button', class: 'reject', 'data-role': m.role, onclick: () => decide('reject', m.role) }, 'Reject'));
        } else {
          li.append(h('span', { class: 'muted no-role' }, `(you do not hold ${m.role})`));
        }
      }
      rows.push(li);
    }
    const status = gate.rejected ? 'rejected' : gate.open ? 'open' : 'waiting';
    gateBox.replaceChildren(...[
      h('p', {}, 'Gate: ', h('strong', { id: 'gate-status', 'data-gate': status }, status),
        gate.required.length ? ` (required: ${gate.required.join(', ')}; approvals last ${gate.ttl})` : ' (no approval required)'),
      rows.length ? h('ul', {}, rows) : null,
      gate.missing.some((m) => roles.has(m.role)) && !gate.rejected && !FINAL.has(d.state) ? comment : null,
    ].filter(Boolean));
  };

  // the checklist as 'slipway checklist' shows it (docs/checklists.md): rebuilt only when it changes
  const renderChecklist = () => {
    if (!checklist) return;
    const key = JSON.stringify(checklist.items);
    if (shownChecklist === key) return;
    shownChecklist = key;
    const n = checklist.blocking_unsatisfied;
    clNote.textContent = n ? `${n} blocking item(s) not satisfied` : 'No blocking item is missing.';
    clBody.replaceChildren(...checklist.items.map((i) => h('tr', { 'data-item': i.id, 'data-state': i.state, class: `checklist-${i.state}` },
      h('td', { title: i.text }, i.id), h('td', {}, i.list), h('td', {}, i.state), h('td', {}, i.blocking ? 'yes' : 'no'),
      h('td', {}, i.by || '—'), h('td', {}, i.at ? when(i.at) : '—'),
      h('td', {}, [i.evidence, i.detail].filter(Boolean).join(': ')))));
  };

  const renderTimeline = (items) => {
    for (const t of items) {
      tlBody.append(h('tr', { 'data-seq': t.seq },
        h('td', {}, t.seq), h('td', {}, when(t.at)), h('td', {}, t.from || '—'), h('td', {}, badge(t.to)),
        h('td', {}, t.step), h('td', {}, t.weight === null ? '—' : `${t.weight}%`), h('td', {}, t.reason || '')));
    }
  };

  const renderAnalysis = () => {
    chartNote.textContent = points.t.length
      ? `${points.t.length} analysis interval(s); stable/baseline is the comparison table's baseline column.`
      : 'No analysis result yet: the first comes one interval after the canary takes traffic.';
    const err = [points.t, points.es, points.ec], p99 = [points.t, points.ps, points.pc];
    charts.hidden = !points.t.length;
    if (points.t.length) {
      if (!uErr) uErr = chart(errChart, 'error rate', '%', err); else uErr.setData(err);
      if (!uP99) uP99 = chart(p99Chart, 'p99 latency', 'ms', p99); else uP99.setData(p99);
    }
    const rows = lastTable || (detail && detail.last_analysis && detail.last_analysis.table) || [];
    cmpBody.replaceChildren(...(rows.length ? rows.map((r) => h('tr', { class: `status-${r.status}` },
      h('td', {}, r.metric), h('td', {}, typeof r.baseline === 'number' ? r.baseline.toFixed(2) : r.baseline ?? '—'),
      h('td', {}, typeof r.current === 'number' ? r.current.toFixed(2) : r.current ?? '—'),
      h('td', {}, typeof r.delta === 'number' ? r.delta.toFixed(2) : r.delta ?? '—'), h('td', {}, r.status)))
      : [h('tr', {}, h('td', { colspan: 5, class: 'muted' }, 'No comparison yet.'))]));
  };

  const refresh = async () => {
    const [dd, gg, an, cl] = await Promise.all([
      api('GET', `/deployments/${id}`),
      api('GET', `/deployments/${id}/approvals`),
      api('GET', `/deployments/${id}/analysis?after=${lastAnalysis}`),
      api('GET', `/deployments/${id}/checklist`),
    ]);
    detail = dd;
    gate = gg;
    checklist = cl;
    for (const a of an.items) {
      lastAnalysis = a.id;
      points.t.push(Date.parse(a.at) / 1000);
      points.es.push(a.error_rate_pct.stable);
      points.ec.push(a.error_rate_pct.canary);
      points.ps.push(a.p99_ms.stable);
      points.pc.push(a.p99_ms.canary);
      if (a.table) lastTable = a.table;
    }
    renderSummary();
    renderActions();
    renderGate();
    renderChecklist();
    renderAnalysis();
  };

  // every second: the events after the last one seen; the detail, the gate and
  // new analysis results with them (a step's weight and the hold change
  // without a transition too, so those are read each time)
  const stop = poll(async () => {
    if (busy) return;
    busy = true;
    try {
      const ev = await api('GET', `/deployments/${id}/events?after=${seq}`);
      if (ev.items.length) {
        seq = ev.items[ev.items.length - 1].seq;
        renderTimeline(ev.items);
      }
      await refresh();
      clearError();
    } finally {
      busy = false;
    }
  }, 1000);
  const tick = setInterval(renderSummary, 1000);
  return () => {
    stop();
    clearInterval(tick);
    if (uErr) uErr.destroy();
    if (uP99) uP99.destroy();
  };
}

// ---- the calendar: windows and freezes of the next 14 days ----

function day(ms) {
  return new Date(ms).toISOString().slice(0, 10);
}

export function calendarPage(ctx) {
  const typeInput = h('input', { type: 'text', id: 'cal-type', value: 'standard', size: 12 });
  const grid = h('div', { id: 'calendar', class: 'calendar' });
  const freezes = h('tbody', { id: 'freezes' });
  const note = h('p', { class: 'muted' });
  const form = h('form', { class: 'inline' }, h('label', { for: 'cal-type' }, 'deployment type '), typeInput,
    h('button', { type: 'submit' }, 'Show'));
  const legend = h('p', { class: 'legend' }, h('span', { class: 'key open' }), ' open ',
    h('span', { class: 'key needs-approval' }, ''), ' open with approvals ', h('span', { class: 'key closed' }), ' closed');
  ctx.main.replaceChildren(h('h1', {}, 'Calendar: the next 14 days'), form, note, legend, grid,
    h('h2', {}, 'Freezes'),
    h('table', { class: 'grid' }, h('thead', {}, h('tr', {},
      ['name', 'kind', 'from', 'until', 'blocks this type', 'admits', 'reason'].map((c) => h('th', {}, c)))), freezes));
  const load = async () => {
    const from = Date.now(), to = from + 13 * 86400000;
    const c = await api('GET', `/calendar?type=${encodeURIComponent(typeInput.value)}&from=${day(from)}&to=${day(to)}`);
    clearError();
    note.textContent = `When a ${c.type} deployment (class ${c.class}) may start; times in UTC, the policy's timezone is ${c.timezone}. ` +
      'Hover over a span for its window and the approvals it requires.';
    const rows = [];
    for (let i = 0; i < 14; i++) {
      const d0 = Date.parse(day(from + i * 86400000) + 'T00:00:00Z'), d1 = d0 + 86400000;
      const bar = h('div', { class: 'bar' });
      for (const s of c.spans) {
        const a = Math.max(Date.parse(s.from), d0), b = Math.min(Date.parse(s.to), d1);
        if (b <= a) continue;
        const seg = h('div', { class: 'span', title: `${s.window || 'open'}: ${when(s.from)} – ${when(s.to)}` +
          (s.approvals && s.approvals.length ? `; approvals: ${s.approvals.join(', ')}` : '') });
        seg.style.left = `${((a - d0) / 86400000) * 100}%`;
        seg.style.width = `${((b - a) / 86400000) * 100}%`;
        if (s.approvals && s.approvals.length) seg.classList.add('needs-approval');
        bar.append(seg);
      }
      rows.push(h('div', { class: 'day' }, h('span', { class: 'date' },
        new Date(d0).toUTCString().slice(0, 11)), bar));
    }
    grid.replaceChildren(h('div', { class: 'day hours' }, h('span', { class: 'date' }, ''),
      h('div', { class: 'scale' }, ...[0, 6, 12, 18].map((x) => h('span', {}, `${x}:00`)))), ...rows);
    freezes.replaceChildren(...((c.freezes || []).length ? c.freezes.map((f) => h('tr', { class: f.blocks ? 'blocks' : null },
      h('td', {}, f.name), h('td', {}, f.kind), h('td', {}, f.from), h('td', {}, f.until),
      h('td', {}, f.blocks ? 'yes' : 'no'), h('td', {}, (f.admits || []).join(', ') || '—'), h('td', {}, f.reason || '')))
      : [h('tr', {}, h('td', { colspan: 7, class: 'muted' }, 'No freeze in these 14 days.'))]));
  };
  form.addEventListener('submit', (ev) => {
    ev.preventDefault();
    load().catch(showError);
  });
  load().catch(showError);
  return () => {};
}

// ---- DORA: the four metrics against their targets, and by month ----

export function doraPage(ctx) {
  const envInput = h('input', { type: 'text', id: 'dora-env', value: 'production', size: 12 });
  const svcInput = h('input', { type: 'text', id: 'dora-service', placeholder: 'all services', size: 14 });
  const metrics = h('tbody', { id: 'dora-metrics' });
  const monthly = h('div', { class: 'chart', id: 'chart-monthly' });
  const months = h('tbody', { id: 'dora-months' });
  const head = h('p', { class: 'muted' });
  const form = h('form', { class: 'inline' }, h('label', { for: 'dora-env' }, 'env '), envInput, ' ',
    h('label', { for: 'dora-service' }, 'service '), svcInput, ' ', h('button', { type: 'submit' }, 'Show'));
  ctx.main.replaceChildren(h('h1', {}, 'DORA metrics'), form, head,
    h('table', { class: 'grid' }, h('thead', {}, h('tr', {},
      ['metric', 'value', 'target', 'status', 'samples'].map((c) => h('th', {}, c)))), metrics),
    h('h2', {}, 'By month (the last 12)'), monthly,
    h('table', { class: 'grid' }, h('thead', {}, h('tr', {},
      ['month', 'succeeded', 'rolled back', 'failed', 'change failures', 'change failure rate', 'lead time (median)']
        .map((c) => h('th', {}, c)))), months));
  let u = null;
  const load = async () => {
    const now = new Date();
    const since = new Date(Date.UTC(now.getUTCFullYear(), now.getUTCMonth() - 11, 1)).toISOString().slice(0, 10);
    let q = `/dora?env=${encodeURIComponent(envInput.value)}&since=${since}`;
    if (svcInput.value.trim()) q += `&service=${encodeURIComponent(svcInput.value.trim())}`;
    const r = await api('GET', q);
    clearError();
    head.textContent = `${r.service || 'all services'} in ${r.env}, ${when(r.since)} to ${when(r.until)}: ` +
      `${r.deployments.finished} finished (${r.deployments.succeeded} succeeded, ${r.deployments.rolled_back} rolled back, ` +
      `${r.deployments.failed} failed).`;
    metrics.replaceChildren(...r.metrics.map((m) => h('tr', { class: `status-${m.status.replace(/\s+/g, '-')}`, 'data-key': m.key },
      h('td', {}, m.name), h('td', {}, m.display), h('td', {}, m.target), h('td', {}, m.status), h('td', {}, m.samples))));
    months.replaceChildren(...r.monthly.map((m) => h('tr', {},
      h('td', {}, m.month), h('td', {}, m.succeeded), h('td', {}, m.rolled_back), h('td', {}, m.failed),
      h('td', {}, m.change_failures), h('td', {}, num(m.change_failure_rate === null ? null : m.change_failure_rate, '%', 1)),
      h('td', {}, m.lead_time_median_ms === null ? '—' : duration(m.lead_time_median_ms)))));
    const xs = r.monthly.map((m) => Date.parse(m.month + '-01T00:00:00Z') / 1000);
    const data = [xs, r.monthly.map((m) => m.succeeded), r.monthly.map((m) => m.rolled_back + m.failed),
      r.monthly.map((m) => m.change_failure_rate)];
    if (u) u.destroy();
    u = null;
    if (typeof uPlot === 'function' && xs.length) {
      u = new uPlot({
        title: 'deployments and change failure rate by month', width: Math.max(320, monthly.clientWidth || 640), height: 240,
        scales: { x: { time: true }, pct: { range: [0, 100] } },
        series: [{}, { label: 'succeeded', stroke: '#2f855a', width: 2, points: { show: true } },
          { label: 'rolled back or failed', stroke: '#c53030', width: 2, points: { show: true } },
          { label: 'change failure rate %', stroke: '#6b46c1', dash: [6, 4], scale: 'pct', points: { show: true } }],
        axes: [{}, { label: 'deployments' }, { side: 1, scale: 'pct', label: '%', grid: { show: false } }],
      }, data, monthly);
    }
  };
  form.addEventListener('submit', (ev) => {
    ev.preventDefault();
    load().catch(showError);
  });
  load().catch(showError);
  return () => {
    if (u) u.destroy();
  };
}
