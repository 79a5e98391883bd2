import { RegistryError } from '../domain/errors.ts';
import type { DurabilityTier } from '../store/port.ts';
import { type Connection, connectionAgent, sendJson } from './remote-http.ts';
import { RemoteRegistry } from './remote-registry.ts';

export const isServiceUrl = (url: string): boolean => /^https?:\/\//i.test(url);

/**
 * Connects to a procreg service. Resolves once the service answered and accepted the token
 * (a wrong token fails here, not on the first call).
 */
export const openRemoteRegistry = async (
  url: string,
  options: { token?: string | undefined } = {},
): Promise<RemoteRegistry> => {
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
  if (
    options.token !== undefined &&
    (typeof options.token !== 'string' || !/^\S{1,4096}$/.test(options.token))
  ) {
    throw new RegistryError('invalid', 'options.token must be the bearer token string');
  }
  const conn: Connection = {
    baseUrl: base.href.endsWith('/') ? base.href : `${base.href}/`,
    token: options.token,
    agent: connectionAgent(base),
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
