// The process timeline: history entries (domain events) folded into lanes, drawn as SVG.
// Pure functions, no DOM: app.js puts the string into the page.

export const escapeHtml = (text) =>
  String(text).replace(
    /[&<>"']/g,
    (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c],
  );

export const scopeId = (scope) =>
  `session:${scope.sessionId}${scope.agentFrameId ? `/frame:${scope.agentFrameId}` : ''}`;

const pad = (n, w = 2) => String(n).padStart(w, '0');
export const clock = (ms, withMs = false) => {
  const d = new Date(ms);
  const base = `${pad(d.getHours())}:${pad(d.getMinutes())}:${pad(d.getSeconds())}`;
  return withMs ? `${base}.${pad(d.getMilliseconds(), 3)}` : base;
};
export const dateTime = (ms) => {
  const d = new Date(ms);
  return `${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())} ${clock(ms)}`;
};

const short = (value, max = 80) => {
  const text = typeof value === 'string' ? value : JSON.stringify(value);
  return text.length > max ? `${text.slice(0, max - 1)}…` : text;
};

/**
 * Folds a process's history into what the page draws: process events, grant spans per
 * scope, lease spans (claim → release or expiry), wakes with their acks, and the outcome.
 * `endMs` closes open spans (now, or the "as of" moment).
 */
export const buildModel = (history, endMs) => {
  const model = {
    start: undefined,
    end: endMs,
    events: [],
    grants: new Map(),
    leases: [],
    wakes: [],
    outcome: undefined,
  };
  const openGrants = new Map();
  let lease;
  const openGrant = (scope, at, label) => {
    const id = scopeId(scope);
    if (openGrants.has(id)) return;
    const span = { from: at, to: undefined, label };
    openGrants.set(id, span);
    if (!model.grants.has(id)) model.grants.set(id, []);
    model.grants.get(id).push(span);
  };
  const closeGrant = (scope, at) => {
    const id = scopeId(scope);
    const span = openGrants.get(id);
    if (span) span.to = at;
    openGrants.delete(id);
  };
  const closeLease = (at, how) => {
    if (!lease) return;
    lease.to = Math.min(at, lease.expiresAtMs);
    lease.how = at > lease.expiresAtMs ? 'expired' : how;
    lease = undefined;
  };
  for (const entry of history) {
    const at = entry.recordedAtMs;
    model.start ??= at;
    const d = entry.data;
    switch (entry.type) {
      case 'ProcessRegistered':
        model.registered = at;
        break;
      case 'HandleGranted':
        openGrant(d.scope, d.atMs, d.descriptor.label ?? d.descriptor.kind ?? '');
        break;
      case 'HandleRevoked':
        closeGrant(d.scope, d.atMs);
        break;
      case 'HandleTransferred':
        closeGrant(d.from, d.atMs);
        openGrant(d.to, d.atMs, d.descriptor.label ?? d.descriptor.kind ?? '');
        break;
      case 'ProcessEventAppended': {
        const e = d.event;
        const terminal = e.semantics.terminal;
        const kind = terminal
          ? terminal.state
          : e.eventType === 'process.cancel_requested'
            ? 'cancel'
            : e.semantics.wake
              ? 'wake'
              : 'line';
        model.events.push({
          t: e.occurredAtMs,
          sequence: e.sequence,
          eventType: e.eventType,
          kind,
          payload: e.payload,
          actor: entry.metadata.actor,
        });
        if (e.semantics.wake) {
          model.wakes.push({
            t: e.occurredAtMs,
            sequence: e.sequence,
            target: d.wakeTargetScope ? scopeId(d.wakeTargetScope) : '?',
            input: e.semantics.wake.input,
            ackedAt: undefined,
          });
        }
        if (terminal && !model.outcome)
          model.outcome = {
            t: e.occurredAtMs,
            state: terminal.state,
            output: terminal.awaitOutput,
          };
        break;
      }
      case 'WakeAcked': {
        const wake = model.wakes.find((w) => w.sequence === d.sequence);
        if (wake && wake.ackedAt === undefined) wake.ackedAt = d.atMs;
        break;
      }
      case 'LeaseClaimed':
        closeLease(d.lease.claimedAtMs, 'superseded');
        lease = {
          from: d.lease.claimedAtMs,
          expiresAtMs: d.lease.expiresAtMs,
          owner: d.lease.ownerId,
          fencing: d.lease.fencingToken,
          to: undefined,
          how: undefined,
        };
        model.leases.push(lease);
        break;
      case 'LeaseRenewed':
        if (lease && lease.fencing === d.fencingToken) lease.expiresAtMs = d.expiresAtMs;
        break;
      case 'LeaseReleased':
        if (lease && lease.fencing === d.fencingToken) closeLease(d.atMs, 'released');
        break;
    }
  }
  if (lease) {
    lease.to = Math.min(endMs, lease.expiresAtMs);
    lease.how = endMs >= lease.expiresAtMs ? 'expired' : 'held';
  }
  model.start ??= endMs;
  model.end = Math.max(endMs, model.start + 1000, ...model.events.map((e) => e.t));
  return model;
};

const TICKS = [
  1, 2, 5, 10, 15, 30, 60, 120, 300, 600, 900, 1800, 3600, 7200, 21600, 43200, 86400,
].map((s) => s * 1000);

/** The timeline as an SVG string: one lane per kind of fact, a time axis, the "as of" line. */
export const renderTimeline = (model, { width = 1100, asOfMs } = {}) => {
  const left = 200;
  const right = 24;
  const span = model.end - model.start || 1;
  const x = (t) => left + ((t - model.start) / span) * (width - left - right);
  const rows = [];
  let y = 28;
  const lane = (label, draw) => {
    rows.push(`<text class="lane-label" x="8" y="${y + 4}">${escapeHtml(short(label, 32))}</text>`);
    rows.push(draw(y));
    y += 26;
  };
  y += 10; // room for the sequence labels above the event dots
  lane('events', (cy) => {
    let lastLabel = Number.NEGATIVE_INFINITY;
    return model.events
      .map((e) => {
        const cx = x(e.t);
        // a label where there is room for it: #sequence, and the type for notable events
        const notable = e.kind !== 'line';
        const text = notable ? `#${e.sequence} ${e.eventType}` : `#${e.sequence}`;
        const label =
          cx - lastLabel > (notable ? 90 : 22)
            ? `<text class="tick-label" x="${cx.toFixed(1)}" y="${cy - 9}" text-anchor="middle">${escapeHtml(short(text, 28))}</text>`
            : '';
        if (label) lastLabel = cx;
        return `<circle class="ev ${e.kind}" data-seq="${e.sequence}" cx="${cx.toFixed(1)}" cy="${cy}" r="${notable ? 6 : 4}"><title>#${e.sequence} ${escapeHtml(e.eventType)} at ${clock(e.t, true)}${e.actor ? ` by ${escapeHtml(e.actor)}` : ''}\n${escapeHtml(short(e.payload, 300))}</title></circle>${label}`;
      })
      .join('');
  });
  if (model.wakes.length > 0) {
    lane('wakes → acks', (cy) =>
      model.wakes
        .map((w) => {
          const x1 = x(w.t);
          const x2 = w.ackedAt !== undefined ? x(w.ackedAt) : x(model.end);
          const title = `<title>wake of #${w.sequence} to ${escapeHtml(w.target)}: ${escapeHtml(short(w.input, 200))}${w.ackedAt !== undefined ? `\nacked at ${clock(w.ackedAt, true)}` : '\nnot acked'}</title>`;
          return `<g class="wake">${title}<line class="ack" x1="${x1.toFixed(1)}" y1="${cy}" x2="${x2.toFixed(1)}" y2="${cy}" ${w.ackedAt === undefined ? 'stroke-dasharray="3 3"' : ''}/><circle class="ev wake" cx="${x1.toFixed(1)}" cy="${cy}" r="5"/>${w.ackedAt !== undefined ? `<circle class="ack-dot" cx="${x2.toFixed(1)}" cy="${cy}" r="4"/>` : ''}</g>`;
        })
        .join(''),
    );
  }
  for (const [scope, spans] of model.grants) {
    lane(`grant ${scope.replace(/^session:/, '')}`, (cy) =>
      spans
        .map((s) => {
          const x1 = x(s.from);
          const x2 = x(s.to ?? model.end);
          return `<rect class="span-grant" x="${x1.toFixed(1)}" y="${cy - 6}" width="${Math.max(2, x2 - x1).toFixed(1)}" height="12" rx="3"><title>${escapeHtml(scope)}${s.label ? ` "${escapeHtml(s.label)}"` : ''}: ${clock(s.from)} → ${s.to ? clock(s.to) : 'still held'}</title></rect>`;
        })
        .join(''),
    );
  }
  if (model.leases.length > 0) {
    lane('leases', (cy) =>
      model.leases
        .map((l) => {
          const x1 = x(l.from);
          const x2 = x(l.to ?? model.end);
          const w = Math.max(2, x2 - x1);
          return `<g><rect class="span-lease ${l.how}" x="${x1.toFixed(1)}" y="${cy - 7}" width="${w.toFixed(1)}" height="14" rx="3"><title>lease #${l.fencing} by ${escapeHtml(l.owner)}: ${clock(l.from)} → ${clock(l.to)} (${l.how})</title></rect>${w > 60 ? `<text x="${(x1 + 4).toFixed(1)}" y="${cy + 4}">${escapeHtml(short(l.owner, Math.floor(w / 7)))}</text>` : ''}</g>`;
        })
        .join(''),
    );
  }
  if (model.outcome) {
    const o = model.outcome;
    lane(
      'outcome',
      (cy) =>
        `<g><circle class="ev ${o.state}" cx="${x(o.t).toFixed(1)}" cy="${cy}" r="7"/><text x="${(x(o.t) - 8).toFixed(1)}" y="${cy + 4}" text-anchor="end">${escapeHtml(o.state)}: ${escapeHtml(short(o.output.type === 'success' ? o.output.value : o.output.message, 50))}</text></g>`,
    );
  }
  const height = y + 8;
  let step = TICKS.find((t) => span / t <= 8) ?? 86_400_000;
  if (!step) step = span;
  const ticks = [];
  for (let t = Math.ceil(model.start / step) * step; t <= model.end; t += step) {
    ticks.push(
      `<line class="tick" x1="${x(t).toFixed(1)}" y1="14" x2="${x(t).toFixed(1)}" y2="${height}"/><text class="tick-label" x="${x(t).toFixed(1)}" y="10" text-anchor="middle">${clock(t)}</text>`,
    );
  }
  const asOf =
    asOfMs !== undefined
      ? `<line class="asof-line" x1="${x(asOfMs).toFixed(1)}" y1="14" x2="${x(asOfMs).toFixed(1)}" y2="${height}"><title>as of ${dateTime(asOfMs)}</title></line>`
      : '';
  return `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}" role="img" aria-label="process timeline">${ticks.join('')}${rows.join('')}${asOf}</svg>`;
};
