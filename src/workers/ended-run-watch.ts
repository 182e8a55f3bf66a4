/**
 * An idea whose workflow was terminated (the Web UI's Terminate, `temporal workflow terminate`) or timed out ran none
 * of its own clean-up: its row said in_production for ever, its jobs stayed open, its approval card offered buttons
 * that fail, and nobody was told. This watch lists such runs of the deployment's recommendation workflows (Temporal's
 * visibility, a few seconds behind) and closes each idea still open as its own failure would: failed, with who ended
 * it and why, its jobs cancelled, its posts measured, and the team told. `reelflow retry <id>` makes it again.
 * A run ended by a reset is skipped: the workflow id's new run goes on. Every worker serving the base queue runs it;
 * the row closes once and the notification's event key makes it one message.
 */
import type { Client } from '@temporalio/client';
import { closeRecommendationRow } from '../db/queries';
import { startPostMetricsWorkflows } from '../services/post-metrics';
import { OPEN_RECOMMENDATION_STATUSES } from '../shared/statuses';
import { Ticker } from '../shared/ticker';
import { RECOMMENDATION_WORKFLOW, parseRecommendationWorkflowId } from '../shared/workflow-ids';
import { uuidSchema } from '../validation';
import type { Runtime } from './runtime';

export interface EndedRun {
  recommendationId: string;
  workflowId: string;
  runId: string;
  title: string;
  priority: string;
  /** Why the idea failed, as its row says it. */
  reason: string;
}

export interface EndedRunWatchOptions {
  client: Client;
  /** Tells the team (the worker's notification); the watch logs each one anyway. */
  onEnded?: (ended: EndedRun) => Promise<unknown>;
  everyMs?: number;
  /** The first round looks this far back (runs ended while no worker ran); later rounds from the last one on. */
  lookBackMs?: number;
}

/** Visibility lists a closed run a little after it closed: each round looks again this far before the last one. */
const VISIBILITY_LAG_MS = 60_000;

export function startEndedRunWatch(runtime: Pick<Runtime, 'database' | 'env' | 'log'>, opts: EndedRunWatchOptions) {
  const { client } = opts;
  const { env, log } = runtime;
  let since = new Date(Date.now() - (opts.lookBackMs ?? 7 * 24 * 3_600_000));

  const round = async () => {
    const roundStart = Date.now();
    const query =
      `WorkflowType = '${RECOMMENDATION_WORKFLOW}' AND TaskQueue = '${env.REELFLOW_TASK_QUEUE}'` +
      ` AND ExecutionStatus IN ('Terminated', 'TimedOut') AND CloseTime > '${since.toISOString()}'`;
    const ended = new Map<string, { workflowId: string; runId: string }>();
    for await (const run of client.workflow.list({ query })) {
      const id = parseRecommendationWorkflowId(run.workflowId);
      if (uuidSchema.safeParse(id).success) ended.set(id, { workflowId: run.workflowId, runId: run.runId });
    }
    if (ended.size > 0) {
      const { rows } = await runtime.database.pool.query<{ id: string }>(
        'SELECT id FROM competitive_recommendations WHERE id = ANY($1::uuid[]) AND status = ANY($2)',
        [[...ended.keys()], [...OPEN_RECOMMENDATION_STATUSES]],
      );
      for (const { id } of rows) await closeEnded(id, ended.get(id)!);
    }
    since = new Date(roundStart - VISIBILITY_LAG_MS);
  };

  async function closeEnded(recommendationId: string, run: { workflowId: string; runId: string }): Promise<void> {
    // A reset ends its run as terminated and goes on in a new one; a retry may have started one since: not ended.
    const latest = await client.workflow.getHandle(run.workflowId).describe();
    if (latest.status.name === 'RUNNING') return;
    const reason = await endedBecause(client, latest.workflowId, latest.runId);
    const closed = await closeRecommendationRow(runtime.database.db, {
      recommendationId,
      workflowId: run.workflowId,
      status: 'failed',
      reason,
    });
    if (!closed) return;
    log.error(
      { recommendationId, workflowId: run.workflowId, runId: latest.runId, reason },
      'idea closed: its workflow ended without its clean-up',
    );
    // A post made before the end is live all the same: measured as any other.
    await startPostMetricsWorkflows(
      runtime.database.pool,
      { client, taskQueue: env.REELFLOW_TASK_QUEUE, readsSeconds: env.REELFLOW_METRICS_READS, hourMs: env.REELFLOW_METRICS_HOUR_MS },
      recommendationId,
    );
    await opts.onEnded?.({ recommendationId, workflowId: run.workflowId, runId: latest.runId, ...closed, reason });
  }

  const ticker = new Ticker(round, {
    everyMs: opts.everyMs ?? 15_000,
    runAtStart: true,
    onError: (err) => log.warn({ err }, 'could not look for ideas whose workflow was terminated; trying again'),
  });
  ticker.start();
  return { stop: () => ticker.stop() };
}

/** The run's last event says who ended it and why (a terminate's reason and identity, or its timeout). */
async function endedBecause(client: Client, workflowId: string, runId: string): Promise<string> {
  const { history } = await client.workflowService.getWorkflowExecutionHistoryReverse({
    namespace: client.options.namespace,
    execution: { workflowId, runId },
    maximumPageSize: 1,
  });
  const last = history?.events?.[0];
  const retry = 'no clean-up ran; `reelflow retry` makes it again';
  const terminated = last?.workflowExecutionTerminatedEventAttributes;
  if (terminated) {
    const by = terminated.identity ? ` by ${terminated.identity}` : '';
    return `its workflow was terminated in Temporal${by}${terminated.reason ? `: ${terminated.reason}` : ''} (${retry})`;
  }
  return `its workflow timed out in Temporal (its execution or run timeout; ${retry})`;
}
