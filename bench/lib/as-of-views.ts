import type { ProcessFilter, ProcessRegistry } from '../../src/index.ts';
import { latencies } from './measure.ts';
import { median } from './stats.ts';
import type { SyntheticProcess } from './synthetic-log.ts';

/** The asOf benchmarks' processes: 50 events each, a session of 50, a lease, half completed. */
export const asOfProcesses = (ids: readonly string[]): SyntheticProcess[] =>
  ids.map((id, i) => ({
    id,
    lines: 44,
    grantSessions: [`session-${i % 50}`],
    lease: true,
    complete: i % 2 === 0,
  }));

type Views = Pick<ProcessRegistry, 'listNonTerminal' | 'listProcesses' | 'listHandleGrants'>;

/**
 * Median ms of the three global views (listNonTerminal, listProcesses, session-7's
 * grants) as of `position` on a fresh view each time, or of the live registry.
 */
export const viewsAt = async (registry: ProcessRegistry, position: number | 'live', runs: number) =>
  median(
    await latencies(runs, async () => {
      const view: Views = position === 'live' ? registry : registry.asOf({ position });
      await view.listNonTerminal();
      await view.listProcesses();
      await view.listHandleGrants({ sessionId: 'session-7' });
    }),
  );

/**
 * Median ms of one `listProcesses` page (the default 100) as of `position` on a fresh view
 * each time: the first page, or with `filter`.
 */
export const pageAt = async (
  registry: ProcessRegistry,
  position: number,
  runs: number,
  filter: ProcessFilter = {},
) =>
  median(
    await latencies(runs, async () => {
      await registry.asOf({ position }).listProcesses(filter);
    }),
  );
