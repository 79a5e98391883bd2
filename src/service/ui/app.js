// The timeline page: the process list (filters as `procreg ls`), a process page with its
// history on a time axis (live over SSE), and an "as of" control for any past moment.
// Plain ES module; talks to the same JSON API as every other client.
import { buildModel, clock, dateTime, escapeHtml, renderTimeline, scopeId } from './timeline.js';

const $ = (id) => document.getElementById(id);
const main = $('main');
let token = localStorage.getItem('procreg.token') ?? '';
let live; // the open event stream of the process page, if any
let renderSeq = 0; // a newer render makes an older one's results stale

// ---- location: #/?all=1&session=s&asOf=ms  or  #/p/<id>?asOf=ms ----
const route = () => {
  const [path, query = ''] = location.hash.replace(/^#/, '').split('?');
  const params = new URLSearchParams(query);
  const match = /^\/p\/(.+)$/.exec(path ?? '');
  return { processId: match ? decodeURIComponent(match[1]) : undefined, params };
};
const go = (processId, params) => {
  const query = params.toString();
  location.hash = `${processId === undefined ? '/' : `/p/${encodeURIComponent(processId)}`}${query ? `?${query}` : ''}`;
};
const asOfOf = (params) => {
  const raw = params.get('asOf');
  return raw && /^\d+$/.test(raw) ? Number(raw) : undefined;
};

// ---- the API ----
const headers = () => (token ? { authorization: `Bearer ${token}` } : {});
const api = async (path, query = {}) => {
  const url = new URL(path, location.origin);
  for (const [k, v] of Object.entries(query))
    if (v !== undefined && v !== '') url.searchParams.set(k, String(v));
  const response = await fetch(url, { headers: headers() });
  const body = await response.json().catch(() => undefined);
  if (!response.ok) {
    const error = new Error(body?.error?.message ?? `HTTP ${response.status}`);
    error.code = body?.error?.code;
    error.status = response.status;
    throw error;
  }
  return body;
};

/** Server-Sent Events over fetch (EventSource cannot send the Authorization header). */
const follow = (path, query, onEvent, onEnd) => {
  const controller = new AbortController();
  (async () => {
    const url = new URL(path, location.origin);
    for (const [k, v] of Object.entries(query)) url.searchParams.set(k, String(v));
    const response = await fetch(url, {
      headers: { ...headers(), accept: 'text/event-stream' },
      signal: controller.signal,
    });
    if (!response.ok) throw new Error(`stream refused: HTTP ${response.status}`);
    const reader = response.body.pipeThrough(new TextDecoderStream()).getReader();
    let buffer = '';
    for (;;) {
      const { done, value } = await reader.read();
      if (done) break;
      buffer += value;
      let end = buffer.indexOf('\n\n');
      while (end >= 0) {
        const block = buffer.slice(0, end);
        buffer = buffer.slice(end + 2);
        const event = /^event: (.*)$/m.exec(block)?.[1];
        const data = /^data: (.*)$/m.exec(block)?.[1];
        if (event === 'event' && data) onEvent(JSON.parse(data));
        end = buffer.indexOf('\n\n');
      }
    }
    onEnd('stream ended');
  })().catch((error) => {
    if (!controller.signal.aborted) onEnd(error.message);
  });
  return { close: () => controller.abort() };
};

const stateBadge = (record) =>
  `<span class="state ${record.status.state}">${escapeHtml(record.status.state)}</span>`;
const ago = (ms) => {
  const s = Math.round((Date.now() - ms) / 1000);
  if (s < 60) return `${s}s ago`;
  if (s < 3600) return `${Math.round(s / 60)}m ago`;
  if (s < 86400) return `${Math.round(s / 3600)}h ago`;
  return dateTime(ms);
};
const status = (text) => {
  $('status').textContent = text;
};
const showError = (error) => {
  const hint = error.status === 401 ? ' Enter a token above.' : '';
  main.innerHTML = `<p class="error" id="error">${escapeHtml(error.message)}${hint}</p>`;
};
const asOfBanner = (asOf) =>
  asOf === undefined
    ? ''
    : `<div class="banner" id="asof-banner">as of ${escapeHtml(dateTime(asOf))}: the registry as it was then (read-only)</div>`;

// ---- the list ----
const renderList = async (params, seq) => {
  const asOf = asOfOf(params);
  const records = await api('/processes', {
    all: params.get('all') === '1' ? 'true' : undefined,
    session: params.get('session') ?? undefined,
    asOf,
  });
  if (seq !== renderSeq) return;
  const rows = records
    .map(
      (r) =>
        `<tr data-id="${escapeHtml(r.id)}"><td><a href="#/p/${encodeURIComponent(r.id)}${asOf !== undefined ? `?asOf=${asOf}` : ''}">${escapeHtml(r.id)}</a></td><td>${stateBadge(r)}</td><td>${escapeHtml(r.input.type)}</td><td class="mono">${escapeHtml(scopeId(r.provenance.ownerScope))}</td><td>${escapeHtml(dateTime(r.createdAtMs))}</td><td>${escapeHtml(ago(r.updatedAtMs))}</td></tr>`,
    )
    .join('');
  main.innerHTML = `${asOfBanner(asOf)}
    <form class="filters" id="filters">
      <label><input type="checkbox" id="filter-all" ${params.get('all') === '1' ? 'checked' : ''}> all (finished too)</label>
      <label>session <input id="filter-session" value="${escapeHtml(params.get('session') ?? '')}" placeholder="any"></label>
      <button type="submit">filter</button>
    </form>
    ${records.length === 0 ? `<p class="muted" id="empty">no ${params.get('all') === '1' ? '' : 'running '}processes${params.get('session') ? ` in session ${escapeHtml(params.get('session'))}` : ''}</p>` : `<table id="process-list"><thead><tr><th>id</th><th>state</th><th>type</th><th>owner</th><th>created</th><th>updated</th></tr></thead><tbody>${rows}</tbody></table>`}`;
  $('filters').addEventListener('submit', (e) => {
    e.preventDefault();
    const next = new URLSearchParams(params);
    if ($('filter-all').checked) next.set('all', '1');
    else next.delete('all');
    const session = $('filter-session').value.trim();
    if (session) next.set('session', session);
    else next.delete('session');
    go(undefined, next);
  });
  status(
    `${records.length} process${records.length === 1 ? '' : 'es'}${asOf === undefined ? '' : ' (as of)'}`,
  );
};

// ---- a process ----
const renderProcess = async (id, params, seq) => {
  const asOf = asOfOf(params);
  const enc = encodeURIComponent(id);
  const [record, history, lease] = await Promise.all([
    api(`/processes/${enc}`, { asOf }),
    api(`/processes/${enc}/history`, { toMs: asOf }),
    api(`/processes/${enc}/lease`, { asOf }),
  ]);
  if (seq !== renderSeq) return;
  // a finished process is drawn to its last fact (plus a margin), a running one up to now
  const last = history.at(-1)?.recordedAtMs ?? Date.now();
  const first = history[0]?.recordedAtMs ?? last;
  const running = record.status.state === 'running';
  const end = asOf ?? (running ? Date.now() : last + Math.max(2000, (last - first) * 0.05));
  const model = buildModel(history, end);
  const width = Math.max(700, Math.min(1360, main.clientWidth - 20));
  const svg = renderTimeline(model, { width, asOfMs: asOf });
  const outcome =
    record.status.state === 'running'
      ? ''
      : `<dt>outcome</dt><dd class="mono">${escapeHtml(JSON.stringify(record.status.awaitOutput))}</dd>`;
  const leaseText = lease.lease
    ? `#${lease.lease.fencingToken} by ${escapeHtml(lease.lease.ownerId)} until ${clock(lease.lease.expiresAtMs)}${lease.lease.expiresAtMs <= end ? ' (expired)' : ''}`
    : 'none';
  const historyRows = history
    .map(
      (h) =>
        `<tr><td class="num">${escapeHtml(h.position)}</td><td>${escapeHtml(clock(h.recordedAtMs, true))}</td><td>${escapeHtml(h.metadata.actor ?? '—')}</td><td>${escapeHtml(h.type)}</td><td class="mono">${escapeHtml(describe(h))}</td></tr>`,
    )
    .join('');
  main.innerHTML = `${asOfBanner(asOf)}
    <h1><span id="process-id">${escapeHtml(record.id)}</span> ${stateBadge(record)}</h1>
    <dl class="summary">
      <dt>type</dt><dd>${escapeHtml(record.input.type)}</dd>
      <dt>owner</dt><dd class="mono">${escapeHtml(scopeId(record.provenance.ownerScope))} on ${escapeHtml(record.provenance.hostProfileId)}</dd>
      <dt>registered</dt><dd>${escapeHtml(dateTime(record.createdAtMs))}</dd>
      <dt>lease</dt><dd>${leaseText}</dd>${outcome}
    </dl>
    <div class="legend"><span><i class="k-event"></i>event</span><span><i class="k-wake"></i>wake (line to its ack)</span><span><i class="k-grant"></i>grant</span><span><i class="k-lease"></i>lease</span><span><i class="k-ok"></i>completed</span><span><i class="k-fail"></i>failed</span><span><i class="k-asof"></i>as of</span></div>
    <div class="timeline" id="timeline">${svg}</div>
    <input type="range" class="scrub" id="scrub" min="${model.start}" max="${Math.max(Date.now(), model.end)}" step="1000" value="${end}" title="drag to see the process as of that moment">
    <table id="history"><thead><tr><th>pos</th><th>time</th><th>actor</th><th>fact</th><th>detail</th></tr></thead><tbody>${historyRows}</tbody></table>`;
  $('scrub').addEventListener('change', (e) => {
    const next = new URLSearchParams(params);
    next.set('asOf', String(Math.round(Number(e.target.value))));
    go(id, next);
  });
  const events = model.events.length;
  if (asOf === undefined && running && !live) {
    const lastSequence = model.events.at(-1)?.sequence ?? 0;
    live = follow(
      `/processes/${enc}/events`,
      { after: lastSequence },
      () => schedule(),
      (why) => status(`live stream closed: ${why}`),
    );
    status(`live · ${events} events`);
  } else if (asOf !== undefined) status(`as of ${dateTime(asOf)} · ${events} events`);
  else status(`${running ? 'live' : record.status.state} · ${events} events`);
};

const describe = (h) => {
  const d = h.data;
  switch (h.type) {
    case 'ProcessRegistered':
      return `${d.record.input.type} owner ${scopeId(d.record.provenance.ownerScope)}`;
    case 'ProcessEventAppended':
      return `#${d.event.sequence} ${d.event.eventType} ${JSON.stringify(d.event.payload).slice(0, 120)}`;
    case 'HandleGranted':
      return `to ${scopeId(d.scope)} ${JSON.stringify(d.descriptor)}`;
    case 'HandleRevoked':
      return `from ${scopeId(d.scope)} (${d.reason})`;
    case 'HandleTransferred':
      return `${scopeId(d.from)} → ${scopeId(d.to)}`;
    case 'WakeAcked':
      return `wake of #${d.sequence}`;
    case 'LeaseClaimed':
      return `#${d.lease.fencingToken} by ${d.lease.ownerId} until ${clock(d.lease.expiresAtMs)}`;
    case 'LeaseRenewed':
      return `#${d.fencingToken} until ${clock(d.expiresAtMs)}`;
    case 'LeaseReleased':
      return `#${d.fencingToken}`;
    case 'ExternalRefSet':
      return `${d.externalRef.backend}:${d.externalRef.id}`;
    default:
      return '';
  }
};

// ---- wiring ----
let pending = false;
const schedule = () => {
  if (pending) return;
  pending = true;
  requestAnimationFrame(() => {
    pending = false;
    render();
  });
};

const render = async () => {
  const seq = ++renderSeq;
  const { processId, params } = route();
  const asOf = asOfOf(params);
  $('asof').value = asOf === undefined ? '' : toLocalInput(asOf);
  $('live').classList.toggle('on', asOf === undefined);
  if (live && (processId === undefined || asOf !== undefined || live.id !== processId)) {
    live.close();
    live = undefined;
  }
  try {
    if (processId === undefined) await renderList(params, seq);
    else {
      await renderProcess(processId, params, seq);
      if (live) live.id = processId;
    }
  } catch (error) {
    if (seq === renderSeq) showError(error);
  }
  // which location the page now shows (tests and scripts wait on it)
  if (seq === renderSeq) main.dataset.rendered = location.hash || '#/';
};

const toLocalInput = (ms) => {
  const d = new Date(ms - new Date(ms).getTimezoneOffset() * 60_000);
  return d.toISOString().slice(0, 19);
};
const setAsOf = (ms) => {
  const { processId, params } = route();
  const next = new URLSearchParams(params);
  if (ms === undefined) next.delete('asOf');
  else next.set('asOf', String(Math.round(ms)));
  go(processId, next);
};

$('asof').addEventListener('change', (e) => {
  const ms = new Date(e.target.value).getTime();
  setAsOf(Number.isFinite(ms) ? ms : undefined);
});
$('asof-back').addEventListener('click', () =>
  setAsOf((asOfOf(route().params) ?? Date.now()) - 60_000),
);
$('asof-fwd').addEventListener('click', () => {
  const next = (asOfOf(route().params) ?? Date.now()) + 60_000;
  setAsOf(next >= Date.now() ? undefined : next);
});
$('live').addEventListener('click', () => setAsOf(undefined));
$('token').value = token;
$('token-form').addEventListener('submit', (e) => {
  e.preventDefault();
  token = $('token').value.trim();
  localStorage.setItem('procreg.token', token);
  whoami();
  render();
});
const whoami = async () => {
  try {
    const me = await api('/whoami');
    $('whoami').textContent = me.actor
      ? `${me.actor} (${me.access === 'sessions' ? me.sessions.join(', ') : me.access})`
      : me.access;
  } catch (error) {
    $('whoami').textContent = error.status === 401 ? 'token needed' : '';
  }
};
window.addEventListener('hashchange', render);
whoami();
render();
