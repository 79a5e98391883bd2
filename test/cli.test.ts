import { copyFileSync, existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseTimePoint } from '../src/cli/times.ts';
import { openRegistry, type ProcessRecord } from '../src/index.ts';
import { runInProcess } from './support/cli-in-process.ts';
import { type CliResult, jsonOf, runCli, startCli } from './support/cli-process.ts';
import { seedStore, T0 } from './support/cli-seed.ts';

/**
 * The `procreg` CLI as users run it: a child process (from the current sources, through
 * test/support/procreg-source.js; package.test.ts runs the built bin), against real SQLite
 * files seeded through the library.
 */

let dir: string;
let seeded: string;

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'procreg-cli-'));
  seeded = `sqlite:${join(dir, 'seeded.db')}`;
  await seedStore(seeded);
});

afterAll(() => {
  rmSync(dir, { recursive: true, force: true });
});

const on = (store: string, ...args: string[]) => runCli(['--store', store, ...args]);

/** One line on stderr, a procreg message, and no stack trace. */
const expectOneLineError = (result: CliResult, code: number, text: RegExp) => {
  expect(result.code, result.stderr).toBe(code);
  expect(result.stdout).toBe('');
  const lines = result.stderr.trimEnd().split('\n');
  expect(lines).toHaveLength(1);
  expect(lines[0]).toMatch(/^procreg: /);
  expect(lines[0]).toMatch(text);
  expect(result.stderr).not.toMatch(/\n\s+at /);
};

const ids = (processes: ProcessRecord[]) => processes.map((p) => p.id);

describe('reading a seeded store', () => {
  it("ls lists running processes, --all every one, --session a session's", async () => {
    const [running, all, session] = await Promise.all([
      on(seeded, 'ls'),
      on(seeded, 'ls', '--all', '--json'),
      on(seeded, 'ls', '--all', '--session', 's1', '--json'),
    ]);
    expect(running.code, running.stderr).toBe(0);
    const rows = running.stdout.trimEnd().split('\n');
    expect(rows[0]).toMatch(/^ID\s+STATE\s+TYPE\s+OWNER\s+CREATED\s+UPDATED$/);
    expect(rows.slice(1).map((r) => r.split(/\s+/).slice(0, 4))).toEqual([
      ['job-1', 'running', 'job', 'session:s2'],
      ['turn-1', 'running', 'agent_turn', 'session:s1'],
    ]);
    // aligned: every row's STATE column starts where the header's does
    const stateAt = rows[0]!.indexOf('STATE');
    for (const row of rows.slice(1)) expect(row.slice(stateAt)).toMatch(/^running /);
    expect(running.stdout).toContain('2025-01-15 12:10:00');

    const { processes } = jsonOf<{ processes: ProcessRecord[] }>(all);
    // oldest first
    expect(ids(processes)).toEqual(['tool-1', 'job-1', 'turn-1']);
    expect(processes.find((p) => p.id === 'tool-1')?.status).toEqual({
      state: 'completed',
      awaitOutput: { type: 'success', value: { exitCode: 0 } },
    });
    expect(ids(jsonOf<{ processes: ProcessRecord[] }>(session).processes)).toEqual([
      'tool-1',
      'turn-1',
    ]);
  });

  it('ls filters by status, type and creation time, and pages with --limit and --cursor', async () => {
    const [completed, jobs, late, first, badStatus] = await Promise.all([
      on(seeded, 'ls', '--status', 'completed', '--json'),
      on(seeded, 'ls', '--all', '--type', 'job', '--json'),
      on(seeded, 'ls', '--all', '--since', '2025-01-15T12:05:00Z', '--json'),
      on(seeded, 'ls', '--all', '--limit', '2', '--json'),
      on(seeded, 'ls', '--status', 'asleep'),
    ]);
    type Page = { processes: ProcessRecord[]; nextCursor?: string };
    expect(ids(jsonOf<Page>(completed).processes)).toEqual(['tool-1']);
    expect(ids(jsonOf<Page>(jobs).processes)).toEqual(['job-1']);
    expect(ids(jsonOf<Page>(late).processes)).toEqual(['job-1', 'turn-1']);
    const page = jsonOf<Page>(first);
    expect(ids(page.processes)).toEqual(['tool-1', 'job-1']);
    const rest = await on(seeded, 'ls', '--all', '--limit', '2', '--cursor', page.nextCursor!);
    expect(rest.stdout).toMatch(/^ID .*\nturn-1 /);
    expect(rest.stdout).not.toContain('more:');
    const table = await on(seeded, 'ls', '--all', '--limit', '1');
    expect(table.stdout).toMatch(/more: add --cursor \S+/);
    expectOneLineError(badStatus, 2, /--status takes one of running, completed/);
  });

  it('changes lists changed processes in change order and resumes from its cursor', async () => {
    const all = jsonOf<{ records: ProcessRecord[]; nextCursor: string }>(
      await on(seeded, 'changes', '--json'),
    );
    // tool-1 completed before job-1 was registered; turn-1's event is the last change
    expect(ids(all.records)).toEqual(['tool-1', 'job-1', 'turn-1']);
    const firstTwo = jsonOf<{ records: ProcessRecord[]; nextCursor: string }>(
      await on(seeded, 'changes', '--limit', '2', '--json'),
    );
    expect(ids(firstTwo.records)).toEqual(['tool-1', 'job-1']);
    const after = await on(seeded, 'changes', '--cursor', firstTwo.nextCursor);
    expect(after.code, after.stderr).toBe(0);
    expect(after.stdout).toMatch(/turn-1\s+running\s+agent_turn/);
    expect(after.stdout).toContain(`next: --cursor ${all.nextCursor}`);
  });

  it('show gives the record, grants, lease and last events; history a timeline', async () => {
    const [show, showJob, history, historyJson, events] = await Promise.all([
      on(seeded, 'show', 'tool-1'),
      on(seeded, 'show', 'job-1', '--json'),
      on(seeded, 'history', 'tool-1'),
      on(seeded, 'history', 'tool-1', '--json'),
      on(seeded, 'events', 'tool-1', '--after', '1', '--json'),
    ]);
    expect(show.code, show.stderr).toBe(0);
    expect(show.stdout).toMatch(/^tool-1 {2}completed\n/);
    expect(show.stdout).toMatch(/owner\s+session:s1\/frame:main \(host h1\)/);
    expect(show.stdout).toMatch(/created\s+2025-01-15 12:00:00 \(\d+\S* ago\)/);
    expect(show.stdout).toMatch(/outcome\s+success exitCode=0/);
    expect(show.stdout).toMatch(/lease\s+none/);
    expect(show.stdout).toMatch(/session:s1\/frame:main\s+tool\s+list files/);
    expect(show.stdout).toContain('events (3)');
    expect(show.stdout).toMatch(/3\s+2025-01-15 12:01:00.000\s+process.completed\s+exitCode=0/);

    const job = jsonOf<{
      process: ProcessRecord;
      grants: unknown[];
      lease: { ownerId: string; fencingToken: number; expiresAtMs: number } | null;
      eventCount: number;
    }>(showJob);
    expect(job.process.status.state).toBe('running');
    expect(job.grants).toEqual([]);
    expect(job.lease).toMatchObject({ ownerId: 'worker-1', fencingToken: 1 });
    expect(job.lease?.expiresAtMs).toBe(T0 + (10 * 60 + 5) * 1000 + 30 * 60_000);
    expect(job.eventCount).toBe(0);

    expect(history.code, history.stderr).toBe(0);
    const timeline = history.stdout.trimEnd().split('\n');
    expect(timeline[0]).toMatch(/^tool-1: 5 entries, 2025-01-15 12:00:00 → 12:01:00/);
    expect(timeline[1]).toMatch(/POS\s+TIME\s+ACTOR\s+WHAT/);
    expect(timeline.slice(2).map((l) => l.trim().split(/\s{2,}/))).toEqual([
      [
        '1',
        '2025-01-15 12:00:00.000',
        'agent:alice',
        'registered tool_call (owner session:s1/frame:main, host h1)',
      ],
      [
        '2',
        '2025-01-15 12:00:00.000',
        'agent:alice',
        'granted to session:s1/frame:main as tool "list files"',
      ],
      ['3', '2025-01-15 12:00:01.000', 'tool:shell', '#1 producer.line line=a.txt'],
      ['4', '2025-01-15 12:00:02.000', 'tool:shell', '#2 producer.line line=b.txt'],
      ['5', '2025-01-15 12:01:00.000', 'tool:shell', '#3 process.completed exitCode=0'],
    ]);

    const { entries } = jsonOf<{
      entries: { type: string; position: string; metadata: { actor: string; command: string } }[];
    }>(historyJson);
    expect(entries.map((e) => [e.type, e.position, e.metadata.actor, e.metadata.command])).toEqual([
      ['ProcessRegistered', '1', 'agent:alice', 'registerProcess'],
      ['HandleGranted', '2', 'agent:alice', 'grantHandle'],
      ['ProcessEventAppended', '3', 'tool:shell', 'appendEvent'],
      ['ProcessEventAppended', '4', 'tool:shell', 'appendEvent'],
      ['ProcessEventAppended', '5', 'tool:shell', 'completeProcess'],
    ]);
    const after1 = jsonOf<{ events: { sequence: number; eventType: string }[] }>(events);
    expect(after1.events.map((e) => [e.sequence, e.eventType])).toEqual([
      [2, 'producer.line'],
      [3, 'process.completed'],
    ]);
  });

  it('at shows the registry as it was at a time or a log position', async () => {
    const [beforeDone, showThen, atPosition, historyThen] = await Promise.all([
      on(seeded, 'at', '2025-01-15T12:00:30Z', 'ls', '--json'),
      on(seeded, 'at', '2025-01-15 12:00:30', 'show', 'tool-1'),
      on(seeded, 'at', 'pos:6', 'ls', '--all', '--json'),
      on(seeded, 'at', 'pos:3', 'history', 'tool-1', '--json'),
    ]);
    const then = jsonOf<{ at: unknown; processes: ProcessRecord[] }>(beforeDone);
    expect(then.at).toEqual({ timeMs: T0 + 30_000 });
    expect(then.processes.map((p) => [p.id, p.status.state])).toEqual([['tool-1', 'running']]);

    expect(showThen.code, showThen.stderr).toBe(0);
    expect(showThen.stdout).toMatch(/^as of 2025-01-15 12:00:30 \(.* ago\)\ntool-1 {2}running\n/);
    expect(showThen.stdout).toContain('events (2)');

    const byPosition = jsonOf<{ at: unknown; processes: ProcessRecord[] }>(atPosition);
    expect(byPosition.at).toEqual({ position: '6' });
    expect(byPosition.processes.map((p) => [p.id, p.status.state])).toEqual([
      ['tool-1', 'completed'],
      ['job-1', 'running'],
    ]);
    expect(jsonOf<{ entries: unknown[] }>(historyThen).entries).toHaveLength(3);
  });

  it('verify exits 0 on a healthy store and reports with --json', async () => {
    const json = await on(seeded, 'verify', '--json');
    expect(json.code, json.stderr).toBe(0);
    expect(jsonOf(json)).toEqual({ ok: true, position: '9', differences: [] });
  });
});

describe('integrity', () => {
  it('digest prints digest@position; verify --integrity exits 0, then 1 naming a tampered row, and checks --against', async () => {
    const path = join(dir, 'tampered.db');
    copyFileSync(join(dir, 'seeded.db'), path);
    const store = `sqlite:${path}`;
    const digest = await on(store, 'digest');
    expect(digest.code, digest.stderr).toBe(0);
    expect(digest.stdout).toMatch(/^[0-9a-f]{64}@9\n$/);
    const kept = digest.stdout.trim();
    const healthy = await on(store, 'verify', '--integrity', '--against', kept);
    expect(healthy.code, healthy.stderr).toBe(0);
    expect(healthy.stdout).toMatch(/^ok: every event matches its hash/);

    const db = new Database(path);
    db.prepare("UPDATE events SET data = json_set(data, '$.tampered', 1) WHERE position = 5").run();
    db.close();
    const [human, json] = await Promise.all([
      on(store, 'verify', '--integrity', '--against', kept),
      on(store, 'verify', '--integrity', '--json'),
    ]);
    expect(human.code).toBe(1);
    expect(human.stdout).toMatch(/^1 problem in the log/);
    expect(human.stdout).toMatch(/^ {2}5 +altered +process-\S+ +\d+$/m);
    expect(json.code).toBe(1);
    expect(jsonOf<{ ok: boolean; problems: unknown[] }>(json)).toMatchObject({
      ok: false,
      problems: [{ position: '5', kind: 'altered' }],
    });
    expectOneLineError(
      await on(store, 'verify', '--against', kept),
      2,
      /--against needs --integrity/,
    );
  });
});

describe('moving a store', () => {
  it('export → import into a fresh file → verify, with identical read models', async () => {
    const dump = join(dir, 'dump.ndjson');
    const target = `sqlite:${join(dir, 'imported.db')}`;
    const exported = await on(seeded, 'export', '-o', dump, '--progress');
    expect(exported.code, exported.stderr).toBe(0);
    expect(exported.stdout).toBe(`exported 9 events from ${seeded} to ${dump}\n`);
    expect(exported.stderr).toMatch(/^export: writing 0 events/m);
    expect(exported.stderr).toMatch(/^export: exported 9 events \(\d+/m);
    expect(readFileSync(dump, 'utf8').trimEnd().split('\n')).toHaveLength(9);

    const imported = await on(target, 'import', dump, '--progress', '--json');
    expect(imported.code, imported.stderr).toBe(0);
    expect(jsonOf(imported)).toEqual({ imported: 9, into: target });
    expect(imported.stderr).toMatch(/^import: checking 1 events/m);
    expect(imported.stderr).toMatch(/^import: writing 9\/9 events 100%/m);

    // stdin and copy reach the same state
    const piped = `sqlite:${join(dir, 'piped.db')}`;
    const copied = `sqlite:${join(dir, 'copied.db')}`;
    const views = [
      ['ls', '--all', '--json'],
      ['show', 'tool-1', '--json'],
      ['show', 'job-1', '--json'],
    ];
    const [verify, again, fromStdin, copy, ...viewed] = await Promise.all([
      on(target, 'verify'),
      on(target, 'import', dump),
      runCli(['--store', piped, 'import', '-'], { input: readFileSync(dump, 'utf8') }),
      runCli(['copy', '--from', seeded, '--to', copied, '--json']),
      ...views.flatMap((view) => [on(seeded, ...view), on(target, ...view)]),
    ]);
    expect(verify.code, verify.stderr).toBe(0);
    expect(verify.stdout).toMatch(/^ok: every read model matches its rebuild/);
    expectOneLineError(again!, 5, /already holds procreg events/);
    expect(fromStdin!.code, fromStdin!.stderr).toBe(0);
    expect(fromStdin!.stdout).toContain(`imported 9 events from stdin into ${piped}`);
    expect(jsonOf(copy!)).toEqual({ copied: 9, from: seeded, to: copied });

    // identical read models: the CLI's views of the original and the import agree...
    for (let i = 0; i < viewed.length; i += 2) {
      const original = jsonOf(viewed[i]!);
      expect(original).toBeTruthy();
      expect(jsonOf(viewed[i + 1]!)).toEqual(original);
    }
    expect(jsonOf<{ processes: unknown[] }>(viewed[0]!).processes).toHaveLength(3);
    // ...and so do the stdin import and the copy, read through the library
    const recordsOf = async (url: string) => {
      const registry = await openRegistry(url);
      try {
        return {
          processes: await registry.listProcesses(),
          diffs: await registry.verifyProjections(),
        };
      } finally {
        await registry.close();
      }
    };
    const expected = await recordsOf(seeded);
    expect(await recordsOf(piped)).toEqual(expected);
    expect(await recordsOf(copied)).toEqual(expected);
  });
});

describe('errors', () => {
  it('one line, the documented exit code, no stack trace', async () => {
    const missingFile = join(dir, 'missing.db');
    const [badUrl, missing, noStore] = await Promise.all([
      runCli(['--store', 'nope://x', 'ls']),
      on(seeded, 'show', 'nope'),
      on(`sqlite:${missingFile}`, 'ls'),
    ]);
    expectOneLineError(
      badUrl,
      2,
      /unknown store `nope:\/\/x`; use memory:, sqlite:<path>, postgres:\/\/.* or esdb:/,
    );
    expectOneLineError(missing, 3, /no process `nope` in sqlite:.*`procreg --store .* ls --all`/);
    expectOneLineError(noStore, 4, /no store at .*does not exist\); run `procreg demo`/);
    expect(existsSync(missingFile)).toBe(false);
  });

  // The same error path in-process (no start-up cost) for the command line's own mistakes.
  it('bad arguments are usage errors (2); --json errors are one JSON line', async () => {
    const cases: [string[], number, RegExp][] = [
      [['at', '42', 'ls'], 2, /`42` is ambiguous.*pos:42/],
      [['at', 'yesterday-ish', 'ls'], 2, /cannot read `yesterday-ish` as a point in time/],
      [['at', '-5m', 'verify'], 2, /`verify` cannot run under `at`/],
      [['at', '-5m', 'ls', '--last', '3'], 2, /`--last` does not apply to `at ls`/],
      [['ls', '--follow'], 2, /`--follow` does not apply to `ls`/],
      [['ls', '--bogus'], 2, /unknown option `--bogus`/],
      [['show'], 2, /missing <id>; usage: procreg show <id>/],
      [['events', 'x', '--after', 'two'], 2, /--after must be a whole number/],
      [['lss'], 2, /unknown command `lss`; did you mean `procreg ls`\?/],
      [['history', 'tool-1', '--type', 'Nope'], 2, /unknown entry type `Nope`; use one of/],
    ];
    for (const [argv, code, message] of cases) {
      const result = await runInProcess(['--store', seeded, ...argv]);
      expectOneLineError({ ...result, signal: null }, code, message);
    }
    const json = await runInProcess(['--store', seeded, 'history', 'nope', '--json']);
    expect(json.code).toBe(3);
    expect(json.stderr.trimEnd().split('\n')).toHaveLength(1);
    expect(JSON.parse(json.stderr)).toMatchObject({ error: { code: 'not_found' } });
  });
});

describe('times and help', () => {
  const now = Date.UTC(2025, 0, 15, 12, 0, 0);
  it('at takes ISO, epoch ms, relative times and log positions', () => {
    expect(parseTimePoint('2025-01-15T11:00:00Z', now)).toEqual({ timeMs: now - 3_600_000 });
    expect(parseTimePoint('-5m', now)).toEqual({ timeMs: now - 300_000 });
    expect(parseTimePoint('1h30m ago', now)).toEqual({ timeMs: now - 5_400_000 });
    expect(parseTimePoint(String(now - 1), now)).toEqual({ timeMs: now - 1 });
    expect(parseTimePoint('pos:42', now)).toEqual({ position: 42n });
    expect(parseTimePoint('#7', now)).toEqual({ position: 7n });
    expect(parseTimePoint('now', now)).toEqual({ timeMs: now });
  });

  it('help lists every command and the exit codes', async () => {
    const human = await runInProcess(['help']);
    expect(human.code).toBe(0);
    for (const name of [
      'ls',
      'show',
      'history',
      'events',
      'at',
      'verify',
      'digest',
      'export',
      'import',
      'copy',
      'demo',
    ]) {
      expect(human.stdout).toMatch(new RegExp(`^  ${name}\\b`, 'm'));
    }
    expect(human.stdout).toMatch(/^ {2}3 {2}no such process/m);
    const json = await runInProcess(['help', 'at', '--json']);
    expect(JSON.parse(json.stdout).commands[0].usage).toMatch(/^procreg at /);
  });
});

describe('demo', () => {
  it('seeds a session once, prints it, and writes nothing on a second run', async () => {
    const store = `sqlite:${join(dir, 'demo.db')}`;
    const first = await on(store, 'demo');
    expect(first.code, first.stderr).toBe(0);
    expect(first.stdout).toMatch(/^Seeded a demo agent session into .* \((\d+) events\)\./);
    expect(first.stdout).toMatch(/demo:job:reindex-7\s+failed \(timeout\)\s+job/);
    expect(first.stdout).toMatch(/worker:w1\s+lease claimed by worker:w1/);
    expect(first.stdout).toContain('Next, try:');
    const [second, ls, verify] = await Promise.all([
      on(store, 'demo'),
      on(store, 'ls', '--all', '--json'),
      on(store, 'verify'),
    ]);
    expect(second.code, second.stderr).toBe(0);
    expect(second.stdout).toMatch(/^The demo session is already in .*; nothing new was written\./);
    // oldest first
    expect(ids(jsonOf<{ processes: ProcessRecord[] }>(ls).processes)).toEqual([
      'demo:agent:main',
      'demo:tool:grep-1',
      'demo:agent:researcher-1',
      'demo:job:reindex-7',
      'demo:tool:test-watch',
    ]);
    expect(verify.code, verify.stderr).toBe(0);
    // the hinted `at` command shows the tool call still running
    const hint = /procreg --store \S+ (at \S+ ls)/.exec(first.stdout)?.[1]?.split(' ');
    expect(hint).toBeDefined();
    const atHint = await on(store, ...hint!, '--json');
    const running = jsonOf<{ processes: ProcessRecord[] }>(atHint).processes;
    expect(running.find((p) => p.id === 'demo:tool:grep-1')?.status.state).toBe('running');
  });
});

describe('events --follow', () => {
  it('prints an event another process appends, and exits 0 on SIGTERM', async () => {
    // its own store: the other tests read the seeded one as it was seeded
    const store = `sqlite:${join(dir, 'follow.db')}`;
    await seedStore(store);
    const cli = startCli(['--store', store, 'events', 'turn-1', '--follow', '--json']);
    try {
      // the backlog arriving means the live subscription is in place
      await cli.waitForStdout((out) => out.includes('"hello"'));
      const registry = await openRegistry(store);
      try {
        await registry.appendEvent('turn-1', {
          eventType: 'turn.message',
          payload: { text: 'from another process' },
        });
      } finally {
        await registry.close();
      }
      await cli.waitForStdout((out) => out.includes('from another process'));
    } finally {
      cli.child.kill('SIGTERM');
    }
    const result = await cli.exited;
    expect(result.code, result.stderr).toBe(0);
    expect(result.stderr).toBe('');
    const lines = result.stdout
      .trimEnd()
      .split('\n')
      .map((l) => JSON.parse(l));
    expect(lines.map((e: { sequence: number }) => e.sequence)).toEqual([1, 2]);
  });
});

describe('read models on a store from an older procreg', () => {
  it('the first command builds them once with progress; rebuild redoes it; verify agrees', async () => {
    const path = join(dir, 'old.db');
    copyFileSync(new URL('./fixtures/v1-events-only.db', import.meta.url), path);
    const store = `sqlite:${path}`;
    const first = await on(store, 'ls', '--all', '--progress');
    expect(first.code, first.stderr).toBe(0);
    expect(first.stderr).toMatch(/building the read models \(once\)/);
    expect(first.stdout.trimEnd().split('\n')).toHaveLength(7); // header + 6 processes
    const second = await on(store, 'ls', '--all', '--progress');
    expect(second.stderr).not.toMatch(/building the read models/);
    expect(second.stdout).toBe(first.stdout);

    const rebuilt = await on(store, 'rebuild', '--progress');
    expect(rebuilt.code, rebuilt.stderr).toBe(0);
    expect(rebuilt.stdout).toMatch(/^rebuilt every read model from the log \(up to position \d+\)/);
    expect(rebuilt.stderr).toMatch(/rebuilding read models/);
    const verify = await on(store, 'verify', '--json');
    expect(jsonOf<{ ok: boolean }>(verify).ok).toBe(true);
    expect((await on(store, 'ls', '--all')).stdout).toBe(first.stdout);
  });
});

describe('diff', () => {
  it('lists per process what changed between two points, as a table and as JSON', async () => {
    const [table, json, backwards] = await Promise.all([
      on(seeded, 'diff', 'pos:0', 'now'),
      on(seeded, 'diff', 'pos:0', 'now', '--json'),
      on(seeded, 'diff', 'now', 'pos:0'),
    ]);
    expect(table.code, table.stderr).toBe(0);
    const changes = jsonOf<{ processes: { processId: string; registered?: unknown }[] }>(json);
    const all = jsonOf<{ processes: ProcessRecord[] }>(await on(seeded, 'ls', '--all', '--json'));
    // from the start of the log, every process was registered in the window
    // changes are by process id; ls lists oldest first
    expect(changes.processes.map((p) => p.processId)).toEqual(ids(all.processes).sort());
    expect(changes.processes.every((p) => p.registered !== undefined)).toBe(true);
    expect(table.stdout).toMatch(/^\d+ process(es)? changed between position 0 and \d+\n/);
    expect(table.stdout).toMatch(/PROCESS\s+WHAT CHANGED/);
    expectOneLineError(backwards, 2, /is before `from`/);
  });
});

describe('prune', () => {
  it('dry run, prune with progress into an archive, history says where it went, import restores', async () => {
    const store = `sqlite:${join(dir, 'pruned.db')}`;
    copyFileSync(join(dir, 'seeded.db'), join(dir, 'pruned.db'));
    const archive = join(dir, 'archive');
    const before = jsonOf<{ processes: ProcessRecord[] }>(await on(store, 'ls', '--all', '--json'));
    const ended = before.processes.filter((p) => p.status.state !== 'running').map((p) => p.id);
    expect(ended.length).toBeGreaterThan(0);

    const dry = await on(store, 'prune', '--before', '1d', '--archive', archive, '--dry-run');
    expect(dry.code, dry.stderr).toBe(0);
    expect(dry.stdout).toContain(`would prune ${ended.length} processes`);
    expect(existsSync(archive)).toBe(false);

    const pruned = await on(
      store,
      'prune',
      '--before',
      '1d',
      '--archive',
      archive,
      '--progress',
      '--json',
    );
    expect(pruned.code, pruned.stderr).toBe(0);
    expect(pruned.stderr).toMatch(/^prune: archiving \d+\/\d+ processes/m);
    const result = jsonOf<{
      archive: string;
      manifestSha256: string;
      processes: { processId: string }[];
    }>(pruned);
    expect(result.processes.map((p) => p.processId).sort()).toEqual([...ended].sort());
    const after = jsonOf<{ processes: ProcessRecord[] }>(await on(store, 'ls', '--all', '--json'));
    expect(ids(after.processes)).toEqual(ids(before.processes).filter((id) => !ended.includes(id)));
    const history = await on(store, 'history', ended[0]!);
    expect(history.code).not.toBe(0);
    expect(history.stderr).toMatch(/was pruned .* archived in .* import /);
    // diff shows the prune, with the archive and its manifest hash
    const [diffTable, diffJson] = await Promise.all([
      on(store, 'diff', 'pos:0', 'now'),
      on(store, 'diff', 'pos:0', 'now', '--json'),
    ]);
    expect(diffTable.code, diffTable.stderr).toBe(0);
    expect(diffTable.stdout).toMatch(new RegExp(`pruned at .* into ${result.archive}`));
    const prunedIds = jsonOf<{
      processes: { processId: string; pruned?: { manifestSha256: string } }[];
    }>(diffJson)
      .processes.filter((p) => p.pruned?.manifestSha256 === result.manifestSha256)
      .map((p) => p.processId);
    expect(prunedIds.sort()).toEqual([...ended].sort());

    const restored = await on(store, 'import', result.archive);
    expect(restored.code, restored.stderr).toBe(0);
    expect(restored.stdout).toContain(`restored ${ended.length} processes`);
    const back = jsonOf<{ processes: ProcessRecord[] }>(await on(store, 'ls', '--all', '--json'));
    expect(back.processes).toEqual(before.processes);
    expect((await on(store, 'verify')).code).toBe(0);
  });
});
