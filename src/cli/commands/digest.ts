import { type CommandDef, positionalArgs } from '../context.ts';
import { exitCodes } from '../errors.ts';
import { formatDigest } from './integrity.ts';

/**
 * Prints the log digest (the library's digest()) as `<digest>@<position>`: keep it outside
 * the store, and `procreg verify --integrity --against <it>` later proves the log up to that
 * position is unchanged.
 */
export const digestCommand: CommandDef = {
  name: 'digest',
  usage: 'digest',
  summary: 'print the log digest to keep elsewhere (verify --integrity --against checks it)',
  flags: [],
  examples: ['procreg digest', 'procreg digest >> digests.txt', 'procreg digest --json'],
  run: async (ctx) => {
    positionalArgs(ctx, [], digestCommand.usage);
    const registry = await ctx.open(ctx.storeUrl, 'read');
    const digest = await registry.digest();
    if (ctx.out.json) ctx.out.document(digest);
    else ctx.out.line(formatDigest(digest));
    return exitCodes.ok;
  },
};
