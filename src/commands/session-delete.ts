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
 */
export const deleteSessionInRounds = async (
  sessionId: string,
  find: () => Promise<string[]>,
  revoke: (processIds: string[]) => Promise<SessionDeleteReport>,
): Promise<SessionDeleteReport> => {
  let revokedHandleCount = 0;
  const outcome = new Map<string, 'cancel' | 'preserve'>();
  for (let round = 0; round < MAX_SESSION_DELETE_ROUNDS; round++) {
    let ids: string[];
    if (round === 0) ids = await find();
    else {
      // a re-check that cannot read must not turn the revocations already stored into a
      // failed call (a retry would report them as not revoked)
      const found = await find().catch(() => undefined);
      if (found === undefined || found.length === 0) break;
      ids = found;
    }
    const report = await revoke(ids);
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
