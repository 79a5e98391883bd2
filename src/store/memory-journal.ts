import { deepFreeze } from '../domain/freeze.ts';
import { JOURNAL_KEEP_PER_PROCESS, type RefusedCommand } from '../domain/refusal.ts';
import type { RefusalJournal } from './port.ts';

/** The memory store's journal of refused commands: frozen entries per process, in order. */
export class MemoryJournal implements RefusalJournal {
  private readonly byProcess = new Map<string, RefusedCommand[]>();

  constructor(private readonly keep = JOURNAL_KEEP_PER_PROCESS) {}

  async record(entries: readonly RefusedCommand[]): Promise<void> {
    for (const entry of entries) {
      const list = this.byProcess.get(entry.processId) ?? [];
      list.push(deepFreeze({ ...entry }));
      if (list.length > this.keep) list.splice(0, list.length - this.keep);
      this.byProcess.set(entry.processId, list);
    }
  }

  async read(processId: string): Promise<RefusedCommand[]> {
    return [...(this.byProcess.get(processId) ?? [])];
  }

  async drop(processIds: readonly string[]): Promise<void> {
    for (const id of processIds) this.byProcess.delete(id);
  }
}
