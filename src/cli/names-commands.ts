/**
 * What the engine could not tell apart, and how an editor teaches it:
 *   reelflow names unknown [--limit N]             mentions left unknown or ambiguous, most frequent first
 *   reelflow names alias "<mention>" <player>      "<mention>" is that player (roster id or exact name) from now on;
 *                                                  stored videos that flagged it are resolved again
 */
import { listUnresolvedMentions, teachAlias } from '../recommendations/name-directory';
import { BadInputError } from '../shared/errors';
import { cliActor } from './audit';
import type { ExtraCommandContext } from './extra-commands';
import { printTable, terminalSafe } from './format';

async function unknown({ database, values, out }: ExtraCommandContext): Promise<number> {
  const limit = values.limit === undefined ? 50 : Number(values.limit);
  if (!Number.isInteger(limit) || limit < 1 || limit > 1000) throw new BadInputError('--limit must be an integer from 1 to 1000');
  const mentions = await listUnresolvedMentions(database.db, limit);
  out(mentions, () => {
    if (mentions.length === 0) return console.log('no unknown or ambiguous mentions');
    printTable(
      mentions.map((m) => ({
        mention: terminalSafe(m.mention),
        reason: m.reason,
        videos: m.videos,
        candidates: m.candidates.join(', ') || '-',
        'last seen': m.lastSeen?.toISOString().slice(0, 16) ?? '-',
        example: terminalSafe(m.example),
      })),
    );
    console.log('\nTeach one: reelflow names alias "<mention>" <player id or exact name>');
  });
  return 0;
}

async function alias({ database, args, out }: ExtraCommandContext): Promise<number> {
  const [mention, player, extra] = args;
  if (mention === undefined || player === undefined) throw new BadInputError('names alias needs "<mention>" and <player id or name>');
  if (extra !== undefined) throw new BadInputError(`names alias takes two arguments (got "${extra}" too): quote a mention with spaces`);
  const taught = await teachAlias(database.db, { mention, player, by: cliActor() });
  out(taught, () =>
    console.log(
      `"${terminalSafe(taught.mention)}" is ${terminalSafe(taught.playerName)} (${taught.playerId}) from now on; ` +
        `${taught.videosUpdated} stored video${taught.videosUpdated === 1 ? '' : 's'} resolved again` +
        (taught.videosUnreadable ? `; ${taught.videosUnreadable} with an unreadable analysis left as they were` : ''),
    ),
  );
  return 0;
}

export const namesCommands = {
  async names(ctx: ExtraCommandContext): Promise<number> {
    const [sub, ...rest] = ctx.args;
    if (sub === 'unknown') {
      if (rest.length) throw new BadInputError(`names unknown takes no arguments (got "${rest[0]}")`);
      return unknown({ ...ctx, args: rest });
    }
    if (sub === 'alias') return alias({ ...ctx, args: rest });
    throw new BadInputError(`names needs a subcommand: unknown | alias "<mention>" <player>`);
  },
};
