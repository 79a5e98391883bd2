import { RegistryError } from '../domain/errors.ts';
import type { Position, StreamRevision } from './port.ts';

/**
 * EventStoreDB addresses an event in `$all` by a pair (commit, prepare) of transaction-log
 * offsets, ordered lexicographically. The port wants one bigint, so we pack the pair as
 * `(commit << 64) | prepare`: both halves are unsigned 64-bit on the wire, so the packing is
 * lossless and integer order equals (commit, prepare) order.
 *
 * Why not the commit position alone: events of one *explicit transaction* (legacy TCP
 * clients, or databases carried over from old versions) are committed by one commit record
 * and share its commit position, differing only in prepare position (KurrentDB
 * `AllReader`: `new CommitEventRecord(eventRecord, commit.LogPosition)` for every prepare
 * of the transaction). gRPC appends write "committed prepares", where commit == prepare per
 * event (KurrentDB-Client-Dotnet#20 shows `C:2746/P:2746`, ...), and server 20.6.0 reported a
 * shared *prepare* position for batch members (fixed by KurrentDB#2522) — in every case the
 * pair orders the log; either half alone does not.
 */
const U64 = (1n << 64n) - 1n;

export interface LogPosition {
  commit: bigint;
  prepare: bigint;
}

export const encodePosition = ({ commit, prepare }: LogPosition): Position => {
  if (commit < 0n || commit > U64 || prepare < 0n || prepare > U64) {
    throw new RegistryError(
      'unavailable',
      `EventStoreDB reported an invalid position ${commit}/${prepare}`,
    );
  }
  return (commit << 64n) | prepare;
};

export const decodePosition = (position: Position): LogPosition => ({
  commit: position >> 64n,
  prepare: position & U64,
});

/**
 * Servers before 22.6 do not fill in the `$all` position of events read from a *stream*
 * (they send 0 or 2^64-1, KurrentDB#3459), nor do newer ones for events written in explicit
 * transactions. (0, 0) is never a user event: the log starts with system records.
 */
export const isKnownPosition = (position: LogPosition | undefined): position is LogPosition =>
  position !== undefined &&
  position.commit !== U64 &&
  position.prepare !== U64 &&
  !(position.commit === 0n && position.prepare === 0n);

/** Stream revisions are uint64 on the wire; the port uses numbers, which are exact to 2^53. */
export const toRevision = (revision: bigint): StreamRevision => {
  if (revision > BigInt(Number.MAX_SAFE_INTEGER) || revision < -1n) {
    throw new RegistryError(
      'unavailable',
      `EventStoreDB stream revision ${revision} is beyond what the registry can represent exactly (2^53 - 1)`,
    );
  }
  return Number(revision);
};
