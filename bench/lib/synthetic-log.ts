import { randomUUID } from 'node:crypto';
import { payloadHashOf } from '../../src/commands/append.ts';
import { hashJson } from '../../src/domain/canonical.ts';
import type { EventOf } from '../../src/domain/events.ts';
import type { Json } from '../../src/domain/json.ts';
import { openRegistry } from '../../src/index.ts';
import { MemoryEventStore } from '../../src/store/memory.ts';
import type { StreamWrite } from '../../src/store/port.ts';
import { openDatabase } from '../../src/store/sqlite-file.ts';
import { FIXED_NOW, fixedClock, lineRequest, registration } from './fixtures.ts';

/**
 * Big logs, fast. Appending a million events through the registry would take most of the
 * benchmark's budget, so large stores are written directly, in the exact format the
 * adapters use, from events the real registry produced for one template process: each
 * copy gets its own process id (and the registration hash that id implies), dense
 * sequences, fresh event ids. Only the data is synthetic; its shape is the registry's own.
 */

const TEMPLATE_ID = 'bench-template-process';

/** One domain event to store, its data and metadata already JSON text. */
export interface SyntheticEvent {
  stream: string;
  type: string;
  data: string;
  metadata: string;
}

export interface SyntheticProcess {
  id: string;
  /** `producer.line` events (sequences 1..lines) */
  lines: number;
  /** one HandleGranted per session id, right after registration */
  grantSessions?: readonly string[];
  /** LeaseClaimed after the grants, LeaseRenewed after the lines, LeaseReleased at the end */
  lease?: boolean;
  /** `process.completed` after the lines (the process is then terminal) */
  complete?: boolean;
}

interface TemplatePart {
  data: string;
  metadata: string;
}

type Appended = EventOf<'ProcessEventAppended'>['data'];

export interface Template {
  registered: TemplatePart;
  granted: TemplatePart;
  claimed: TemplatePart;
  line: TemplatePart;
  renewed: TemplatePart;
  completed: TemplatePart;
  released: TemplatePart;
}

/** Runs one process through its life on a memory registry and keeps what it stored. */
export const recordTemplate = async (): Promise<Template> => {
  const store = new MemoryEventStore();
  const registry = await openRegistry(store, { clock: fixedClock });
  await registry.registerProcess(registration(TEMPLATE_ID));
  await registry.grantHandle({ sessionId: 'bench-session' }, TEMPLATE_ID, { kind: 'tool' });
  const lease = await registry.claimProcessLease(TEMPLATE_ID, 'worker-1', 3_600_000);
  await registry.appendEvent(TEMPLATE_ID, lineRequest(1));
  await registry.renewProcessLease(lease, 3_600_000);
  await registry.completeProcess(TEMPLATE_ID, { type: 'success', value: { exitCode: 0 } });
  await registry.completeProcessLease({ processId: TEMPLATE_ID, leaseToken: lease.leaseToken });
  const parts: TemplatePart[] = [];
  for await (const stored of store.readAll()) {
    parts.push({ data: JSON.stringify(stored.data), metadata: JSON.stringify(stored.metadata) });
  }
  await registry.close();
  const [registered, granted, claimed, line, renewed, completed, released] = parts;
  if (!registered || !granted || !claimed || !line || !renewed || !completed || !released) {
    throw new Error(`template process stored ${parts.length} events, expected 7`);
  }
  return { registered, granted, claimed, line, renewed, completed, released };
};

export const eventCountOf = (p: SyntheticProcess): number =>
  1 + (p.grantSessions?.length ?? 0) + p.lines + (p.lease ? 3 : 0) + (p.complete ? 1 : 0);

/** The events of one process, in the order the registry would have written them. */
export function* synthesize(template: Template, p: SyntheticProcess): Generator<SyntheticEvent> {
  const stream = `process-${p.id}`;
  const as = (type: string, part: TemplatePart, data?: string): SyntheticEvent => ({
    stream,
    type,
    data: data ?? part.data.replaceAll(TEMPLATE_ID, p.id),
    metadata: part.metadata,
  });
  const registered = JSON.parse(template.registered.data.replaceAll(TEMPLATE_ID, p.id)) as {
    record: { registrationHash: string; [key: string]: Json };
  };
  const { id, input, eventTypes, provenance } = registered.record;
  registered.record.registrationHash = hashJson({ id, input, eventTypes, provenance });
  yield as('ProcessRegistered', template.registered, JSON.stringify(registered));
  const granted = JSON.parse(template.granted.data) as { [key: string]: Json };
  for (const sessionId of p.grantSessions ?? []) {
    const data = { ...granted, processId: p.id, scope: { sessionId } };
    yield as('HandleGranted', template.granted, JSON.stringify(data));
  }
  if (p.lease) yield as('LeaseClaimed', template.claimed);
  const line = JSON.parse(template.line.data) as Appended;
  for (let sequence = 1; sequence <= p.lines; sequence++) {
    const { payload, hash } = linePayload(sequence);
    const data = withSequence(line, p.id, sequence, payload, hash);
    yield as('ProcessEventAppended', template.line, JSON.stringify(data));
  }
  if (p.lease) yield as('LeaseRenewed', template.renewed);
  if (p.complete) {
    const completed = JSON.parse(template.completed.data.replaceAll(TEMPLATE_ID, p.id)) as Appended;
    const data = withSequence(
      completed,
      p.id,
      p.lines + 1,
      completed.event.payload,
      completed.payloadHash,
    );
    yield as('ProcessEventAppended', template.completed, JSON.stringify(data));
  }
  if (p.lease) yield as('LeaseReleased', template.released);
}

/** Line payloads repeat across processes: hash each once. */
const linePayloads: { payload: Json; hash: string }[] = [];
const linePayload = (sequence: number): { payload: Json; hash: string } => {
  let entry = linePayloads[sequence];
  if (!entry) {
    const payload = lineRequest(sequence).payload;
    entry = { payload, hash: payloadHashOf('producer.line', payload) };
    linePayloads[sequence] = entry;
  }
  return entry;
};

/** A process event of the template with another process id, sequence and payload. */
const withSequence = (
  template: Appended,
  processId: string,
  sequence: number,
  payload: Json,
  /** only events whose template had one (those with a replay key) carry a payload hash */
  payloadHash: string | undefined,
): Appended => {
  const event = template.event;
  return {
    ...template,
    event: {
      ...event,
      processId,
      sequence,
      payload,
      invocation: {
        ...event.invocation,
        subject: { ...event.invocation.subject, processId, sequence },
        causedBy: { ...event.invocation.causedBy, processId },
      },
    },
    ...(template.payloadHash !== undefined && payloadHash !== undefined ? { payloadHash } : {}),
  };
};

/**
 * Writes events into a new procreg SQLite file: the adapter's own `openDatabase` creates
 * the schema and header, rows go in as `sqlite.ts` inserts them (same columns, dense
 * revisions per stream), many per transaction and with synchronous=OFF while building.
 * The WAL is checkpointed at the end, as a long-running store's would be.
 */
export const writeSqliteLog = (path: string, events: Iterable<SyntheticEvent>): number => {
  const db = openDatabase(path, { synchronous: 'normal', busyTimeoutMs: 5000 });
  db.pragma('synchronous = OFF');
  const insert = db.prepare(
    `INSERT INTO events (stream, revision, type, data, metadata, recorded_at, event_id)
     VALUES (?, ?, ?, ?, ?, ?, ?)`,
  );
  const revisions = new Map<string, number>();
  let batch: SyntheticEvent[] = [];
  let count = 0;
  const flush = db.transaction((rows: readonly SyntheticEvent[]) => {
    for (const e of rows) {
      const revision = (revisions.get(e.stream) ?? -1) + 1;
      revisions.set(e.stream, revision);
      insert.run(e.stream, revision, e.type, e.data, e.metadata, FIXED_NOW, randomUUID());
    }
  });
  for (const event of events) {
    batch.push(event);
    if (batch.length >= 20_000) {
      flush.immediate(batch);
      count += batch.length;
      batch = [];
    }
  }
  flush.immediate(batch);
  count += batch.length;
  db.pragma('wal_checkpoint(TRUNCATE)');
  db.close();
  return count;
};

/** Appends events to a memory store, many streams per call. */
export const writeMemoryLog = async (
  store: MemoryEventStore,
  events: Iterable<SyntheticEvent>,
): Promise<number> => {
  let writes = new Map<string, StreamWrite & { events: StreamWrite['events'][number][] }>();
  let pending = 0;
  let count = 0;
  const flush = async () => {
    await store.appendToStreams([...writes.values()]);
    count += pending;
    writes = new Map();
    pending = 0;
  };
  for (const e of events) {
    let write = writes.get(e.stream);
    if (!write) {
      write = { stream: e.stream, events: [], expectedRevision: 'any' };
      writes.set(e.stream, write);
    }
    write.events.push({
      id: randomUUID(),
      type: e.type,
      data: JSON.parse(e.data) as Json,
      metadata: JSON.parse(e.metadata) as Json,
    });
    if (++pending >= 20_000) await flush();
  }
  await flush();
  return count;
};

/**
 * The processes of the rebuild benchmarks (recovery, profile-rebuild): 20 events each
 * (registration, a grant, lease claim/renew/release, 14 or 15 lines, and every other
 * process its completion).
 */
export const rebuildProcesses = (ids: readonly string[]): SyntheticProcess[] =>
  ids.map((id, i) => ({
    id,
    lines: i % 2 === 0 ? 14 : 15,
    grantSessions: [`session-${i % 1000}`],
    lease: true,
    complete: i % 2 === 0,
  }));

/** The events of many processes, one after another. */
export function* synthesizeAll(
  template: Template,
  processes: Iterable<SyntheticProcess>,
): Generator<SyntheticEvent> {
  for (const p of processes) yield* synthesize(template, p);
}
