import { join } from 'node:path';
import type { ProcessRegistry } from '../../src/index.ts';
import { ArchiveWriter } from '../../src/registry/archive.ts';
import type { EventStore } from '../../src/store/port.ts';
import { FIXED_NOW } from './fixtures.ts';
import { nowMs, type Paired } from './measure.ts';
import type { Row } from './result.ts';
import { comparedRow } from './scenario.ts';

/**
 * The retention scenarios' baseline: the archive step alone, prune by prune (each
 * process's stream read and written through the archive writer, synced, then the
 * manifest), with nothing verified and nothing removed.
 */
export async function archiveAlone(
  store: EventStore,
  ids: readonly string[],
  dir: string,
  perPrune: number,
): Promise<void> {
  for (let from = 0; from < ids.length; from += perPrune) {
    const writer = new ArchiveWriter(join(dir, `run-${from}`));
    await writer.open();
    for (const id of ids.slice(from, from + perPrune)) {
      await writer.add(id, await store.readStream(`process-${id}`));
    }
    await writer.seal({ pruneId: `run-${from}`, createdAtMs: FIXED_NOW, terminalBeforeMs: 0 });
  }
}

/** The retention scenarios' row: prune throughput against the archive step alone. */
export const pruneRow = (scenario: string, perPrune: number, rates: Paired, note: string): Row =>
  comparedRow(
    scenario,
    `prune throughput, archive included (${perPrune} processes per prune)`,
    rates.value,
    'processes/s',
    {
      what: 'archive step alone (same streams, same synced files, no verify, no removal)',
      value: rates.baseline,
    },
    rates.ratio,
    note,
  );

/**
 * Prunes every terminal process (terminal before FIXED_NOW + 1) into `archive`, `perPrune`
 * at a time; returns how many were pruned and the seconds it took.
 */
export async function pruneAll(
  registry: ProcessRegistry,
  archive: string,
  perPrune: number,
): Promise<{ pruned: number; seconds: number }> {
  const start = nowMs();
  let pruned = 0;
  for (;;) {
    const result = await registry.pruneTerminalProcesses({
      terminalBeforeMs: FIXED_NOW + 1,
      archiveTo: archive,
      limit: perPrune,
    });
    if (result.processes.length === 0) break;
    pruned += result.processes.length;
  }
  return { pruned, seconds: (nowMs() - start) / 1000 };
}
