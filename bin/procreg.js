#!/usr/bin/env node
// The `procreg` command. Plain JS so it runs without a build: tsx compiles the TypeScript
// sources on the fly, with this package's tsconfig whatever the working directory is.
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

// Start-up time: the library's big plain-JS dependencies are loaded before tsx's loader is
// registered, so its hooks (one cross-thread round trip per module) see only our own
// TypeScript files, not zod's and rxjs's hundreds of modules. The TypeScript imports of
// them then resolve to these same, already evaluated module instances.
await Promise.all([import('zod'), import('rxjs')]);

const { register } = await import('tsx/esm/api');
const tsconfig = fileURLToPath(new URL('../tsconfig.json', import.meta.url));
register(existsSync(tsconfig) ? { tsconfig } : {});
await import('../src/cli/main.ts');
