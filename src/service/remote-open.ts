import { RegistryError } from '../domain/errors.ts';
import type { DurabilityTier } from '../store/port.ts';
import { type Connection, connectionAgent, sendJson } from './remote-http.ts';
import { RemoteRegistry } from './remote-registry.ts';

/**
 * Connects to a procreg service with `options.token`, else env PROCREG_TOKEN (so the CLI
 * works against a service: `PROCREG_TOKEN=… procreg --store http://host:7411 ls`). Resolves
 * once the service answered and accepted the token (a wrong token fails here, not later).
 */
export const openRemoteRegistry = async (
  url: string,
  options: { token?: string | undefined; ca?: string | undefined } = {},
  env: NodeJS.ProcessEnv = process.env,
): Promise<RemoteRegistry> => {
  const token = options.token ?? (env.PROCREG_TOKEN || undefined);
  let base: URL;
  try {
    base = new URL(url);
  } catch {
    throw new RegistryError('invalid', `\`${url}\` is not a URL; use http://host:7411`);
  }
  if (base.search || base.hash) {
    throw new RegistryError(
      'invalid',
      `service URL \`${url}\` takes no query; pass { token } as an option`,
    );
  }
  if (token !== undefined && (typeof token !== 'string' || !/^\S{1,4096}$/.test(token))) {
    throw new RegistryError(
      'invalid',
      'the token (options.token or PROCREG_TOKEN) must be the bearer token string, without spaces',
    );
  }
  if (options.ca !== undefined && typeof options.ca !== 'string') {
    throw new RegistryError('invalid', 'options.ca must be a PEM certificate string');
  }
  const conn: Connection = {
    baseUrl: base.href.endsWith('/') ? base.href : `${base.href}/`,
    token,
    agent: connectionAgent(base, options.ca),
    closed: false,
    open: new Set(),
  };
  try {
    const health = await sendJson<{ durabilityTier: DurabilityTier }>(
      conn,
      {},
      { method: 'GET', path: 'healthz' },
    );
    await sendJson(conn, {}, { method: 'GET', path: 'whoami' });
    return new RemoteRegistry(conn, health.durabilityTier);
  } catch (error) {
    conn.agent.destroy();
    throw error;
  }
};
