/**
 * `reelflow competitor add|list|remove|check|add-video` (src/services/competitor-channels.ts does the work):
 *   competitor add <youtube|instagram|manual> <handle|channel id|URL> [--name N]   validated on the platform first
 *   competitor list                     channels, last check, videos found, last error
 *   competitor remove <channel>         by id, channel id or handle; its analysed videos stay
 *   competitor check <channel>          checks now (as the Schedule does) and prints what it found
 *   competitor add-video <url> [--name N]   one video, any platform (TikTok, a one-off)
 * Unknown handles, bad URLs and unknown channels exit 2 with nothing stored.
 */
import { createDiscoveryClients } from '../providers/discovery-clients';
import { createCompetitorChannelService, type CompetitorChannelService } from '../services/competitor-channels';
import type { Client } from '@temporalio/client';
import { connectTemporal } from '../temporal/client';
import { queueWorkers } from '../temporal/queue-workers';
import { BadInputError } from '../shared/errors';
import type { ExtraCommandContext } from './extra-commands';
import { printTable, terminalSafe } from './format';

export const COMPETITOR_CHANNEL_SUBCOMMANDS = ['add', 'list', 'remove', 'check', 'add-video'] as const;

export const COMPETITOR_USAGE =
  'competitor needs: add <youtube|instagram|manual> <channel> [--name N] | list | remove <channel> | ' +
  'check <channel> | add-video <url> [--name N] | ingest [file]';

async function withService<T>(
  ctx: ExtraCommandContext,
  temporal: boolean,
  fn: (s: CompetitorChannelService, client: Client | undefined) => Promise<T>,
): Promise<T> {
  const client = temporal ? await connectTemporal(ctx.env.TEMPORAL_ADDRESS, ctx.env.TEMPORAL_NAMESPACE) : undefined;
  try {
    return await fn(
      createCompetitorChannelService({
        database: ctx.database,
        discovery: createDiscoveryClients(ctx.env),
        taskQueue: ctx.env.REELFLOW_TASK_QUEUE,
        ...(client ? { client } : {}),
      }),
      client,
    );
  } finally {
    await client?.connection.close();
  }
}

function takes(args: string[], n: number, usage: string): void {
  if (args.length !== n) throw new BadInputError(`competitor ${usage}`);
}

export async function competitorChannelCommand(ctx: ExtraCommandContext): Promise<number> {
  const [sub, ...args] = ctx.args;
  switch (sub) {
    case 'add': {
      takes(args, 2, 'add needs <youtube|instagram|manual> <handle|channel id|URL> [--name N]');
      const { channel, created } = await withService(ctx, false, (s) =>
        s.add({ platform: args[0], channel: args[1], ...(ctx.values.name !== undefined ? { name: ctx.values.name } : {}) }),
      );
      ctx.out({ ...channel, created }, () =>
        console.log(
          `${created ? 'watching' : 'already watching'} ${channel.platform} channel ${terminalSafe(channel.displayName)} ` +
            `(${channel.externalId}) as ${channel.id}`,
        ),
      );
      return 0;
    }
    case 'list': {
      takes(args, 0, 'list takes no arguments');
      const channels = await withService(ctx, false, (s) => s.list());
      ctx.out(channels, () =>
        printTable(
          channels.map((c) => ({
            id: c.id,
            platform: c.platform,
            channel: c.displayName,
            external_id: c.externalId,
            active: c.active ? 'yes' : 'no',
            last_check: c.lastCheckedAt?.toISOString() ?? 'never',
            found: c.videosFound,
            last_error: c.lastError ?? '',
          })),
        ),
      );
      return 0;
    }
    case 'remove': {
      takes(args, 1, 'remove needs <channel> (id, channel id or handle)');
      const channel = await withService(ctx, false, (s) => s.remove(args[0]!));
      ctx.out({ removed: channel.id }, () => console.log(`stopped watching ${terminalSafe(channel.displayName)} (${channel.id})`));
      return 0;
    }
    case 'check': {
      takes(args, 1, 'check needs <channel> (id, channel id or handle)');
      const result = await withService(ctx, true, async (s, client) => {
        const channel = await s.find(args[0]!);
        // The check waits for workers, durably: say so rather than hang in silence.
        const provider = channel.platform === 'instagram' ? 'instagram_graph' : 'youtube_data';
        const idle = (await queueWorkers(client!, ctx.env.REELFLOW_TASK_QUEUE).catch(() => []))
          .filter((q) => (q.queue === 'base' || q.queue === provider) && q.workers === 0)
          .map((q) => q.taskQueue);
        if (idle.length) console.error(`no worker polls ${idle.join(' and ')}: the check waits until one does (npm run worker)`);
        return s.check(channel.id);
      });
      ctx.out(result, () => {
        console.log(
          `checked ${terminalSafe(result.displayName)}: ${result.found.length} new video(s), ${result.known} already known` +
            (result.tooOld ? `, ${result.tooOld} too old` : ''),
        );
        for (const v of result.found) {
          console.log(`  ${v.publishedAt ?? '?'}  ${v.views ?? '?'} views  ${terminalSafe(v.title)}  ${terminalSafe(v.url)}`);
        }
      });
      if (result.error) {
        console.error(`reelflow: check of ${terminalSafe(result.displayName)} failed: ${terminalSafe(result.error)}`);
        return 1;
      }
      return 0;
    }
    case 'add-video': {
      takes(args, 1, 'add-video needs <url> [--name N]');
      const result = await withService(ctx, true, (s) =>
        s.addVideo({ url: args[0], ...(ctx.values.name !== undefined ? { name: ctx.values.name } : {}) }),
      );
      ctx.out(result, () =>
        console.log(
          result.started
            ? `analysing ${result.platform} video ${terminalSafe(result.url)} as workflow ${result.workflowId}`
            : `already analysed: ${terminalSafe(result.url)} (nothing started, nothing paid)`,
        ),
      );
      return 0;
    }
    default:
      throw new BadInputError(COMPETITOR_USAGE);
  }
}
