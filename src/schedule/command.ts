/**
 * `reelflow schedule create|pause|unpause|trigger|describe [hourly|bargains|players] [note]`,
 * for src/cli/extra-commands.ts. `create` is create-or-update of every
 * schedule (or the one named); the others act on the one named, the hourly
 * one by default. A schedule may be named by its short name or its id.
 */
import { ScheduleNotFoundError, type Client, type ScheduleDescription } from '@temporalio/client';
import type { ExtraCommandContext } from '../cli/extra-commands';
import { editDistance } from '../recommendations/names';
import { connectTemporal } from '../temporal/client';
import { BadInputError } from '../shared/errors';
import { DAILY_BARGAINS_SCHEDULE_ID, ensureDailyBargainsSchedule } from './daily-bargains';
import { COMPETITORS_SCHEDULE_ID, ensureCompetitorsSchedule } from './competitors';
import { ensureHourlySchedule, HOURLY_SCHEDULE_ID } from './hourly';
import { ensurePlayerSyncSchedule, PLAYER_SYNC_SCHEDULE_ID } from './player-sync';
import { describeSchedule, pauseSchedule, triggerScheduleRun, unpauseSchedule, type TriggerOutcome } from './schedules';

interface ScheduleEntry {
  id: string;
  ensure(client: Client, taskQueue: string): Promise<{ scheduleId: string; created: boolean }>;
}

/** Every schedule Reelflow runs, by short name; the first is the default. */
export const SCHEDULES: Record<string, ScheduleEntry> = {
  hourly: { id: HOURLY_SCHEDULE_ID, ensure: (client, taskQueue) => ensureHourlySchedule(client, { taskQueue }) },
  bargains: { id: DAILY_BARGAINS_SCHEDULE_ID, ensure: (client, taskQueue) => ensureDailyBargainsSchedule(client, { taskQueue }) },
  players: { id: PLAYER_SYNC_SCHEDULE_ID, ensure: (client, taskQueue) => ensurePlayerSyncSchedule(client, { taskQueue }) },
  competitors: { id: COMPETITORS_SCHEDULE_ID, ensure: (client, taskQueue) => ensureCompetitorsSchedule(client, { taskQueue }) },
};

const SUBCOMMANDS = ['create', 'pause', 'unpause', 'trigger', 'describe'] as const;
type Subcommand = (typeof SUBCOMMANDS)[number];

function findSchedule(word: string | undefined): ScheduleEntry | undefined {
  return word === undefined ? undefined : (SCHEDULES[word.toLowerCase()] ?? Object.values(SCHEDULES).find((s) => s.id === word));
}

/** Which schedules a command acts on, and the note: validated before any server is contacted. */
function parseScheduleArgs(args: readonly string[]): { sub: Subcommand; schedules: ScheduleEntry[]; note?: string } {
  const [sub, first, ...more] = args;
  if (!sub || !(SUBCOMMANDS as readonly string[]).includes(sub)) throw new BadInputError(`schedule needs one of ${SUBCOMMANDS.join(', ')}`);
  const named = findSchedule(first);
  const names = `${Object.keys(SCHEDULES).join(', ')} or a schedule id`;
  // pause/unpause read the rest as a note, so an existing `schedule pause maintenance` keeps pausing the hourly one.
  const takesNote = sub === 'pause' || sub === 'unpause';
  // ...but a misspelt name must not pause the wrong schedule with the typo as its note.
  const meant =
    first !== undefined && !named ? Object.keys(SCHEDULES).find((name) => editDistance(first.toLowerCase(), name) <= 2) : undefined;
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

const missing = (scheduleId: string) => `schedule ${scheduleId} does not exist; run \`reelflow schedule create\``;

/** A missing schedule is the operator's next step, not a stack trace. */
function notFound(scheduleId: string) {
  return (err: unknown): null => {
    if (!(err instanceof ScheduleNotFoundError)) throw err;
    console.error(missing(scheduleId));
    return null;
  };
}

type ScheduleSummary = ReturnType<typeof scheduleSummary>;

function scheduleSummary(d: ScheduleDescription) {
  return {
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
    running: d.info.runningActions.map((a) => a.workflow.workflowId),
  };
}

function every(ms: number): string {
  if (ms % 86_400_000 === 0) return `${ms / 86_400_000} d`;
  if (ms % 3_600_000 === 0) return `${ms / 3_600_000} h`;
  if (ms % 60_000 === 0) return `${ms / 60_000} min`;
  return `${ms / 1000} s`;
}

/** `schedule describe` for people: what runs when, whether it is paused, and the last runs to look up. */
function describeText(s: ScheduleSummary): string {
  const when = [...s.intervals.map((i) => `every ${every(Number(i.every))}`), ...s.calendars.map((c) => c.comment ?? 'calendar')].join(
    '; ',
  );
  const lines = [
    `${s.scheduleId}  runs ${s.workflowType} on ${s.taskQueue}`,
    `  when:      ${when || '(no spec)'} (${s.timezone}), overlap ${s.overlap}`,
    `  paused:    ${s.paused ? `yes${s.note ? ` (${s.note})` : ''}` : 'no'}`,
    `  next runs: ${s.nextRuns.slice(0, 3).join(', ') || 'none'}`,
  ];
  if (s.running.length) lines.push(`  running:   ${s.running.join(', ')}`);
  lines.push(`  last runs:${s.recentRuns.length ? '' : ' none yet'}`);
  for (const r of s.recentRuns.slice(-5).reverse()) lines.push(`    ${r.at}  ${r.workflowId}`);
  return lines.join('\n');
}

function triggerText(scheduleId: string, run: TriggerOutcome): string {
  switch (run.outcome) {
    case 'started':
      return `triggered ${scheduleId}: started workflow ${run.workflowId} (run ${run.runId})`;
    case 'skipped':
      return `triggered ${scheduleId}, but its overlap policy is SKIP and ${run.runningWorkflowId} is still running: no new run`;
    case 'pending':
      return `triggered ${scheduleId}; the run has not started yet: \`reelflow schedule describe ${scheduleId}\` lists it under last runs`;
  }
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
      case 'trigger': {
        const run = await triggerScheduleRun(client, scheduleId).catch(notFound(scheduleId));
        if (!run) return 1;
        ctx.out({ scheduleId, triggered: true, ...run }, () => console.log(triggerText(scheduleId, run)));
        break;
      }
      case 'describe': {
        const d = await describeSchedule(client, scheduleId);
        if (!d) {
          console.error(missing(scheduleId));
          return 1;
        }
        const summary = scheduleSummary(d);
        ctx.out(summary, () => console.log(describeText(summary)));
        break;
      }
    }
    return 0;
  } finally {
    await client.connection.close();
  }
}
