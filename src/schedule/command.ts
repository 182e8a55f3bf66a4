/**
 * `reelflow schedule create|pause|unpause|trigger|describe [hourly|bargains] [note]`,
 * for src/cli/extra-commands.ts. `create` is create-or-update of every
 * schedule (or the one named); the others act on the one named, the hourly
 * one by default. A schedule may be named by its short name or its id.
 */
import type { Client } from '@temporalio/client';
import type { ExtraCommandContext } from '../cli/extra-commands';
import { editDistance } from '../recommendations/names';
import { connectTemporal } from '../temporal/client';
import { BadInputError } from '../shared/errors';
import { DAILY_BARGAINS_SCHEDULE_ID, ensureDailyBargainsSchedule } from './daily-bargains';
import { ensureHourlySchedule, HOURLY_SCHEDULE_ID } from './hourly';
import { describeSchedule, pauseSchedule, triggerSchedule, unpauseSchedule } from './schedules';

interface ScheduleEntry {
  id: string;
  ensure(client: Client, taskQueue: string): Promise<{ scheduleId: string; created: boolean }>;
}

/** Every schedule Reelflow runs, by short name; the first is the default. */
export const SCHEDULES: Record<string, ScheduleEntry> = {
  hourly: { id: HOURLY_SCHEDULE_ID, ensure: (client, taskQueue) => ensureHourlySchedule(client, { taskQueue }) },
  bargains: { id: DAILY_BARGAINS_SCHEDULE_ID, ensure: (client, taskQueue) => ensureDailyBargainsSchedule(client, { taskQueue }) },
};

const SUBCOMMANDS = ['create', 'pause', 'unpause', 'trigger', 'describe'] as const;
type Subcommand = (typeof SUBCOMMANDS)[number];

function findSchedule(word: string | undefined): ScheduleEntry | undefined {
  return word === undefined ? undefined : (SCHEDULES[word.toLowerCase()] ?? Object.values(SCHEDULES).find((s) => s.id === word));
}

/** Which schedules a command acts on, and the note: validated before any server is contacted. */
export function parseScheduleArgs(args: readonly string[]): { sub: Subcommand; schedules: ScheduleEntry[]; note?: string } {
  const [sub, first, ...more] = args;
  if (!sub || !(SUBCOMMANDS as readonly string[]).includes(sub)) throw new BadInputError(`schedule needs one of ${SUBCOMMANDS.join(', ')}`);
  const named = findSchedule(first);
  const names = `${Object.keys(SCHEDULES).join(', ')} or a schedule id`;
  // pause/unpause read the rest as a note, so an existing `schedule pause maintenance` keeps pausing the hourly one.
  const takesNote = sub === 'pause' || sub === 'unpause';
  // ...but a misspelt name must not pause the wrong schedule with the typo as its note.
  const meant = first !== undefined && !named ? Object.keys(SCHEDULES).find((name) => editDistance(first.toLowerCase(), name) <= 2) : undefined;
  if (meant) {
    const hint = takesNote ? ` (a note goes after the name: schedule ${sub} ${meant} <note>)` : '';
    throw new BadInputError(`schedule ${sub}: unknown schedule "${first}"; did you mean ${meant}?${hint}`);
  }
  if (first !== undefined && !named && !takesNote) throw new BadInputError(`schedule ${sub}: unknown schedule "${first}"; one of ${names}`);
  if (!takesNote && more.length) throw new BadInputError(`schedule ${sub} takes at most one schedule name`);
  const noteWords = named ? more : args.slice(1);
  const schedules = named ? [named] : sub === 'create' ? Object.values(SCHEDULES) : [Object.values(SCHEDULES)[0]!];
  return { sub: sub as Subcommand, schedules, note: noteWords.join(' ') || undefined };
}

export async function scheduleCommand(ctx: ExtraCommandContext): Promise<number> {
  const { sub, schedules, note } = parseScheduleArgs(ctx.args);
  const client = await connectTemporal(ctx.env.TEMPORAL_ADDRESS, ctx.env.TEMPORAL_NAMESPACE);
  try {
    if (sub === 'create') {
      const results: Array<{ scheduleId: string; created: boolean }> = [];
      for (const s of schedules) results.push(await s.ensure(client, ctx.env.REELFLOW_TASK_QUEUE));
      ctx.out(results, () => results.forEach((r) => console.log(`${r.created ? 'created' : 'updated'} schedule ${r.scheduleId}`)));
      return 0;
    }
    const scheduleId = schedules[0]!.id;
    switch (sub) {
      case 'pause':
        await pauseSchedule(client, scheduleId, note);
        ctx.out({ scheduleId, paused: true }, () => console.log(`paused ${scheduleId}`));
        break;
      case 'unpause':
        await unpauseSchedule(client, scheduleId, note);
        ctx.out({ scheduleId, paused: false }, () => console.log(`unpaused ${scheduleId}`));
        break;
      case 'trigger':
        await triggerSchedule(client, scheduleId);
        ctx.out({ scheduleId, triggered: true }, () => console.log(`triggered ${scheduleId}`));
        break;
      case 'describe': {
        const d = await describeSchedule(client, scheduleId);
        if (!d) {
          console.error(`schedule ${scheduleId} does not exist; run \`reelflow schedule create\``);
          return 1;
        }
        const summary = {
          scheduleId: d.scheduleId,
          workflowType: d.action.workflowType,
          taskQueue: d.action.taskQueue,
          paused: d.state.paused,
          note: d.state.note ?? null,
          timezone: d.spec.timezone ?? 'UTC',
          calendars: d.spec.calendars ?? [],
          intervals: d.spec.intervals ?? [],
          overlap: d.policies.overlap,
          catchupWindowMs: d.policies.catchupWindow,
          nextRuns: d.info.nextActionTimes.map((t) => t.toISOString()),
          recentRuns: d.info.recentActions.map((a) => ({ at: a.takenAt.toISOString(), workflowId: a.action.workflow.workflowId })),
        };
        ctx.out(summary, () => console.log(JSON.stringify(summary, null, 2)));
        break;
      }
    }
    return 0;
  } finally {
    await client.connection.close();
  }
}
