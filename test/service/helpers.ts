import type { ProcessRegistry } from '../../src/index.ts';

export interface Reply {
  status: number;
  body: unknown;
  text: string;
  headers: Headers;
}

/** One request to the service with a test's choice of token, body and headers. */
export const call = async (
  base: string,
  method: string,
  path: string,
  options: {
    token?: string | undefined;
    body?: unknown;
    rawBody?: string;
    accept?: string;
    headers?: Record<string, string>;
  } = {},
): Promise<Reply> => {
  const headers: Record<string, string> = {
    accept: options.accept ?? 'application/json',
    ...options.headers,
  };
  if (options.token !== undefined) headers.authorization = `Bearer ${options.token}`;
  let body: string | undefined;
  if (options.rawBody !== undefined) body = options.rawBody;
  else if (options.body !== undefined) body = JSON.stringify(options.body);
  if (body !== undefined) headers['content-type'] = 'application/json';
  const response = await fetch(new URL(path, base), { method, headers, body });
  const text = await response.text();
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    parsed = undefined;
  }
  return { status: response.status, body: parsed, text, headers: response.headers };
};

/** The whole stored log, for "nothing was written" checks. */
export const exported = async (registry: ProcessRegistry): Promise<string[]> => {
  const lines: string[] = [];
  for await (const line of registry.exportEvents()) lines.push(line);
  return lines;
};
