import { readFileSync } from 'node:fs';
import { RegistryError } from '../../domain/errors.ts';
import { type CommandDef, positionalArgs } from '../context.ts';
import { usageError } from '../errors.ts';

const parsePort = (raw: string | undefined): number => {
  if (raw === undefined) return 7411;
  const port = Number(raw);
  if (!Number.isInteger(port) || port < 0 || port > 65_535) {
    throw usageError(`--port ${raw} is not a TCP port; use 0..65535 (0 picks a free one)`);
  }
  return port;
};

/** `--tls-cert` and `--tls-key`, both or neither, read before anything opens. */
const readTls = (certFile: string | undefined, keyFile: string | undefined) => {
  if (certFile === undefined && keyFile === undefined) return undefined;
  if (certFile === undefined || keyFile === undefined) {
    throw usageError('give both --tls-cert and --tls-key (PEM files), or neither');
  }
  const read = (file: string, what: string) => {
    try {
      return readFileSync(file, 'utf8');
    } catch (error) {
      throw usageError(`cannot read the ${what} ${file}: ${(error as Error).message}`);
    }
  };
  return { cert: read(certFile, 'certificate'), key: read(keyFile, 'key') };
};

/**
 * `procreg serve`: the registry over HTTP until Ctrl-C/SIGTERM, then a graceful shutdown.
 * Request logs are JSON lines on stdout (pino); the one-line banner goes to stderr.
 */
export const serveCommand: CommandDef = {
  name: 'serve',
  usage:
    'serve [--port 7411] [--host 127.0.0.1] [--tokens <file>] [--tls-cert <file> --tls-key <file>]',
  summary: 'serve the registry over HTTP: JSON API, SSE, /openapi.json, the timeline page at /',
  flags: ['port', 'host', 'tokens', 'tls-cert', 'tls-key'],
  details: [
    'Without --tokens (or $PROCREG_TOKENS) the service is open and listens on loopback only.',
    'Make a token with `procreg token --actor <name> --session <id>[,<id>…]` (or --admin).',
  ],
  examples: [
    'procreg serve',
    'procreg --store sqlite:./procreg.db serve --port 7411 --tokens tokens.json',
  ],
  run: async (ctx) => {
    positionalArgs(ctx, [], serveCommand.usage);
    // the HTTP stack (hono, pino, prom-client) loads only for this command
    const [{ startService }, { TokenTable }] = await Promise.all([
      import('../../service/server.ts'),
      import('../../service/tokens.ts'),
    ]);
    const tokens = TokenTable.load(ctx.flags.tokens, process.env);
    const tls = readTls(ctx.flags['tls-cert'], ctx.flags['tls-key']);
    const registry = await ctx.open(ctx.storeUrl, 'write');
    const service = await startService({
      registry,
      port: parsePort(ctx.flags.port),
      ...(ctx.flags.host !== undefined ? { host: ctx.flags.host } : {}),
      tokens,
      ...(tls ? { tls } : {}),
    }).catch((error: NodeJS.ErrnoException) => {
      if (error.code === 'EADDRINUSE') {
        throw new RegistryError(
          'unavailable',
          `port ${ctx.flags.port ?? 7411} is in use; pick another with --port`,
        );
      }
      throw error;
    });
    process.stderr.write(
      `procreg serving ${ctx.storeUrl} at ${service.url} (${tokens ? `${tokens.size} tokens` : 'open, no tokens'}); Ctrl-C stops\n`,
    );
    await ctx.untilInterrupted();
    await service.close();
    return 0;
  },
};

/** `procreg token`: a new bearer token and the line to add to the token file. */
export const tokenCommand: CommandDef = {
  name: 'token',
  usage: 'token --actor <name> (--session <id>[,<id>…] | --admin)',
  summary: 'make a bearer token; prints it and its token-file entry (only the hash is stored)',
  flags: ['actor', 'session', 'admin'],
  examples: ['procreg token --actor agent-a --session alice', 'procreg token --actor ops --admin'],
  run: async (ctx) => {
    positionalArgs(ctx, [], tokenCommand.usage);
    const actor = ctx.flags.actor;
    if (!actor) throw usageError(`missing --actor; usage: procreg ${tokenCommand.usage}`);
    const sessions = (ctx.flags.session ?? '')
      .split(',')
      .map((s) => s.trim())
      .filter(Boolean);
    if (sessions.length > 0 === (ctx.flags.admin === true)) {
      throw usageError(`give either --session or --admin; usage: procreg ${tokenCommand.usage}`);
    }
    const { newToken } = await import('../../service/tokens.ts');
    const { token, entry } = newToken(actor, ctx.flags.admin ? { admin: true } : { sessions });
    if (ctx.out.json) ctx.out.document({ token, entry });
    else {
      ctx.out.line(`token: ${token}`);
      ctx.out.line(`token file entry: ${JSON.stringify(entry)}`);
    }
    return 0;
  },
};
