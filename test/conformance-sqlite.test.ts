import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { openSqliteStore } from '../src/store/sqlite.ts';
import { describeConformance } from './support/conformance.ts';
import { rewriteSqliteEvent } from './support/rewrite-event.ts';

/** A fresh SQLite file per test; every connection is a new handle on that file. */
describeConformance({
  name: 'sqlite',
  durabilityTier: 'durable',
  harness: async () => {
    const dir = mkdtempSync(join(tmpdir(), 'procreg-conf-'));
    const path = join(dir, 'registry.db');
    return {
      connect: () => openSqliteStore(path),
      dispose: async () => rmSync(dir, { recursive: true, force: true }),
      rewrite: async (stream, revision, event) => rewriteSqliteEvent(path, stream, revision, event),
    };
  },
});
