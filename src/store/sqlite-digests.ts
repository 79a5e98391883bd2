import type Database from 'better-sqlite3';
import { GENESIS_DIGEST, type LogDigest } from '../domain/integrity.ts';
import type { Position } from './port.ts';
import type { DigestIndex } from './read-model-tables.ts';
import { bindable } from './sqlite-rows.ts';

/**
 * The log digest in a SQLite tables file (domain/integrity.ts), beside the checkpoint and
 * changed in the same transactions:
 * - `rm_digest`: the digest and the position of the last process event it covers; digest
 *   NULL when unknown (tables that held rows before digests existed: a rebuild starts the
 *   chain again from genesis);
 * - `rm_digests`: the digest after each process event, by position, so verifying the log
 *   names the exact position where a stored event is not the one that was recorded there
 *   (each row is one step from the row before it).
 * The tables schema (sqlite-tables.ts) includes this one; a models file made before it runs
 * it on open.
 */
export const digestsSchema = `
  CREATE TABLE IF NOT EXISTS rm_digest (
    id       INTEGER PRIMARY KEY CHECK (id = 1),
    digest   TEXT,
    position NOT NULL -- as rm_checkpoint.position
  );
  CREATE TABLE IF NOT EXISTS rm_digests (
    position BLOB PRIMARY KEY, -- length byte, then big-endian bytes: byte order is position order
    digest   BLOB NOT NULL
  ) WITHOUT ROWID;
  INSERT OR IGNORE INTO rm_digest (id, digest, position)
    SELECT 1, CASE WHEN position = 0 THEN '${GENESIS_DIGEST}' END, 0 FROM rm_checkpoint;
`;

export class SqliteDigests implements DigestIndex {
  private readonly s;

  constructor(db: Database.Database) {
    this.s = {
      get: db
        .prepare<[], { digest: string | null; position: bigint | string }>(
          'SELECT digest, position FROM rm_digest WHERE id = 1',
        )
        .safeIntegers(),
      set: db.prepare('UPDATE rm_digest SET digest = ?, position = ? WHERE id = 1'),
      record: db.prepare('INSERT OR REPLACE INTO rm_digests (position, digest) VALUES (?, ?)'),
      between: db.prepare<[Buffer, Buffer], { position: Buffer; digest: Buffer }>(
        'SELECT position, digest FROM rm_digests WHERE position > ? AND position <= ? ORDER BY position',
      ),
    };
  }

  digest(): LogDigest | null {
    const row = this.s.get.get();
    if (!row || row.digest === null) return null;
    return { digest: row.digest, position: BigInt(row.position) };
  }

  setDigest(digest: LogDigest | null): void {
    this.s.set.run(digest?.digest ?? null, digest ? bindable(digest.position) : 0);
  }

  record(position: Position, digest: string): void {
    this.s.record.run(key(position), Buffer.from(digest, 'hex'));
  }

  between(after: Position, upTo: Position): { position: Position; digest: string }[] {
    return this.s.between.all(key(after), key(upTo)).map((row) => ({
      position: BigInt(`0x${row.position.subarray(1).toString('hex')}`),
      digest: row.digest.toString('hex'),
    }));
  }
}

/** A position as a key whose byte order is numeric order, at any size (EventStoreDB's too). */
const key = (position: Position): Buffer => {
  const hex = position.toString(16);
  const bytes = Buffer.from(hex.length % 2 === 0 ? hex : `0${hex}`, 'hex');
  return Buffer.concat([Buffer.from([bytes.length]), bytes]);
};
