import { existsSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import type { Hono } from 'hono';
import type { Env } from './wire.ts';

/**
 * The timeline page: plain HTML, CSS and an ES module, served as they are in the source
 * tree (no build step). From the compiled `dist/service/` the files are found in the
 * package's `src/service/ui/`, which ships with it.
 */
const uiDir = (): string => {
  for (const candidate of ['./ui/', '../../src/service/ui/']) {
    const dir = fileURLToPath(new URL(candidate, import.meta.url));
    if (existsSync(`${dir}index.html`)) return dir;
  }
  throw new Error('procreg: the timeline page files (src/service/ui) are missing');
};

const files: Readonly<Record<string, { file: string; type: string }>> = {
  '/': { file: 'index.html', type: 'text/html; charset=utf-8' },
  '/ui/app.js': { file: 'app.js', type: 'text/javascript; charset=utf-8' },
  '/ui/timeline.js': { file: 'timeline.js', type: 'text/javascript; charset=utf-8' },
  '/ui/style.css': { file: 'style.css', type: 'text/css; charset=utf-8' },
};

export const staticRoutes = (app: Hono<Env>): void => {
  const dir = uiDir();
  // read once: the files are small and never change while the service runs
  const cache = new Map<string, Buffer>();
  for (const [path, { file, type }] of Object.entries(files)) {
    app.get(path, (c) => {
      let body = cache.get(file);
      if (!body) {
        body = readFileSync(`${dir}${file}`);
        cache.set(file, body);
      }
      return c.body(new Uint8Array(body), 200, {
        'content-type': type,
        'cache-control': 'no-cache',
        'x-content-type-options': 'nosniff',
        // everything the page needs is its own three files and the API on this origin
        'content-security-policy':
          "default-src 'self'; img-src 'self' data:; object-src 'none'; base-uri 'none'; frame-ancestors 'none'",
      });
    });
  }
};
