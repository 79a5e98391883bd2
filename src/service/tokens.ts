import { createHash, randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { z } from 'zod';
import { RegistryError } from '../domain/errors.ts';
import { IdSchema } from '../domain/schemas.ts';
import { parseInput } from '../domain/validation.ts';

/**
 * Who is calling: the actor stamped into every event it causes, and what it may touch.
 * `admin` sees everything; otherwise only processes owned by (provenance owner scope) or
 * granted to one of `sessions`.
 */
export type Principal =
  | { kind: 'admin'; actor: string }
  | { kind: 'sessions'; actor: string; sessions: ReadonlySet<string> }
  /** no token source configured: the service is open (loopback only), actor from the caller */
  | { kind: 'open'; actor: string | undefined };

const Sha256Schema = z.string().regex(/^[0-9a-f]{64}$/, 'must be 64 lowercase hex digits');

const TokenEntrySchema = z.union([
  z.strictObject({ actor: IdSchema, sha256: Sha256Schema, admin: z.literal(true) }),
  z.strictObject({
    actor: IdSchema,
    sha256: Sha256Schema,
    sessions: z.array(IdSchema).min(1).max(1000),
  }),
]);

/**
 * The token file (or `PROCREG_TOKENS`): tokens are stored only as SHA-256 hex, so the file
 * leaks nothing that authenticates.
 * `{ "tokens": [ { "actor": "ops", "sha256": "…", "admin": true },
 *                { "actor": "agent-a", "sha256": "…", "sessions": ["alice"] } ] }`
 */
export const TokenFileSchema = z.strictObject({
  tokens: z.array(TokenEntrySchema).max(10_000),
});
export type TokenFile = z.infer<typeof TokenFileSchema>;

export const hashToken = (token: string): string =>
  createHash('sha256').update(token, 'utf8').digest('hex');

/** A fresh bearer token (256 random bits, base64url) and its token-file entry. */
export const newToken = (
  actor: string,
  access: { admin: true } | { sessions: string[] },
): { token: string; entry: TokenFile['tokens'][number] } => {
  const token = `prt_${randomBytes(32).toString('base64url')}`;
  return { token, entry: { actor, sha256: hashToken(token), ...access } };
};

/** Looks bearer tokens up by their hash. */
export class TokenTable {
  private readonly byHash = new Map<string, Principal>();

  constructor(file: TokenFile) {
    for (const entry of file.tokens) {
      if (this.byHash.has(entry.sha256)) {
        throw new RegistryError(
          'invalid',
          `token file lists the same token twice (actor \`${entry.actor}\`); remove one entry`,
        );
      }
      this.byHash.set(
        entry.sha256,
        'admin' in entry
          ? { kind: 'admin', actor: entry.actor }
          : { kind: 'sessions', actor: entry.actor, sessions: new Set(entry.sessions) },
      );
    }
  }

  get size(): number {
    return this.byHash.size;
  }

  /** The principal of a presented token, or undefined when it is not one of ours. */
  lookup(token: string): Principal | undefined {
    return this.byHash.get(hashToken(token));
  }

  static parse(text: string, where: string): TokenTable {
    let json: unknown;
    try {
      json = JSON.parse(text);
    } catch (error) {
      throw new RegistryError(
        'invalid',
        `${where} is not JSON (${(error as Error).message}); see the README for the token file format`,
      );
    }
    return new TokenTable(parseInput(TokenFileSchema, json, `token file ${where}`));
  }

  /** `--tokens <file>`, else env PROCREG_TOKENS (the JSON itself), else none (open mode). */
  static load(file: string | undefined, env: NodeJS.ProcessEnv): TokenTable | undefined {
    if (file !== undefined) {
      let text: string;
      try {
        text = readFileSync(file, 'utf8');
      } catch (error) {
        throw new RegistryError(
          'invalid',
          `cannot read token file ${file}: ${(error as Error).message}`,
        );
      }
      return TokenTable.parse(text, file);
    }
    if (env.PROCREG_TOKENS) return TokenTable.parse(env.PROCREG_TOKENS, 'PROCREG_TOKENS');
    return undefined;
  }
}
