import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { openSqliteStore } from '../../src/store/sqlite.ts';
import { describeConformance } from '../support/conformance.ts';
import { rewriteSqliteEvent } from '../support/rewrite-event.ts';
import { remoteInstance } from './support.ts';

/**
 * The whole conformance suite through HTTP: every registry instance the suite opens is a
 * remote registry talking to its own `procreg serve` (on a fresh SQLite file per test).
 */
describeConformance({
  name: 'remote (HTTP service on sqlite)',
  durabilityTier: 'durable',
  harness: async () => {
    const dir = mkdtempSync(join(tmpdir(), 'procreg-remote-'));
    const path = join(dir, 'registry.db');
    return {
      connect: () => openSqliteStore(path),
      dispose: async () => rmSync(dir, { recursive: true, force: true }),
      rewrite: async (stream, revision, event) => rewriteSqliteEvent(path, stream, revision, event),
    };
  },
  openRegistry: remoteInstance,
});
