import type { SessionDeleteReport } from '../domain/schemas.ts';

/** Rounds of session deletion before the grants still appearing count as later than it. */
const MAX_SESSION_DELETE_ROUNDS = 10;

/**
 * deleteSessionProcessState over rounds: revokes every grant of the session (all frames)
 * and reports which live processes lost their last grant. `find` lists the processes that
 * hold a grant of the session (the grants' by-session index, caught up); `revoke` runs the
 * command over them, which re-checks each stream under the command's locks. A grant of the
 * session committed to another stream after the processes were chosen (by another
 * instance, before our append) is found by the next round's catch-up and revoked, until a
 * round finds none; a grant committed after that last catch-up is later than the deletion.
 * Once revocations are stored the call reports them, whatever a later round meets: a
 * re-check or a revocation that fails ends the rounds (its grants stay, for a later
 * deletion), since a failed call would tell its caller nothing of the processes already
 * left without a grant, and a retry would not name them again. Before that, a failure
 * fails the call: nothing was revoked.
 */
export const deleteSessionInRounds = async (
  sessionId: string,
  find: () => Promise<string[]>,
  revoke: (processIds: string[]) => Promise<SessionDeleteReport>,
): Promise<SessionDeleteReport> => {
  let revokedHandleCount = 0;
  const outcome = new Map<string, 'cancel' | 'preserve'>();
  for (let round = 0; round < MAX_SESSION_DELETE_ROUNDS; round++) {
    // once revocations are stored, a round that cannot read or write ends the rounds
    const stored = revokedHandleCount > 0;
    const tried = <T>(work: Promise<T>): Promise<T | undefined> =>
      stored ? work.catch(() => undefined) : work;
    const ids = await tried(find());
    if (ids === undefined || (round > 0 && ids.length === 0)) break;
    const report = await tried(revoke(ids));
    if (report === undefined) break;
    revokedHandleCount += report.revokedHandleCount;
    for (const id of report.cancelProcessIds) outcome.set(id, 'cancel');
    for (const id of report.preservedProcessIds) outcome.set(id, 'preserve');
    if (ids.length === 0) break;
  }
  const idsOf = (kind: 'cancel' | 'preserve') =>
    [...outcome]
      .filter(([, k]) => k === kind)
      .map(([id]) => id)
      .sort();
  return {
    sessionId,
    revokedHandleCount,
    deletedWakeCount: 0,
    cancelProcessIds: idsOf('cancel'),
    preservedProcessIds: idsOf('preserve'),
  };
};
