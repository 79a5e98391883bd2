#!/usr/bin/env node
// Test-only twin of bin/procreg.js: runs the CLI from the TypeScript sources through tsx, so
// the CLI tests check the code as it is now, not the last build. test/package.test.ts runs
// the real bin/procreg.js on dist/.
import { fileURLToPath } from 'node:url';

// zod and rxjs are loaded before tsx's hooks are registered, so the hooks (one cross-thread
// round trip per module) see only our TypeScript files; the sources' imports of them then
// resolve to these already evaluated instances. Only start-up time depends on this.
await Promise.all([import('zod'), import('rxjs')]);

const { register } = await import('tsx/esm/api');
register({ tsconfig: fileURLToPath(new URL('../../tsconfig.json', import.meta.url)) });
await import('../../src/cli/main.ts');
