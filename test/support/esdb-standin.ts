/**
 * A protocol-level stand-in for EventStoreDB, for tests: an in-process `@grpc/grpc-js`
 * server that speaks the subset of EventStoreDB's gRPC API `@eventstore/db-client` 6.x uses
 * for streams, built on the service definitions and message classes generated inside the
 * client package (loaded from the client's own dependency tree: the generated serializers
 * check `instanceof`, so the classes must be the very ones the client uses).
 *
 * Emulated, as the real server answers (KurrentDB `Streams.*`, `Enumerators.*`):
 * - `ServerFeatures.GetSupportedMethods` (lists Read, Append and, unless disabled,
 *   BatchAppend, so the client picks its code paths) and `Gossip.Read` (one alive leader,
 *   enough for `esdb+discover://`);
 * - `Streams.Append` and `Streams.BatchAppend` with expected-revision checks, the real
 *   wrong-expected-version replies (an `AppendResp.wrong_expected_version`; a
 *   `google.rpc.Status` carrying a packed `event_store.client.WrongExpectedVersion`), and
 *   idempotent duplicates (same event ids at the same place: success, nothing written,
 *   reported with `no_position`, as some server versions do, so clients cannot rely on it);
 * - `Streams.Read` of a stream (forwards/backwards, from a revision/start/end, max count,
 *   `stream_not_found`) and of `$all` (from a position, inclusive, like the server;
 *   forwards/backwards), with `$all` positions on stream reads (servers ≥ 22.6);
 * - `$all` subscriptions: confirmation, catch-up strictly after the start position (paged,
 *   so appends interleave), stream-name / event-type filters (prefixes or regex),
 *   checkpoints every `checkpointInterval × window` considered events and on reaching the
 *   end, `caught_up`, then live events;
 * - transaction-log positions: byte offsets that grow with record size; each event's
 *   (commit, prepare) is (offset, offset) like gRPC appends ("committed prepares"), or, with
 *   `layout: 'explicit-transactions'`, all events of one append share the commit position
 *   of one commit record written after them, like legacy TCP transactions.
 *
 * - `Streams.Delete` (soft delete): a `$metadata` event on `$$stream` with `$tb` =
 *   DeletedStream; the stream then reads as not found, its events stay in `$all` (no
 *   scavenge); writing to it again (expected "no_stream", "any" or its old last revision)
 *   continues at the old last revision + 1 and rewrites `$tb` to the first new revision,
 *   so reads return only the new events; the idempotency check still sees the deleted
 *   events (appending their ids again at their place succeeds and writes nothing).
 *
 * Not emulated: system events the server writes on its own (only `$settings` and one
 * `$stats-…` event are seeded, to test that readers skip them), links and `resolveLinks`,
 * ACLs and authentication, TLS, tombstones, `$maxCount`/`$maxAge` truncation, scavenging,
 * stream subscriptions, persistent subscriptions, projections, cluster redirects
 * (not-leader), deadlines, maximum append size, structured UUIDs in replies, and the absence
 * of stream-read positions for transaction events (in the 'explicit-transactions' layout
 * they are still reported). Storage is in memory.
 */
import { randomUUID } from 'node:crypto';
import type * as GossipGrpc from '@eventstore/db-client/generated/gossip_grpc_pb.js';
import type * as FeaturesGrpc from '@eventstore/db-client/generated/serverfeatures_grpc_pb.js';
import type * as StreamsGrpc from '@eventstore/db-client/generated/streams_grpc_pb.js';
import type * as StreamsPb from '@eventstore/db-client/generated/streams_pb.js';
import type * as GrpcJs from '@grpc/grpc-js';
import { replayedAppend, revisionMatches, sliceStream } from '../../src/store/shared.ts';
import {
  appendResp,
  batchAppendDenied,
  batchAppendResp,
  caughtUpResp,
  checkpointResp,
  clusterInfo,
  confirmationResp,
  countOf,
  deleteResp,
  type Expected,
  eventResp,
  expectedOf,
  fail,
  featuresGrpc,
  filterOf,
  fromProposed,
  gossipGrpc,
  grpc,
  isBackwards,
  type LogEvent,
  type Outcome,
  type Proposed,
  positionOf,
  proposedJson,
  type ReadCall,
  type ReadOptions,
  statusError,
  streamName,
  streamNotFoundResp,
  streamsGrpc,
  supportedMethods,
  uuidOf,
  write,
  wrongExpectedVersionError,
} from './esdb-standin-protocol.ts';
import type { RawEvent } from './harness.ts';

export interface EsdbStandInOptions {
  /** advertise BatchAppend (servers ≥ 21.10, default); `false` makes the client use Append */
  batchAppend?: boolean;
  layout?: 'committed-prepares' | 'explicit-transactions';
}

export interface EsdbStandIn {
  /** `esdb://127.0.0.1:<port>?tls=false` */
  readonly connectionString: string;
  readonly port: number;
  /**
   * Ends every open call with UNAVAILABLE and closes every connection, as a server restart
   * would (`abrupt`: only destroys the connections, as a network failure would, and the
   * client sees whatever HTTP/2 reports); listens again on the same port after `downForMs`.
   */
  dropConnections(options?: { downForMs?: number; abrupt?: boolean }): Promise<void>;
  /** Stores the next append, then fails its call with UNAVAILABLE: the reply is "lost". */
  loseNextAppendReply(): void;
  /**
   * Refuses the next `times` appends to `stream` as access denied, storing nothing (an ACL
   * that denies the stream): a failure no client retry cures.
   */
  refuseAppends(stream: string, times: number): void;
  /** Appends as another writer would, bypassing gRPC (JSON data, no checks). */
  appendDirect(stream: string, events: readonly { type: string; data: unknown }[]): void;
  /**
   * Replaces a stored event's type, data and metadata in place (same id, revision and
   * position), as no real server can: a test's stand-in for repairing a row.
   */
  rewriteDirect(stream: string, revision: number, event: RawEvent): void;
  /** `allEventsServed`: events sent from `$all` (reads and subscriptions), for cost checks */
  stats(): {
    subscriptionsStarted: number;
    openSubscriptions: number;
    appends: number;
    allEventsServed: number;
  };
  /** Stops for good (the port is released). */
  stop(): Promise<void>;
}

/**
 * `$tb` of a soft-deleted stream's metadata (EventNumber.DeletedStream, long.MaxValue): the
 * stream reads as not found until it is written again.
 */
const DELETED_STREAM = 9_223_372_036_854_775_807n;

/**
 * The in-memory database: one log in position order, and each stream's events (all of them,
 * also those a soft delete truncated: `$all` keeps them, as no scavenge runs here).
 */
class Database {
  readonly log: LogEvent[] = [];
  readonly streams = new Map<string, LogEvent[]>();
  /** each stream's truncate-before (`$tb` of its `$$stream` metadata), when it has one */
  private readonly truncateBefore = new Map<string, bigint>();
  readonly listeners = new Set<() => void>();
  private offset = 0n;

  constructor(private readonly layout: NonNullable<EsdbStandInOptions['layout']>) {}

  /** The events a stream read returns: those at or after `$tb`; undefined: not found. */
  readable(stream: string): LogEvent[] | undefined {
    const events = this.streams.get(stream);
    const tb = this.truncateBefore.get(stream) ?? 0n;
    const visible = events?.filter((e) => BigInt(e.revision) >= tb);
    return visible && visible.length > 0 ? visible : undefined;
  }

  private softDeleted(stream: string): boolean {
    return this.truncateBefore.get(stream) === DELETED_STREAM;
  }

  /**
   * Soft delete, as the server does it: a `$metadata` event on `$$stream` whose `$tb` is
   * DeletedStream (other metadata kept). The events stay in the stream and in `$all`.
   */
  softDelete(stream: string, expected: Expected): Outcome {
    const actual = (this.streams.get(stream)?.length ?? 0) - 1;
    const matches =
      expected === 'stream_exists'
        ? actual >= 0 && !this.softDeleted(stream)
        : revisionMatches(expected, actual);
    if (!matches) return { ok: false, actual };
    return this.writeMetadata(stream, DELETED_STREAM);
  }

  private writeMetadata(stream: string, tb: bigint): Outcome {
    const meta = `$$${stream}`;
    const [previous] = this.streams.get(meta)?.slice(-1) ?? [];
    const old = previous
      ? (JSON.parse(new TextDecoder().decode(previous.dataBytes)) as Record<string, unknown>)
      : {};
    // $tb as a JSON integer (DeletedStream is beyond 2^53: written as its digits)
    const text = JSON.stringify({ ...old, $tb: 0 }).replace('"$tb":0', `"$tb":${tb}`);
    const event = proposedJson('$metadata', null);
    const outcome = this.append(meta, 'any', [
      { ...event, dataBytes: new TextEncoder().encode(text) },
    ]);
    this.truncateBefore.set(stream, tb);
    return outcome;
  }

  append(stream: string, expected: Expected, proposed: readonly Proposed[]): Outcome {
    const existing = this.streams.get(stream) ?? [];
    const actual = existing.length - 1;
    const deleted = this.softDeleted(stream);
    // a soft-deleted stream may be written again ("no_stream" too): it continues at the old
    // last revision + 1, and the server "undeletes" it with `$tb` at the first new event.
    // The idempotency check still sees the deleted events: the same ids again are a success
    // that writes nothing, and the stream stays deleted (KurrentDB issues 1503, 4058)
    const replay = this.replay(existing, expected, proposed);
    if (replay === 'conflict') return { ok: false, actual };
    if (replay !== undefined) return { ok: true, nextRevision: replay };
    const matches =
      expected === 'stream_exists'
        ? actual >= 0 && !deleted
        : revisionMatches(expected, actual) || (deleted && expected === 'no_stream');
    if (!matches) return { ok: false, actual };
    // prepares, then (explicit transactions only) the commit record that commits them all
    const prepares = proposed.map((event) => {
      const prepare = this.offset;
      this.offset +=
        BigInt(80 + stream.length + event.type.length) +
        BigInt(event.dataBytes.length + event.metadataBytes.length);
      return prepare;
    });
    const commit = this.offset;
    if (this.layout === 'explicit-transactions' && proposed.length > 0) this.offset += 40n;
    const created = BigInt(Date.now()) * 10_000n;
    const written = proposed.map((event, i): LogEvent => {
      const prepare = prepares[i]!;
      const commitPosition = this.layout === 'explicit-transactions' ? commit : prepare;
      return {
        ...event,
        stream,
        revision: existing.length + i,
        commit: commitPosition,
        prepare,
        position: (commitPosition << 64n) | prepare,
        created,
        data: null,
        metadata: null,
      };
    });
    existing.push(...written);
    this.streams.set(stream, existing);
    this.log.push(...written);
    if (deleted && written.length > 0) this.writeMetadata(stream, BigInt(written[0]!.revision));
    for (const listener of this.listeners) listener();
    return { ok: true, nextRevision: existing.length - 1, last: written.at(-1) };
  }

  /**
   * The server's idempotency check: events already at the place the append targets, with
   * the same ids, make it a success that writes nothing (the revision of the last of them);
   * a partial match is a wrong expected version. With `any`/`stream_exists` the place is
   * where the first id is found.
   */
  private replay(
    existing: readonly LogEvent[],
    expected: Expected,
    proposed: readonly Proposed[],
  ): number | 'conflict' | undefined {
    if (expected === 'any' || expected === 'stream_exists') {
      const at = proposed[0] ? existing.findIndex((e) => e.id === proposed[0]!.id) : -1;
      if (at < 0) return undefined;
      const all = proposed.every((event, i) => existing[at + i]?.id === event.id);
      return all ? at + proposed.length - 1 : 'conflict';
    }
    const events = proposed.map((p) => ({ ...p, data: null, metadata: null }));
    return replayedAppend(existing, { stream: '', events, expectedRevision: expected })
      ?.nextRevision;
  }

  rewrite(stream: string, revision: number, event: RawEvent): void {
    const events = this.streams.get(stream);
    const old = events?.[revision];
    if (!events || !old) throw new Error(`no event ${stream}@${revision} to rewrite`);
    const bytes = (value: unknown) => new TextEncoder().encode(JSON.stringify(value));
    const next: LogEvent = {
      ...old,
      type: event.type,
      dataBytes: bytes(event.data),
      metadataBytes: bytes(event.metadata),
    };
    events[revision] = next;
    this.log[this.log.indexOf(old)] = next;
  }

  /** Index of the first event at or after (`inclusive`) / strictly after `position`. */
  indexFrom(position: bigint, inclusive: boolean): number {
    let low = 0;
    let high = this.log.length;
    while (low < high) {
      const mid = (low + high) >>> 1;
      const p = this.log[mid]!.position;
      if (p < position || (!inclusive && p === position)) low = mid + 1;
      else high = mid;
    }
    return low;
  }
}

export const startEsdbStandIn = async (options: EsdbStandInOptions = {}): Promise<EsdbStandIn> => {
  const db = new Database(options.layout ?? 'committed-prepares');
  const batchAppend = options.batchAppend ?? true;
  const openCalls = new Set<() => void>();
  const counters = {
    subscriptionsStarted: 0,
    openSubscriptions: 0,
    appends: 0,
    allEventsServed: 0,
  };
  let loseReply = false;
  const instanceId = randomUUID();
  let port = 0;

  // what a fresh server has written before any client connects
  db.append('$settings', 'any', [proposedJson('$settings', { $userStreamAcl: {} })]);
  db.append('$stats-127.0.0.1:2113', 'any', [proposedJson('$statsCollected', {})]);

  const track = (abort: () => void): (() => void) => {
    openCalls.add(abort);
    return () => openCalls.delete(abort);
  };

  const read = (call: ReadCall): void => {
    const options = call.request.getOptions();
    if (!options) {
      fail(call, grpc.status.INVALID_ARGUMENT, 'missing read options');
    } else if (options.hasSubscription() && options.hasAll()) {
      subscribeToAll(call, options);
    } else if (options.hasSubscription()) {
      fail(call, grpc.status.UNIMPLEMENTED, 'the stand-in has no stream subscriptions');
    } else if (options.hasStream()) {
      readStream(call, options);
    } else {
      readAll(call, options);
    }
  };

  const readStream = (call: ReadCall, options: ReadOptions): void => {
    const streamOptions = options.getStream()!;
    const events = db.readable(streamName(streamOptions.getStreamIdentifier()));
    if (!events) {
      call.write(streamNotFoundResp(streamOptions.getStreamIdentifier()));
      call.end();
      return;
    }
    const backwards = isBackwards(options);
    // revisions of a recreated stream start at its `$tb`: index from there
    const first = events[0]!.revision;
    const fromRevision = streamOptions.hasRevision()
      ? Math.max(-1, Number(BigInt(streamOptions.getRevision())) - first)
      : streamOptions.hasEnd() && !backwards
        ? events.length
        : streamOptions.hasEnd()
          ? undefined // backwards from the end: from the last event
          : 0;
    if (fromRevision === -1) {
      // backwards from before the first readable event: nothing; forwards: from the first
      if (!backwards)
        for (const event of events.slice(0, countOf(options))) call.write(eventResp(event, false));
      call.end();
      return;
    }
    const slice = sliceStream(events, {
      direction: backwards ? 'backwards' : 'forwards',
      ...(fromRevision === undefined ? {} : { fromRevision }),
      ...(options.hasCount() ? { maxCount: countOf(options) } : {}),
    });
    for (const event of slice) call.write(eventResp(event as LogEvent, false));
    call.end();
  };

  /** `$all` from a position is inclusive forwards and exclusive backwards, as on the server. */
  const readAll = (call: ReadCall, options: ReadOptions): void => {
    const all = options.getAll()!;
    const at = all.hasPosition() ? db.indexFrom(positionOf(all.getPosition()!), true) : undefined;
    const selected = isBackwards(options)
      ? db.log.slice(0, all.hasStart() ? 0 : (at ?? db.log.length)).reverse()
      : db.log.slice(all.hasEnd() ? db.log.length : (at ?? 0));
    const out = selected.filter(filterOf(options)).slice(0, countOf(options));
    counters.allEventsServed += out.length;
    for (const event of out) call.write(eventResp(event, true));
    call.end();
  };

  const subscribeToAll = (call: ReadCall, options: ReadOptions): void => {
    counters.subscriptionsStarted += 1;
    counters.openSubscriptions += 1;
    const all = options.getAll()!;
    const matches = filterOf(options);
    const filter = options.hasFilter() ? options.getFilter() : undefined;
    const interval = filter
      ? Math.max(1, filter.getCheckpointintervalmultiplier()) *
        (filter.hasMax() ? filter.getMax() : 32)
      : Number.POSITIVE_INFINITY;
    // exclusive of the start position, like the server's catch-up
    let next = all.hasStart()
      ? 0
      : all.hasEnd()
        ? db.log.length
        : db.indexFrom(positionOf(all.getPosition()!), false);
    let live = false;
    let pumping = false;
    let closed = false;
    let considered = 0;

    const pump = async (): Promise<void> => {
      if (pumping || closed) return;
      pumping = true;
      try {
        while (!closed && next < db.log.length) {
          const event = db.log[next]!;
          next += 1;
          considered += 1;
          if (matches(event)) {
            counters.allEventsServed += 1;
            await write(call, eventResp(event, true));
          }
          if (considered % interval === 0) await write(call, checkpointResp(event));
          // catch-up is paged so that appends interleave with it, as on a real server
          if (!live && next % 64 === 0) await new Promise((r) => setImmediate(r));
        }
        if (!live && !closed) {
          live = true;
          const head = db.log[next - 1];
          if (filter && head) await write(call, checkpointResp(head));
          await write(call, caughtUpResp());
        }
      } finally {
        pumping = false;
      }
      if (!closed && next < db.log.length) void pump();
    };

    const notify = () => void pump();
    const close = (): void => {
      if (closed) return;
      closed = true;
      counters.openSubscriptions -= 1;
      db.listeners.delete(notify);
      untrack();
    };
    const untrack = track(() => {
      close();
      fail(call, grpc.status.UNAVAILABLE, 'connection dropped by the stand-in');
    });
    call.on('cancelled', close);
    call.on('close', close);
    call.write(confirmationResp(randomUUID()));
    db.listeners.add(notify);
    void pump();
  };

  const append: GrpcJs.handleClientStreamingCall<StreamsPb.AppendReq, StreamsPb.AppendResp> = (
    call,
    callback,
  ) => {
    let options: StreamsPb.AppendReq.Options | undefined;
    const proposed: Proposed[] = [];
    let done = false;
    const respond = (error: GrpcJs.ServiceError | null, resp?: StreamsPb.AppendResp): void => {
      if (done) return;
      done = true;
      untrack();
      callback(error, resp);
    };
    const untrack = track(() =>
      respond(statusError(grpc.status.UNAVAILABLE, 'connection dropped')),
    );
    call.on('data', (req: StreamsPb.AppendReq) => {
      if (req.hasOptions()) options = req.getOptions();
      const message = req.getProposedMessage();
      if (message) proposed.push(fromProposed(message));
    });
    call.on('cancelled', () => {
      done = true;
      untrack();
    });
    call.on('end', () => {
      if (!options) return respond(statusError(grpc.status.INVALID_ARGUMENT, 'no options'));
      const expected = expectedOf(options);
      const stream = streamName(options.getStreamIdentifier());
      if (takeRefusal(stream)) {
        return respond(statusError(grpc.status.PERMISSION_DENIED, 'Access denied'));
      }
      const outcome = appendCounted(stream, expected, proposed);
      if (takeLostReply()) return respond(statusError(grpc.status.UNAVAILABLE, 'reply lost'));
      respond(null, appendResp(outcome, expected));
    });
  };

  const batchAppendCall: GrpcJs.handleBidiStreamingCall<
    StreamsPb.BatchAppendReq,
    StreamsPb.BatchAppendResp
  > = (call) => {
    const pending = new Map<
      string,
      { options?: StreamsPb.BatchAppendReq.Options; events: Proposed[] }
    >();
    const untrack = track(() => fail(call, grpc.status.UNAVAILABLE, 'connection dropped'));
    call.on('cancelled', untrack);
    call.on('close', untrack);
    call.on('end', () => {
      untrack();
      call.end();
    });
    call.on('data', (req: StreamsPb.BatchAppendReq) => {
      const correlation = uuidOf(req.getCorrelationId());
      const entry = pending.get(correlation) ?? { events: [] };
      pending.set(correlation, entry);
      if (req.hasOptions()) entry.options = req.getOptions();
      entry.events.push(...req.getProposedMessagesList().map(fromProposed));
      if (!req.getIsFinal()) return;
      pending.delete(correlation);
      const options = entry.options;
      if (!options) return fail(call, grpc.status.INVALID_ARGUMENT, 'no options');
      const expected = expectedOf(options);
      const stream = streamName(options.getStreamIdentifier());
      if (takeRefusal(stream)) return call.write(batchAppendDenied(correlation, options, expected));
      const outcome = appendCounted(stream, expected, entry.events);
      if (takeLostReply()) {
        untrack();
        return fail(call, grpc.status.UNAVAILABLE, 'reply lost');
      }
      call.write(batchAppendResp(correlation, options, outcome, expected));
    });
  };

  const appendCounted = (stream: string, expected: Expected, events: Proposed[]): Outcome => {
    counters.appends += 1;
    return db.append(stream, expected, events);
  };
  const refusals = new Map<string, number>();
  const takeRefusal = (stream: string): boolean => {
    const left = refusals.get(stream) ?? 0;
    if (left <= 0) return false;
    refusals.set(stream, left - 1);
    return true;
  };
  const takeLostReply = (): boolean => {
    const lost = loseReply;
    loseReply = false;
    return lost;
  };

  const streams: StreamsGrpc.IStreamsServer = {
    read,
    append,
    batchAppend: batchAppendCall,
    delete: (call, callback) => {
      const options = call.request.getOptions();
      if (!options) return callback(statusError(grpc.status.INVALID_ARGUMENT, 'no options'));
      const stream = streamName(options.getStreamIdentifier());
      const expected = expectedOf(options);
      const outcome = db.softDelete(stream, expected);
      if (!outcome.ok) {
        return callback(wrongExpectedVersionError(stream, expected, outcome.actual));
      }
      callback(null, deleteResp(outcome.last));
    },
    tombstone: (_call, callback) => callback(statusError(grpc.status.UNIMPLEMENTED, 'no deletes')),
  };
  const features: FeaturesGrpc.IServerFeaturesServer = {
    getSupportedMethods: (_call, callback) => callback(null, supportedMethods(batchAppend)),
  };
  const gossip: GossipGrpc.IGossipServer = {
    read: (_call, callback) => callback(null, clusterInfo(instanceId, port)),
  };

  const listen = async (): Promise<GrpcJs.Server> => {
    const server = new grpc.Server();
    server.addService(streamsGrpc.StreamsService, streams);
    server.addService(featuresGrpc.ServerFeaturesService, features);
    server.addService(gossipGrpc.GossipService, gossip);
    for (let attempt = 0; ; attempt++) {
      try {
        port = await new Promise<number>((resolve, reject) =>
          server.bindAsync(`127.0.0.1:${port}`, grpc.ServerCredentials.createInsecure(), (e, p) =>
            e ? reject(e) : resolve(p),
          ),
        );
        return server;
      } catch (error) {
        // the old listener of a restart may need a moment to release the port
        if (attempt >= 20) throw error;
        await delay(25);
      }
    }
  };

  const shutdown = async (current: GrpcJs.Server, abrupt = false): Promise<void> => {
    if (!abrupt) {
      for (const abort of [...openCalls]) abort();
      await delay(20); // let the UNAVAILABLE statuses reach the clients before the sockets go
    }
    openCalls.clear();
    current.forceShutdown();
  };

  let server: GrpcJs.Server | undefined = await listen();
  return {
    get connectionString() {
      return `esdb://127.0.0.1:${port}?tls=false`;
    },
    get port() {
      return port;
    },
    async dropConnections({ downForMs = 0, abrupt = false } = {}) {
      if (!server) throw new Error('the stand-in is stopped');
      await shutdown(server, abrupt);
      server = undefined;
      await delay(downForMs);
      server = await listen();
    },
    loseNextAppendReply() {
      loseReply = true;
    },
    appendDirect(stream, events) {
      db.append(
        stream,
        'any',
        events.map((e) => proposedJson(e.type, e.data)),
      );
    },
    rewriteDirect: (stream, revision, event) => db.rewrite(stream, revision, event),
    refuseAppends: (stream, times) => {
      refusals.set(stream, times);
    },
    stats: () => ({ ...counters }),
    async stop() {
      if (!server) return;
      const current = server;
      server = undefined;
      await shutdown(current);
    },
  };
};

const delay = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));
