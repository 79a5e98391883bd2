import { type CommandDef, positionalArgs } from '../context.ts';
import { exitCodes } from '../errors.ts';

/**
 * Empties the read models and rebuilds them from the log (the library's
 * rebuildProjections): after a repair of the store, or to prove the models are a pure fold
 * of the log. On SQLite the rebuild commits in chunks, so an interrupted one resumes where it
 * stopped at the next open or rebuild.
 */
export const rebuildCommand: CommandDef = {
  name: 'rebuild',
  usage: 'rebuild',
  summary: 'drop the read models and rebuild them from the log (resumable)',
  flags: [],
  examples: ['procreg rebuild', 'procreg rebuild --progress'],
  run: async (ctx) => {
    positionalArgs(ctx, [], rebuildCommand.usage);
    const registry = await ctx.open(ctx.storeUrl, 'read');
    const progress = ctx.progress('rebuild', 'events');
    progress.update('rebuilding read models from the log');
    let events = 0n;
    try {
      await registry.rebuildProjections(({ done, head }) => {
        events = done;
        progress.update('rebuilding read models', Number(done), Number(head));
      });
    } catch (error) {
      progress.abort();
      throw error;
    }
    const { position } = registry.diagnostics();
    progress.finish(`rebuilt up to position ${events}`);
    const { out } = ctx;
    if (out.json) out.document({ ok: true, position });
    else out.line(`rebuilt every read model from the log (up to position ${position})`);
    return exitCodes.ok;
  },
};
