/**
 * A Schedule's run that failed, timed out or was terminated is told to the team (event `failed`), once a schedule a
 * day. Schedules keep firing after a failure (pauseOnFailure off), and nothing read how their runs ended: the hourly
 * idea generation failing at every run (a data bug), the players' sync or the competitors' discovery stopped, and the
 * pipeline dried up with no word (the discovery's per-channel errors are on the channel; a run's own failure was not).
 * Lists the closed runs of the deployment's base queue (Temporal's visibility, as the ended-run watch does) whose
 * workflow id is a schedule's (Temporal names each run `<schedule id>-<time>`). A streak of failures is one message a
 * day, its key (scheduleFailureKey) making later ones no-ops; every worker serving the base queue runs it.
 */
import type { Client } from '@temporalio/client';
import { Ticker } from '../shared/ticker';
import { endedBecause, VISIBILITY_LAG_MS } from './ended-run-watch';
import type { Runtime } from './runtime';

export interface FailedScheduledRun {
  scheduleId: string;
  workflowId: string;
  runId: string;
  workflowType: string;
  closedAt: Date;
  /** Why it ended: its failure's root cause, its timeout, or who terminated it. */
  reason: string;
}

export interface ScheduleWatchOptions {
  client: Client;
  /** The ids of the deployment's schedules (src/schedule/command.ts SCHEDULES). */
  scheduleIds: readonly string[];
  onFailed: (run: FailedScheduledRun) => Promise<unknown>;
  everyMs?: number;
  /** The first round looks this far back (runs that ended while no worker ran); later rounds from the last one on. */
  lookBackMs?: number;
}

/** One message a schedule a day, by the day the run closed (UTC): a failing schedule does not page every hour. */
export function scheduleFailureKey(run: Pick<FailedScheduledRun, 'scheduleId' | 'closedAt'>): string {
  return `schedule:${run.scheduleId}:${run.closedAt.toISOString().slice(0, 10)}`;
}

export function startScheduleWatch(runtime: Pick<Runtime, 'env' | 'log'>, opts: ScheduleWatchOptions) {
  const { client } = opts;
  let since = new Date(Date.now() - (opts.lookBackMs ?? 24 * 3_600_000));
  const scheduleOf = (workflowId: string) => opts.scheduleIds.find((id) => workflowId.startsWith(`${id}-`));
  /** Runs told by this process (each round looks back again; the message's key makes a repeat a no-op anyway). */
  const told = new Set<string>();

  const ticker = new Ticker(
    async () => {
      const roundStart = Date.now();
      const query =
        `TaskQueue = '${runtime.env.REELFLOW_TASK_QUEUE}' AND ExecutionStatus IN ('Failed', 'TimedOut', 'Terminated')` +
        ` AND CloseTime > '${since.toISOString()}'`;
      for await (const run of client.workflow.list({ query })) {
        const scheduleId = scheduleOf(run.workflowId);
        if (!scheduleId || !run.closeTime || told.has(run.runId)) continue;
        // A reset ends its run as terminated and goes on in a new one: not a failure.
        const latest = await client.workflow.getHandle(run.workflowId).describe();
        if (latest.status.name === 'RUNNING') continue;
        // One run whose history cannot be read must not stop the watch for good (the round would fail at it for ever).
        const reason = await endedBecause(client, run.workflowId, run.runId).catch(
          (err: unknown) => `its workflow ended ${run.status.name.toLowerCase()} (${(err as Error).message})`,
        );
        const failed = {
          scheduleId,
          workflowId: run.workflowId,
          runId: run.runId,
          workflowType: run.type,
          closedAt: run.closeTime,
          reason,
        };
        runtime.log.warn(failed, "a schedule's run did not succeed");
        await opts.onFailed(failed);
        told.add(run.runId);
      }
      since = new Date(roundStart - VISIBILITY_LAG_MS);
    },
    { everyMs: opts.everyMs ?? 60_000, onError: (err) => runtime.log.warn({ err }, 'schedule check failed; retrying') },
  );
  ticker.start();
  return { stop: () => ticker.stop() };
}
