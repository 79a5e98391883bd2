import { createReadStream, createWriteStream } from 'node:fs';
import { mkdtemp, rename, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { basename, dirname, join } from 'node:path';
import { pipeline } from 'node:stream/promises';
import { CliError, exitCodes } from './errors.ts';

/** Files the CLI reads and writes: NDJSON in, NDJSON out. */

/** A file's text in chunks, each time it is called (import reads its source twice). */
export const fileChunks = (path: string) =>
  async function* (): AsyncGenerator<string> {
    for await (const chunk of createReadStream(path, { encoding: 'utf8' })) yield String(chunk);
  };

/** Fails with one clear line when the file cannot be read, before anything starts. */
export const requireReadableFile = async (path: string): Promise<void> => {
  try {
    const info = await stat(path);
    if (!info.isFile()) throw new Error('not a regular file');
  } catch (error) {
    const reason =
      (error as NodeJS.ErrnoException).code === 'ENOENT'
        ? 'no such file'
        : (error as Error).message;
    throw new CliError(
      `cannot read \`${path}\` (${reason}); pass the file \`procreg export -o <file>\` wrote, or - for stdin`,
      exitCodes.usage,
    );
  }
};

/** Writes text chunks to a stream, waiting whenever its buffer is full. */
/** Where `writeAll` writes: a Node stream, or the CLI's stdout as the caller gave it. */
export interface ChunkSink {
  write(chunk: string): boolean;
  /** waited on for 'drain' when `write` says the buffer is full (streams that can say so) */
  once?(event: 'drain', listener: () => void): unknown;
}

export const writeAll = async (
  stream: ChunkSink,
  chunks: AsyncIterable<string>,
  onChunk: () => void,
): Promise<void> => {
  for await (const chunk of chunks) {
    if (!stream.write(chunk) && stream.once) {
      await new Promise<void>((resolve) => stream.once?.('drain', resolve));
    }
    onChunk();
  }
};

/**
 * Writes a file so that it appears whole or not at all: into a sibling temporary file,
 * renamed over the target only after everything was written and flushed. A failed export
 * never leaves a truncated file that a later import would reject halfway.
 */
export const writeFileAtomically = async (
  path: string,
  write: (stream: NodeJS.WritableStream) => Promise<void>,
): Promise<void> => {
  const partial = join(dirname(path), `.${basename(path)}.partial-${process.pid}`);
  const stream = createWriteStream(partial, { flags: 'w' });
  const opened = new Promise<void>((resolve, reject) => {
    stream.once('open', () => resolve());
    stream.once('error', reject);
  });
  try {
    await opened.catch((error: NodeJS.ErrnoException) => {
      throw new CliError(
        `cannot write \`${path}\` (${error.code ?? error.message}); choose a writable path with -o`,
        exitCodes.usage,
      );
    });
    await write(stream);
    await new Promise<void>((resolve, reject) => {
      stream.once('error', reject);
      stream.end(() => resolve());
    });
    await rename(partial, path);
  } catch (error) {
    stream.destroy();
    await rm(partial, { force: true });
    throw error;
  }
};

/**
 * Copies stdin into a temporary file and runs `use` on its path: import reads its source
 * twice (check, then write) and a pipe can be read only once.
 */
export const withStdinSpooled = async <T>(
  stdin: NodeJS.ReadableStream,
  use: (path: string) => Promise<T>,
): Promise<T> => {
  const dir = await mkdtemp(join(tmpdir(), 'procreg-import-'));
  const path = join(dir, 'stdin.ndjson');
  try {
    // Bytes as they come: decoding chunk by chunk could split a multi-byte character.
    await pipeline(stdin, createWriteStream(path));
    return await use(path);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
};
