/**
 * The wire side of the EventStoreDB stand-in (esdb-standin.ts): the generated gRPC
 * service definitions and message classes of `@eventstore/db-client`, loaded from the
 * client's own dependency tree (its serializers check `instanceof`, so these must be the
 * very classes the client uses), and the few conversions between them and the stand-in's
 * records. Field by field as KurrentDB's `Streams.*` services fill them.
 */
import { randomUUID } from 'node:crypto';
import { createRequire } from 'node:module';
import type * as GossipGrpc from '@eventstore/db-client/generated/gossip_grpc_pb.js';
import type * as GossipPb from '@eventstore/db-client/generated/gossip_pb.js';
import type * as FeaturesGrpc from '@eventstore/db-client/generated/serverfeatures_grpc_pb.js';
import type * as FeaturesPb from '@eventstore/db-client/generated/serverfeatures_pb.js';
import type * as SharedPb from '@eventstore/db-client/generated/shared_pb.js';
import type * as StatusPb from '@eventstore/db-client/generated/status_pb.js';
import type * as StreamsGrpc from '@eventstore/db-client/generated/streams_grpc_pb.js';
import type * as StreamsPb from '@eventstore/db-client/generated/streams_pb.js';
import type * as GrpcJs from '@grpc/grpc-js';
import type * as AnyPb from 'google-protobuf/google/protobuf/any_pb.js';
import type * as EmptyPb from 'google-protobuf/google/protobuf/empty_pb.js';
import type { ExpectedRevision, StoredEvent } from '../../src/store/port.ts';

const fromClient = createRequire(createRequire(import.meta.url).resolve('@eventstore/db-client'));
export const grpc: typeof GrpcJs = fromClient('@grpc/grpc-js');
export const streamsGrpc: typeof StreamsGrpc = fromClient('../generated/streams_grpc_pb.js');
export const pb: typeof StreamsPb = fromClient('../generated/streams_pb.js');
const shared: typeof SharedPb = fromClient('../generated/shared_pb.js');
const statusPb: typeof StatusPb = fromClient('../generated/status_pb.js');
export const featuresGrpc: typeof FeaturesGrpc = fromClient(
  '../generated/serverfeatures_grpc_pb.js',
);
const featuresPb: typeof FeaturesPb = fromClient('../generated/serverfeatures_pb.js');
export const gossipGrpc: typeof GossipGrpc = fromClient('../generated/gossip_grpc_pb.js');
const gossipPb: typeof GossipPb = fromClient('../generated/gossip_pb.js');
const anyPb: typeof AnyPb = fromClient('google-protobuf/google/protobuf/any_pb.js');
const emptyPb: typeof EmptyPb = fromClient('google-protobuf/google/protobuf/empty_pb.js');

export type ReadCall = GrpcJs.ServerWritableStream<StreamsPb.ReadReq, StreamsPb.ReadResp>;
export type ReadOptions = StreamsPb.ReadReq.Options;

/** What the stand-in stores: bytes, not JSON. `position` is `(commit << 64) | prepare`. */
export interface LogEvent extends StoredEvent {
  readonly commit: bigint;
  readonly prepare: bigint;
  readonly contentType: string;
  readonly created: bigint;
  readonly dataBytes: Uint8Array;
  readonly metadataBytes: Uint8Array;
}

export interface Proposed {
  id: string;
  type: string;
  contentType: string;
  dataBytes: Uint8Array;
  metadataBytes: Uint8Array;
}

export type Expected = ExpectedRevision | 'stream_exists';

export type Outcome =
  | { ok: true; nextRevision: number; last?: LogEvent }
  | { ok: false; actual: number };

export const proposedJson = (type: string, data: unknown): Proposed => ({
  id: randomUUID(),
  type,
  contentType: 'application/json',
  dataBytes: new TextEncoder().encode(JSON.stringify(data)),
  metadataBytes: new Uint8Array(),
});

export const statusError = (code: GrpcJs.status, details: string): GrpcJs.ServiceError =>
  Object.assign(new Error(details), { code, details, metadata: new grpc.Metadata() });

/** Ends a streaming call with a status, as the server does on failures. */
export const fail = (
  call: { emit(event: 'error', error: Error): boolean },
  code: GrpcJs.status,
  details: string,
): void => {
  call.emit('error', statusError(code, details));
};

/** Writes, waiting for the client to drain when its buffer is full (or the call to end). */
export const write = async (call: ReadCall, resp: StreamsPb.ReadResp): Promise<void> => {
  if (call.write(resp)) return;
  // whichever comes first removes the other: a long read drains many times, and a 'close'
  // listener left behind by each drain piled up on the call
  await new Promise<void>((resolve) => {
    const done = () => {
      call.off('drain', done);
      call.off('close', done);
      resolve();
    };
    call.once('drain', done);
    call.once('close', done);
  });
};

export const streamName = (identifier: SharedPb.StreamIdentifier | undefined): string =>
  Buffer.from(identifier?.getStreamName_asU8() ?? new Uint8Array()).toString('utf8');

export const uuidOf = (uuid: SharedPb.UUID | undefined): string => {
  if (!uuid) return '';
  if (uuid.hasString()) return uuid.getString();
  const structured = uuid.getStructured();
  const hex = (bits: string | undefined) =>
    BigInt.asUintN(64, BigInt(bits ?? '0'))
      .toString(16)
      .padStart(16, '0');
  const all =
    hex(structured?.getMostSignificantBits()) + hex(structured?.getLeastSignificantBits());
  return `${all.slice(0, 8)}-${all.slice(8, 12)}-${all.slice(12, 16)}-${all.slice(16, 20)}-${all.slice(20)}`;
};

const uuid = (value: string): SharedPb.UUID => {
  const id = new shared.UUID();
  id.setString(value);
  return id;
};

export const isBackwards = (options: ReadOptions): boolean =>
  options.getReadDirection() === pb.ReadReq.Options.ReadDirection.BACKWARDS;

export const countOf = (options: ReadOptions): number | undefined =>
  options.hasCount() ? Number(BigInt(options.getCount())) : undefined;

export const positionOf = (position: StreamsPb.ReadReq.Options.Position): bigint =>
  (BigInt(position.getCommitPosition()) << 64n) | BigInt(position.getPreparePosition());

export const fromProposed = (
  message: StreamsPb.AppendReq.ProposedMessage | StreamsPb.BatchAppendReq.ProposedMessage,
): Proposed => ({
  id: uuidOf(message.getId()),
  type: message.getMetadataMap().get('type') ?? '',
  contentType: message.getMetadataMap().get('content-type') ?? 'application/octet-stream',
  dataBytes: message.getData_asU8().slice(),
  metadataBytes: message.getCustomMetadata_asU8().slice(),
});

/** Stream-name or event-type filter of a read or subscription (prefixes, else regex). */
export const filterOf = (options: ReadOptions): ((event: LogEvent) => boolean) => {
  const filter = options.hasFilter() ? options.getFilter() : undefined;
  if (!filter) return () => true;
  const onStream = filter.hasStreamIdentifier();
  const expression = onStream ? filter.getStreamIdentifier() : filter.getEventType();
  const prefixes = expression?.getPrefixList() ?? [];
  const regex = expression?.getRegex() ? new RegExp(expression.getRegex()) : undefined;
  return (event) => {
    const subject = onStream ? event.stream : event.type;
    if (prefixes.length > 0) return prefixes.some((prefix) => subject.startsWith(prefix));
    return regex ? regex.test(subject) : true;
  };
};

export const eventResp = (event: LogEvent, fromAll: boolean): StreamsPb.ReadResp => {
  const recorded = new pb.ReadResp.ReadEvent.RecordedEvent();
  recorded.setId(uuid(event.id));
  const identifier = new shared.StreamIdentifier();
  identifier.setStreamName(new TextEncoder().encode(event.stream));
  recorded.setStreamIdentifier(identifier);
  recorded.setStreamRevision(String(event.revision));
  recorded.setCommitPosition(String(event.commit));
  recorded.setPreparePosition(String(event.prepare));
  const metadata = recorded.getMetadataMap();
  metadata.set('type', event.type);
  metadata.set('content-type', event.contentType);
  metadata.set('created', String(event.created));
  recorded.setData(event.dataBytes);
  recorded.setCustomMetadata(event.metadataBytes);
  const readEvent = new pb.ReadResp.ReadEvent();
  readEvent.setEvent(recorded);
  if (fromAll) readEvent.setCommitPosition(String(event.commit));
  else readEvent.setNoPosition(new shared.Empty());
  const resp = new pb.ReadResp();
  resp.setEvent(readEvent);
  return resp;
};

export const checkpointResp = (event: LogEvent): StreamsPb.ReadResp => {
  const checkpoint = new pb.ReadResp.Checkpoint();
  checkpoint.setCommitPosition(String(event.commit));
  checkpoint.setPreparePosition(String(event.prepare));
  const resp = new pb.ReadResp();
  resp.setCheckpoint(checkpoint);
  return resp;
};

export const appendResp = (outcome: Outcome, expected: Expected): StreamsPb.AppendResp => {
  const resp = new pb.AppendResp();
  if (outcome.ok) {
    const success = new pb.AppendResp.Success();
    if (outcome.nextRevision >= 0) success.setCurrentRevision(String(outcome.nextRevision));
    else success.setNoStream(new shared.Empty());
    if (outcome.last) {
      const position = new pb.AppendResp.Position();
      position.setCommitPosition(String(outcome.last.commit));
      position.setPreparePosition(String(outcome.last.prepare));
      success.setPosition(position);
    } else success.setNoPosition(new shared.Empty());
    resp.setSuccess(success);
    return resp;
  }
  const wrong = new pb.AppendResp.WrongExpectedVersion();
  if (outcome.actual >= 0) wrong.setCurrentRevision(String(outcome.actual));
  else wrong.setCurrentNoStream(new shared.Empty());
  if (typeof expected === 'number') wrong.setExpectedRevision(String(expected));
  else if (expected === 'no_stream') wrong.setExpectedNoStream(new shared.Empty());
  else if (expected === 'stream_exists') wrong.setExpectedStreamExists(new shared.Empty());
  else wrong.setExpectedAny(new shared.Empty());
  resp.setWrongExpectedVersion(wrong);
  return resp;
};

/** A BatchAppend answer's head: which append it answers, with the revision it expected. */
const batchAppendHead = (
  correlation: string,
  options: StreamsPb.BatchAppendReq.Options,
  expected: Expected,
): StreamsPb.BatchAppendResp => {
  const resp = new pb.BatchAppendResp();
  resp.setCorrelationId(uuid(correlation));
  resp.setStreamIdentifier(options.getStreamIdentifier());
  if (typeof expected === 'number') resp.setStreamPosition(String(expected));
  else if (expected === 'no_stream') resp.setNoStream(new emptyPb.Empty());
  else if (expected === 'stream_exists') resp.setStreamExists(new emptyPb.Empty());
  else resp.setAny(new emptyPb.Empty());
  return resp;
};

/** Sets a failure on the answer: a google.rpc.Status whose details the client unpacks by type. */
const failed = (
  resp: StreamsPb.BatchAppendResp,
  code: number,
  type: string,
  details: Uint8Array,
): StreamsPb.BatchAppendResp => {
  const packed = new anyPb.Any();
  packed.pack(details, `event_store.client.${type}`);
  const error = new statusPb.Status();
  error.setCode(code);
  error.setMessage(type);
  error.setDetails(packed);
  resp.setError(error);
  return resp;
};

/** A BatchAppend answer refusing one append as the server does an ACL denial (AccessDenied). */
export const batchAppendDenied = (
  correlation: string,
  options: StreamsPb.BatchAppendReq.Options,
  expected: Expected,
): StreamsPb.BatchAppendResp =>
  // google.rpc.Code.PERMISSION_DENIED
  failed(
    batchAppendHead(correlation, options, expected),
    7,
    'AccessDenied',
    new shared.AccessDenied().serializeBinary(),
  );

export const batchAppendResp = (
  correlation: string,
  options: StreamsPb.BatchAppendReq.Options,
  outcome: Outcome,
  expected: Expected,
): StreamsPb.BatchAppendResp => {
  const resp = batchAppendHead(correlation, options, expected);
  if (outcome.ok) {
    const success = new pb.BatchAppendResp.Success();
    if (outcome.nextRevision >= 0) success.setCurrentRevision(String(outcome.nextRevision));
    else success.setNoStream(new emptyPb.Empty());
    if (outcome.last) {
      const position = new shared.AllStreamPosition();
      position.setCommitPosition(String(outcome.last.commit));
      position.setPreparePosition(String(outcome.last.prepare));
      success.setPosition(position);
    } else success.setNoPosition(new emptyPb.Empty());
    resp.setSuccess(success);
    return resp;
  }
  const wrong = new shared.WrongExpectedVersion();
  if (outcome.actual >= 0) wrong.setCurrentStreamRevision(String(outcome.actual));
  else wrong.setCurrentNoStream(new emptyPb.Empty());
  if (typeof expected === 'number') wrong.setExpectedStreamPosition(String(expected));
  else if (expected === 'no_stream') wrong.setExpectedNoStream(new emptyPb.Empty());
  else if (expected === 'stream_exists') wrong.setExpectedStreamExists(new emptyPb.Empty());
  else wrong.setExpectedAny(new emptyPb.Empty());
  // google.rpc.Code.FAILED_PRECONDITION
  return failed(resp, 9, 'WrongExpectedVersion', wrong.serializeBinary());
};

export const streamNotFoundResp = (
  identifier: SharedPb.StreamIdentifier | undefined,
): StreamsPb.ReadResp => {
  const notFound = new pb.ReadResp.StreamNotFound();
  notFound.setStreamIdentifier(identifier);
  const resp = new pb.ReadResp();
  resp.setStreamNotFound(notFound);
  return resp;
};

export const confirmationResp = (subscriptionId: string): StreamsPb.ReadResp => {
  const confirmation = new pb.ReadResp.SubscriptionConfirmation();
  confirmation.setSubscriptionId(subscriptionId);
  const resp = new pb.ReadResp();
  resp.setConfirmation(confirmation);
  return resp;
};

export const caughtUpResp = (): StreamsPb.ReadResp => {
  const resp = new pb.ReadResp();
  resp.setCaughtUp(new pb.ReadResp.CaughtUp());
  return resp;
};

/** The expected revision of an Append or a BatchAppend request. */
export const expectedOf = (
  options:
    | StreamsPb.AppendReq.Options
    | StreamsPb.BatchAppendReq.Options
    | StreamsPb.DeleteReq.Options,
): Expected => {
  const revision =
    'hasRevision' in options
      ? options.hasRevision() && options.getRevision()
      : options.hasStreamPosition() && options.getStreamPosition();
  if (revision) return Number(BigInt(revision));
  if (options.hasNoStream()) return 'no_stream';
  return options.hasStreamExists() ? 'stream_exists' : 'any';
};

/** A Delete's reply: the position of the metadata event that soft-deleted the stream. */
export const deleteResp = (written: LogEvent | undefined): StreamsPb.DeleteResp => {
  const resp = new pb.DeleteResp();
  if (written) {
    const position = new pb.DeleteResp.Position();
    position.setCommitPosition(String(written.commit));
    position.setPreparePosition(String(written.prepare));
    resp.setPosition(position);
  } else resp.setNoPosition(new shared.Empty());
  return resp;
};

/**
 * A wrong expected version outside appends (Delete), as the server reports it: a
 * FAILED_PRECONDITION status whose trailers name the exception and the versions.
 */
export const wrongExpectedVersionError = (
  stream: string,
  expected: Expected,
  actual: number,
): GrpcJs.ServiceError => {
  const error = statusError(grpc.status.FAILED_PRECONDITION, 'WrongExpectedVersion');
  error.metadata.set('exception', 'wrong-expected-version');
  error.metadata.set('stream-name', stream);
  error.metadata.set('expected-version', typeof expected === 'number' ? String(expected) : '-1');
  if (actual >= 0) error.metadata.set('actual-version', String(actual));
  return error;
};

/** Which methods the client may use: it sends BatchAppend only when listed. */
export const supportedMethods = (batchAppend: boolean): FeaturesPb.SupportedMethods => {
  const methods = new featuresPb.SupportedMethods();
  methods.setEventStoreServerVersion('24.10.0-standin');
  const list: [string, string][] = [
    ['event_store.client.streams.streams', 'read'],
    ['event_store.client.streams.streams', 'append'],
    ['event_store.client.gossip.gossip', 'read'],
  ];
  if (batchAppend) list.push(['event_store.client.streams.streams', 'batchappend']);
  for (const [service, method] of list) {
    const supported = new featuresPb.SupportedMethod();
    supported.setServiceName(service);
    supported.setMethodName(method);
    methods.addMethods(supported);
  }
  return methods;
};

/** A one-node cluster whose node is the alive leader at 127.0.0.1:port. */
export const clusterInfo = (instanceId: string, port: number): GossipPb.ClusterInfo => {
  const member = new gossipPb.MemberInfo();
  member.setInstanceId(uuid(instanceId));
  member.setTimeStamp(String(BigInt(Date.now()) * 10_000n));
  member.setState(gossipPb.MemberInfo.VNodeState.LEADER);
  member.setIsAlive(true);
  const endpoint = new gossipPb.EndPoint();
  endpoint.setAddress('127.0.0.1');
  endpoint.setPort(port);
  member.setHttpEndPoint(endpoint);
  const info = new gossipPb.ClusterInfo();
  info.addMembers(member);
  return info;
};
