import type { ImportProgress } from '../commands/import.ts';
import { importLines } from '../commands/import.ts';
import { RegistryError } from '../domain/errors.ts';
import {
  lastPruneOf,
  type PrunedSince,
  type PruneOptions,
  type PruneProgress,
  type PruneResult,
  prunedMessage,
} from '../domain/retention.ts';
import { readPrunes } from '../queries/retention.ts';
import { archiveChunks, verifyArchive } from './archive.ts';
import { ProcessCommands } from './commands.ts';
import { pruneTerminal } from './prune.ts';

/**
 * Retention on the facade: pruning terminal processes into an archive, restoring an
 * archive, and saying where a pruned process went (see prune.ts for the order of steps).
 */
export class RetentionMethods extends ProcessCommands {
  /**
   * Archives, then removes, the processes that became terminal before `terminalBeforeMs`
   * (at most `limit`, oldest first); running processes are never touched. The prune is
   * recorded in the log with the caller's audit context and the manifest's SHA-256.
   */
  pruneTerminalProcesses(
    options: PruneOptions,
    onProgress?: (progress: PruneProgress) => void,
  ): Promise<PruneResult> {
    this.ensureOpen();
    return pruneTerminal(this.core, this.audit, () => this.models(), options, onProgress);
  }

  /**
   * Restores the processes of a prune's archive directory: the manifest and every file are
   * verified first, and each process must be absent from the store (`conflict` otherwise);
   * nothing is written unless all of it checks out.
   */
  async importArchive(
    dir: string,
    onProgress?: (progress: ImportProgress) => void,
  ): Promise<{ imported: number; processes: number }> {
    this.ensureOpen();
    const { manifest } = await verifyArchive(dir);
    const { imported } = await importLines(
      this.core.store,
      () => archiveChunks(dir, manifest),
      onProgress,
      'absent',
    );
    await this.models();
    return { imported, processes: manifest.processes.length };
  }

  /** The last prune that took this process id (when, by whom, the archive), if any. */
  async prunedProcess(processId: string): Promise<PrunedSince | undefined> {
    const id = this.processId(processId);
    this.ensureOpen();
    return lastPruneOf(await readPrunes(this.core.store), id);
  }

  /**
   * `not_found` for a process the store does not hold: naming the prune that took it
   * when one did, else the usual advice.
   */
  protected async unknownOrPruned(processId: string): Promise<RegistryError> {
    const pruned = await this.prunedProcess(processId);
    return pruned
      ? new RegistryError('not_found', prunedMessage(pruned))
      : this.unknownProcess(processId);
  }
}
