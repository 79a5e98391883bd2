import type { LogDigest } from '../domain/integrity.ts';
import {
  type IntegrityReport,
  type VerifyIntegrityOptions,
  VerifyIntegrityOptionsSchema,
} from '../domain/integrity-report.ts';
import { parseInput } from '../domain/validation.ts';
import { logDigestOf, verifyLogIntegrity } from '../queries/integrity.ts';
import { ProcessHistory } from './history.ts';

/** The registry's tamper evidence (SPEC: Integrity): the log digest and the check. */
export class RegistryIntegrity extends ProcessHistory {
  /**
   * The digest of the log up to its last process event (domain/integrity.ts): keep it
   * outside the store, and `verifyIntegrity({ against })` proves the log up to its position
   * is still what it was.
   */
  async digest(): Promise<LogDigest> {
    await this.models();
    return logDigestOf(this.core.store, this.core.runner.tables);
  }

  /**
   * Reads the whole log and checks every event's hash and its link to the one before it in
   * its stream, and (where the tables keep one digest per position) that every position
   * holds what was recorded there; with `against`, that the log up to that digest's position
   * still hashes to it. Works on a damaged log: read models that cannot catch up do not
   * stop it.
   */
  async verifyIntegrity(options: VerifyIntegrityOptions = {}): Promise<IntegrityReport> {
    const { against, onProgress } = parseInput(VerifyIntegrityOptionsSchema, options, 'options');
    this.ensureOpen();
    // the per-position digests of what the log could not project yet are not needed
    await this.core.runner.ensureModels().catch(() => undefined);
    return verifyLogIntegrity(this.core.store, this.core.runner.tables, {
      ...(against
        ? { against: { digest: against.digest, position: BigInt(against.position) } }
        : {}),
      ...(onProgress ? { onProgress } : {}),
    });
  }
}
