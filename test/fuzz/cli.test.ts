import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openRegistry } from '../../src/index.ts';
import { runInProcess } from '../support/cli-in-process.ts';
import { seedStore } from '../support/cli-seed.ts';

/**
 * Fuzzed CLI argument vectors (issue #10, item 5): words from the CLI's own vocabulary mixed
 * with arbitrary strings. Whatever the line, the CLI ends with an exit code from its table,
 * a failure is one reported line (never "unexpected error"), and a failed command leaves
 * the store's log exactly as it was.
 */
const soak = process.env.PROCREG_SOAK === '1';
const RUNS = soak ? 3_000 : 300;
const SEED = Number(process.env.PROCREG_SEED ?? 20261127);

let dir: string;
let storeUrl: string;
const cwd = process.cwd();

/** `events --follow` waits for Ctrl-C by design; `demo` writes a sample store. */
const waitsOrSeeds = (token: string) =>
  token === 'demo' || token.includes('follow') || /^-[a-z]*f/i.test(token);

const vocabulary = () =>
  fc.constantFrom(
    // commands and aliases
    'ls',
    'list',
    'ps',
    'show',
    'events',
    'history',
    'log',
    'at',
    'asof',
    'verify',
    'check',
    'export',
    'import',
    'copy',
    'help',
    'lss',
    'shw',
    '',
    // flags
    '--all',
    '-a',
    '--session',
    '--last',
    '-n',
    '--after',
    '--since',
    '--until',
    '--type',
    '-t',
    '--json',
    '--debug',
    '--progress',
    '--no-progress',
    '--color',
    '--no-color',
    '--help',
    '-h',
    '--version',
    '--store',
    '-s',
    '--out',
    '-o',
    '--from',
    '--to',
    '--',
    '-x',
    '--nope',
    '--last=2',
    '--json=yes',
    '--type=ProcessRegistered,Nope',
    '--after=-1',
    // values: ids, numbers, times, positions, stores, files
    'tool-1',
    'job-1',
    'turn-1',
    'nope',
    '0',
    '1',
    '-1',
    '2.5',
    '1e3',
    'abc',
    '5m',
    '-5m',
    '-90s',
    '2025-01-15',
    '2025-01-15T12:00:00Z',
    'yesterday',
    'now',
    'pos:3',
    'pos:x',
    'pos:-1',
    'ProcessRegistered',
    'memory:',
    'sqlite:',
    'esdb:',
    'sqlite:./missing/x.db',
    'sqlite:./copy.db',
    'postgres://x',
    '-',
    './out.ndjson',
    './garbage.ndjson',
    './missing.ndjson',
    './valid.ndjson',
  );

const token = fc.oneof(
  { weight: 6, arbitrary: vocabulary() },
  { weight: 1, arbitrary: fc.string({ maxLength: 8 }) },
  { weight: 1, arbitrary: fc.string({ unit: 'grapheme', maxLength: 4 }) },
);
const command = fc.constantFrom(
  'ls',
  'show',
  'events',
  'history',
  'at',
  'verify',
  'export',
  'import',
  'copy',
  'help',
  'log',
);
/** Mostly a real command first, so lines get past the command name into its arguments. */
const argv = fc
  .tuple(
    fc.oneof({ weight: 4, arbitrary: command.map((c) => [c]) }, fc.constant([])),
    fc.array(token, { maxLength: 5 }),
  )
  .map(([head, rest]) => [...head, ...rest])
  .filter((tokens) => !tokens.some(waitsOrSeeds));

const exportOf = async (url: string): Promise<string> => {
  const registry = await openRegistry(url);
  try {
    let text = '';
    for await (const line of registry.exportEvents()) text += line;
    return text;
  } finally {
    await registry.close();
  }
};

/** --color's escape sequences, stripped before looking at the text */
const ANSI_COLOUR = new RegExp(`${String.fromCharCode(27)}\\[[0-9;]*m`, 'g');

const counts = { vectors: 0, failures: 0, byExit: new Map<number, number>() };

describe('fuzzed CLI argument vectors', () => {
  let before: string;

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'procreg-clifuzz-'));
    // files the CLI may write (export -o, copy --to) land here, never in the repository
    process.chdir(dir);
    storeUrl = `sqlite:${join(dir, 'seeded.db')}`;
    await seedStore(storeUrl);
    before = await exportOf(storeUrl);
    writeFileSync(join(dir, 'valid.ndjson'), before);
    writeFileSync(join(dir, 'garbage.ndjson'), '{"stream":"process-x"}\nnot json\n');
  });
  afterAll(() => {
    process.chdir(cwd);
    rmSync(dir, { recursive: true, force: true });
    console.log(
      `fuzzed CLI: ${counts.vectors} argument vectors, ${counts.failures} failed as reported errors (exit codes ${[
        ...counts.byExit,
      ]
        .sort(([a], [b]) => a - b)
        .map(([code, n]) => `${code}:${n}`)
        .join(' ')}), none unexpected, log unchanged after every one`,
    );
  });

  it('ends every line with a known exit code and one reported line, writing nothing on failure', async () => {
    await fc.assert(
      fc.asyncProperty(argv, async (args) => {
        counts.vectors++;
        const { code, stderr } = await runInProcess(args, { PROCREG_STORE: storeUrl });
        counts.byExit.set(code, (counts.byExit.get(code) ?? 0) + 1);
        expect([0, 1, 2, 3, 4, 5]).toContain(code);
        expect(stderr).not.toMatch(/unexpected error|"code":"internal"/);
        // no line in this vocabulary may write to the seeded store, failing or not
        expect(await exportOf(storeUrl), 'the command changed the log').toBe(before);
        if (code === 0) return;
        counts.failures++;
        const lines = stderr.replace(ANSI_COLOUR, '').trimEnd().split('\n');
        expect(lines[0]).toMatch(/^(procreg:|\{"error":)/);
        expect(lines, 'one line (no --debug stack: nothing was unexpected)').toHaveLength(1);
      }),
      { numRuns: RUNS, seed: SEED },
    );
  }, 120_000);

  it('--debug adds a stack only to unexpected errors, as its help says', async () => {
    const { code, stderr } = await runInProcess(['--debug', 'show', 'nope'], {
      PROCREG_STORE: storeUrl,
    });
    expect(code).toBe(3);
    expect(stderr.trimEnd().split('\n')).toHaveLength(1);
  });

  it('export writes to the stdout it was given (an embedding captures it)', async () => {
    const { code, stdout } = await runInProcess(['export'], { PROCREG_STORE: storeUrl });
    expect(code).toBe(0);
    expect(stdout).toBe(before);
  });
});
