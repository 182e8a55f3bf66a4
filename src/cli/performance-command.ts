/**
 *   reelflow performance [--since 7d|2026-11-01] [--type T] [--platform P]
 * How each published video does: per post its views at +24 h and +7 d, the latest reading and spend per view;
 * then per idea type, player and platform (median views at +24 h), and the week's best and worst.
 * Default --since 30d. --json prints the report as the API's GET /api/performance returns it.
 */
import { DEFAULT_PERFORMANCE_SINCE_MS, readPerformance, type PerformanceGroup } from '../services/post-metrics';
import { parseInput, performanceQuerySchema } from '../validation';
import { BadInputError } from '../shared/errors';
import type { ExtraCommandContext } from './extra-commands';
import { printTable, terminalSafe } from './format';

/** An ISO time to the minute, as the table prints it: 2026-11-20 11:00. */
const minute = (iso: string) => iso.slice(0, 16).replace('T', ' ');
const n = (v: number | null) => (v === null ? '-' : v.toLocaleString('en-US'));
const perView = (v: number | null) => (v === null ? '-' : v.toFixed(4));

async function performance({ env, database, values, args, out }: ExtraCommandContext): Promise<number> {
  if (args.length) throw new BadInputError(`performance takes no arguments (got "${args[0]}")`);
  const filter = parseInput(
    performanceQuerySchema,
    Object.fromEntries(Object.entries({ since: values.since, type: values.type, platform: values.platform }).filter(([, v]) => v)),
    'performance',
  );
  const since = filter.since ?? new Date(Date.now() - DEFAULT_PERFORMANCE_SINCE_MS);
  const report = await readPerformance(database.pool, { ...filter, since }, new Date(), env.REELFLOW_METRICS_READ_WAIT_SECONDS * 1_000);
  out(report, () => {
    console.log(`posts published since ${minute(since.toISOString())}`);
    const toRead = report.unread.filter((u) => !u.ended);
    if (toRead.length) {
      const newest = minute(toRead[0]!.publishedAt);
      const due = report.firstReadingAt;
      const when = due ? `the first reading due ${minute(due)}` : 'no reading scheduled yet';
      console.log(`${toRead.length} not read yet (${when}), the newest published ${newest}`);
    }
    // Series that ended at their first read, or whose every read failed: never to be measured, and why (not "due" days ago).
    for (const u of report.unread.filter((x) => x.ended)) {
      console.log(
        `never read: ${u.platform} post ${terminalSafe(u.postId)} (${terminalSafe(u.title.slice(0, 40))}): ${terminalSafe(u.ended!)}`,
      );
    }
    // Measured, then no longer: a series that stopped or keeps failing its reads (not "doing fine at +1h").
    for (const p of report.posts.filter((x) => x.behind)) {
      console.log(
        `behind: ${p.platform} post ${terminalSafe(p.postId)} (${terminalSafe(p.title.slice(0, 40))}): no +${p.behind!.age} reading, ` +
          `due ${minute(p.behind!.dueAt)}: ${terminalSafe(p.behind!.reason)}`,
      );
    }
    if (report.posts.length === 0) return console.log('(none measured yet)');
    printTable(
      report.posts.map((p) => ({
        published: minute(p.publishedAt),
        platform: p.platform,
        type: p.type,
        player: p.player ?? '-',
        title: terminalSafe(p.title.slice(0, 40)),
        '+24h': n(p.views24h),
        '+7d': n(p.views7d),
        latest: `${n(p.viewsLatest)} (${p.lastAge})`,
        likes: n(p.likesLatest),
        'spend/view': perView(p.spendPerView),
      })),
    );
    const groups = (title: string, list: PerformanceGroup[]) => {
      console.log(`\nby ${title}`);
      printTable(
        list.map((g) => ({
          [title]: g.key,
          posts: g.posts,
          'median +24h': n(g.medianViews24h),
          views: n(g.totalViews),
          spend: g.spend,
          'spend/view': perView(g.spendPerView),
        })),
      );
    };
    groups('type', report.byType);
    groups('player', report.byPlayer);
    groups('platform', report.byPlatform);
    const { best, worst, bestType, worstType, bestPlayer, worstPlayer } = report.week;
    if (best) console.log(`\nthis week's best:  ${terminalSafe(best.title)} on ${best.platform}, ${n(best.viewsLatest)} views`);
    if (worst) console.log(`this week's worst: ${terminalSafe(worst.title)} on ${worst.platform}, ${n(worst.viewsLatest)} views`);
    const perPost = (g: PerformanceGroup) =>
      `${terminalSafe(g.key)} (${n(Math.round(g.totalViews / g.posts))} views a post, ${g.posts} posts)`;
    if (bestType) console.log(`best type ${perPost(bestType)}${worstType ? `, worst ${perPost(worstType)}` : ''}`);
    if (bestPlayer) console.log(`best player ${perPost(bestPlayer)}${worstPlayer ? `, worst ${perPost(worstPlayer)}` : ''}`);
  });
  return 0;
}

export const performanceCommands = { performance };
