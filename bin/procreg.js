#!/usr/bin/env node
// The `procreg` command: the compiled CLI in dist/, built by `npm install` / `npm ci`
// (the package's prepare script) or `npm run build`. No TypeScript loader at run time.
try {
  await import('../dist/cli/main.js');
} catch (error) {
  const missing =
    error?.code === 'ERR_MODULE_NOT_FOUND' && String(error.message).includes('dist/cli/main.js');
  if (!missing) throw error;
  process.stderr.write('procreg: dist/ is missing; run `npm run build` in the procreg package\n');
  process.exitCode = 1;
}
