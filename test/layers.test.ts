import { readdirSync, readFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { importsOf, violationsOf } from './support/layers.ts';

const root = fileURLToPath(new URL('..', import.meta.url));

const sourceFiles = (dir: string): string[] =>
  readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) return sourceFiles(path);
    return entry.name.endsWith('.ts') ? [relative(root, path).split('\\').join('/')] : [];
  });

describe('layers (docs/DESIGN.md)', () => {
  it('every import in src/ follows an allowed layer edge', () => {
    const files = sourceFiles(join(root, 'src'));
    expect(files.length).toBeGreaterThan(50);
    const problems = files.flatMap((file) =>
      violationsOf(file, readFileSync(join(root, file), 'utf8')),
    );
    expect(problems).toEqual([]);
  });

  it('fails on a wrong-way import, type-only and dynamic ones included', () => {
    expect(
      violationsOf('src/domain/bad.ts', "import { START } from '../store/port.ts';\n"),
    ).toEqual([
      'src/domain/bad.ts:1: domain must not import store-port (src/store/port.ts); domain may import nothing outside itself',
    ]);
    const wrong = [
      ['src/domain/bad.ts', "import type { EventStore } from '../store/port.ts';"],
      ['src/commands/bad.ts', "import type { OwnEvent } from '../projections/event-reader.ts';"],
      ['src/commands/bad.ts', "export { exportLines } from '../queries/export.ts';"],
      ['src/projections/bad.ts', "const q = await import('../queries/views.ts');"],
      ['src/queries/bad.ts', "type R = import('../registry.ts').ProcessRegistry;"],
      ['src/store/sqlite-bad.ts', "import { revisionMatches } from './memory.ts';"],
      ['src/store/eventstoredb-bad.ts', "import { x } from './sqlite-events.ts';"],
      ['src/registry.ts', "import { runCli } from './cli/run.ts';"],
      ['src/store/open.ts', "import { openSqliteStore } from './sqlite.ts';"],
      ['src/store/memory.ts', "import Database from 'better-sqlite3';"],
      ['src/registry.ts', "import { openSqliteStore } from './store/sqlite.ts';"],
      ['src/stray.ts', "import { z } from 'zod';"],
      ['src/open-registry.ts', "import { openRemoteRegistry } from './service/remote-open.ts';"],
      ['src/registry.ts', "import { Hono } from 'hono';"],
      ['src/service/remote-http.ts', "import { startService } from './server.ts';"],
      ['src/store/postgres-feed.ts', "import { toStoredEvent } from './sqlite-events.ts';"],
    ] as const;
    for (const [path, text] of wrong) {
      expect(violationsOf(path, `${text}\n`), `${path}: ${text}`).toHaveLength(1);
    }
  });

  it('accepts the allowed directions', () => {
    const right = [
      ['src/commands/ok.ts', "import type { EventStore } from '../store/port.ts';"],
      ['src/queries/ok.ts', "import { foldLog } from '../projections/fold-log.ts';"],
      ['src/store/sqlite-ok.ts', "import { revisionMatches } from './shared.ts';"],
      ['src/store/open.ts', "const { openSqliteStore } = await import('./sqlite.ts');"],
      ['src/cli/ok.ts', "import type { ProcessRegistry } from '../index.ts';"],
      [
        'src/cli/commands/ok.ts',
        "const { startService } = await import('../../service/server.ts');",
      ],
      ['src/store/postgres-ok.ts', "import { toStoredEvent } from './event-rows.ts';"],
    ] as const;
    for (const [path, text] of right) expect(violationsOf(path, `${text}\n`)).toEqual([]);
  });

  it('sees every form of import', () => {
    const text = [
      "import a from './a.ts';",
      "import type { B } from './b.ts';",
      "import { type C } from './c.ts';",
      "export * from './d.ts';",
      "const e = await import('./e.ts');",
      "type F = import('./f.ts').F;",
      "import {\n  g,\n  h,\n} from './g.ts';",
    ].join('\n');
    expect(importsOf('src/x.ts', text).map((e) => [e.specifier, e.kind])).toEqual([
      ['./a.ts', 'static'],
      ['./b.ts', 'type'],
      ['./c.ts', 'static'],
      ['./d.ts', 'static'],
      ['./e.ts', 'dynamic'],
      ['./f.ts', 'type'],
      ['./g.ts', 'static'],
    ]);
  });
});
