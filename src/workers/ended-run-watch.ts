/**
 * An idea whose workflow was terminated (the Web UI's Terminate, `temporal workflow terminate`) or timed out ran none
 * of its own clean-up: its row said in_production for ever, its jobs stayed open, its approval card offered buttons
 * that fail, and nobody was told. This watch lists such runs of the deployment's recommendation workflows (Temporal's
 * visibility, a few seconds behind) and closes each idea still open as its own failure would: failed, with who ended
 * it and why, its jobs closed, its posts measured, and the team told. `reelflow retry <id>` makes it again (one with
 * a live post closes partially_published: `reelflow republish` posts the rest).
 * Any other workflow of the deployment ended so (a republish, a competitor video's analysis, a post's metrics) has its
 * open jobs closed the same way: left processing, they counted as running for ever, and a republish's refused every
 * later republish and retry of its idea. A run ended by a reset is skipped: the workflow id's new run goes on. Every
 * worker serving the base queue runs it; the row closes once and the notification's event key makes it one message.
 */
import type { Client } from '@temporalio/client';
import { sql } from 'drizzle-orm';
import { PROVIDER_LIMITS, type PublishPlatform } from '../config/providers';
import { madeWhat, whatNext } from '../activities/provider-job';
import type { Db, Tx } from '../db/client';
import { closeRecommendationIn } from '../db/queries';
import { startPostMetricsWorkflows } from '../services/post-metrics';
import { OPEN_RECOMMENDATION_STATUSES } from '../shared/statuses';
import { Ticker } from '../shared/ticker';
import { RECOMMENDATION_WORKFLOW, parseRecommendationWorkflowId } from '../shared/workflow-ids';
import { uuidSchema } from '../validation';
import type { Providers } from '../providers/types';
import type { Runtime } from './runtime';

type Publishers = Pick<Providers, PublishPlatform>;

export interface EndedRun {
  recommendationId: string;
  workflowId: string;
  runId: string;
  title: string;
  priority: string;
  /** A post of it is live: it closes partially_published (a republish posts the rest), else failed (a retry). */
  posted: boolean;
  /** Why it ended, as its row says it. */
  reason: string;
}

interface OpenIdea {
  id: string;
  title: string;
  priority: string;
  posted: boolean;
}

export interface EndedRunWatchOptions {
  client: Client;
  /** Tells the team (the worker's notification); the watch logs each one anyway. */
  onEnded?: (ended: EndedRun) => Promise<unknown>;
  everyMs?: number;
  /** The first round looks this far back (runs ended while no worker ran); later rounds from the last one on. */
  lookBackMs?: number;
}

/**
 * Visibility lists a closed run a little after it closed, and CloseTime is the server's clock, not ours: each round
 * looks again this far before the last one (what it finds again is closed already, a read and nothing more).
 */
export const VISIBILITY_LAG_MS = 10 * 60_000;

export function startEndedRunWatch(runtime: Pick<Runtime, 'database' | 'env' | 'log' | 'providers'>, opts: EndedRunWatchOptions) {
  const { client } = opts;
  const { env, log } = runtime;
  let since = new Date(Date.now() - (opts.lookBackMs ?? 7 * 24 * 3_600_000));

  const round = async () => {
    const roundStart = Date.now();
    const query =
      `TaskQueue = '${env.REELFLOW_TASK_QUEUE}' AND ExecutionStatus IN ('Terminated', 'TimedOut')` +
      ` AND CloseTime > '${since.toISOString()}'`;
    const ideas = new Map<string, { workflowId: string; runId: string }>();
    const others: string[] = [];
    for await (const run of client.workflow.list({ query })) {
      const id = parseRecommendationWorkflowId(run.workflowId);
      if (run.type === RECOMMENDATION_WORKFLOW && uuidSchema.safeParse(id).success) {
        ideas.set(id, { workflowId: run.workflowId, runId: run.runId });
      } else others.push(run.workflowId);
    }
    if (ideas.size > 0) {
      const { rows } = await runtime.database.pool.query<OpenIdea>(
        `SELECT r.id, r.title, r.priority,
                EXISTS (SELECT 1 FROM automation_queue q WHERE q.recommendation_id = r.id AND q.step LIKE 'publish:%'
                           AND q.status = 'completed') AS posted
           FROM competitive_recommendations r WHERE r.id = ANY($1::uuid[]) AND r.status = ANY($2)`,
        [[...ideas.keys()], [...OPEN_RECOMMENDATION_STATUSES]],
      );
      for (const open of rows) await closeEnded(open, ideas.get(open.id)!);
    }
    if (others.length > 0) {
      // Any other workflow's jobs (a republish's posts, a competitor video's fetch, a post's metrics read): an
      // activity cancelled by its workflow's end leaves its job processing for ever, counted as running, and a
      // republish's blocks every later republish and retry of its idea ("a republish is running").
      // A republish waiting for an editor, too: its card and its reminders went on for ever, its command refused.
      const { rows } = await runtime.database.pool.query<{ workflow_id: string }>(
        `SELECT workflow_id FROM automation_queue WHERE workflow_id = ANY($1) AND status IN ('queued', 'processing')
         UNION
         SELECT approval->'waiting'->>'workflowId' FROM competitive_recommendations WHERE approval->'waiting'->>'workflowId' = ANY($1)`,
        [others],
      );
      for (const { workflow_id } of rows) await closeEndedJobsOf(workflow_id);
    }
    since = new Date(roundStart - VISIBILITY_LAG_MS);
  };

  async function closeEndedJobsOf(workflowId: string): Promise<void> {
    const latest = await client.workflow.getHandle(workflowId).describe();
    if (latest.status.name === 'RUNNING') return;
    const reason = `${await endedBecause(client, workflowId, latest.runId)} (no clean-up ran)`;
    await runtime.database.db.transaction((tx) => closeEndedJobs(tx, workflowId, reason, runtime.providers));
    log.warn({ workflowId, runId: latest.runId, reason }, 'jobs closed: their workflow ended without its clean-up');
  }

  async function closeEnded(open: OpenIdea, run: { workflowId: string; runId: string }): Promise<void> {
    // A reset ends its run as terminated and goes on in a new one; a retry may have started one since: not ended.
    const latest = await client.workflow.getHandle(run.workflowId).describe();
    if (latest.status.name === 'RUNNING') return;
    // What to do next is said with it: the posts not made are a republish's, an idea with none a retry's.
    const next = open.posted ? '`reelflow republish` posts the rest' : '`reelflow retry` makes it again';
    const reason = `${await endedBecause(client, latest.workflowId, latest.runId)} (no clean-up ran; ${next})`;
    const ended = {
      recommendationId: open.id,
      workflowId: run.workflowId,
      runId: latest.runId,
      title: open.title,
      priority: open.priority,
    };
    // Measured and told before the row closes: both happen once whatever the tries (a series per post, the
    // notification's key), and a failure here leaves the idea open for the next round. Closed first, a Temporal
    // error here would have left nobody told and a live post unmeasured.
    await startPostMetricsWorkflows(
      runtime.database.pool,
      { client, taskQueue: env.REELFLOW_TASK_QUEUE, readsSeconds: env.REELFLOW_METRICS_READS, hourMs: env.REELFLOW_METRICS_HOUR_MS },
      open.id,
    );
    await opts.onEnded?.({ ...ended, posted: open.posted, reason });
    if (await closeEndedIdea(runtime.database.db, runtime.providers, { ...ended, reason, posted: open.posted })) {
      log.error({ ...ended, reason }, 'idea closed: its workflow ended without its clean-up');
    }
  }

  const ticker = new Ticker(round, {
    everyMs: opts.everyMs ?? 15_000,
    runAtStart: true,
    onError: (err) => log.warn({ err }, 'could not look for ideas whose workflow was terminated; trying again'),
  });
  ticker.start();
  return { stop: () => ticker.stop() };
}

/** Why a closed run ended, from its last history event: who terminated it and why, its timeout, or its failure's root. */
export async function endedBecause(client: Client, workflowId: string, runId: string): Promise<string> {
  const { history } = await client.workflowService.getWorkflowExecutionHistoryReverse({
    namespace: client.options.namespace,
    execution: { workflowId, runId },
    maximumPageSize: 1,
  });
  const last = history?.events?.[0];
  const terminated = last?.workflowExecutionTerminatedEventAttributes;
  if (terminated) {
    const by = terminated.identity ? ` by ${terminated.identity}` : '';
    return `its workflow was terminated in Temporal${by}${terminated.reason ? `: ${terminated.reason}` : ''}`;
  }
  if (last?.workflowExecutionTimedOutEventAttributes) return 'its workflow timed out in Temporal (its execution or run timeout)';
  let failure = last?.workflowExecutionFailedEventAttributes?.failure;
  if (failure) {
    // The root cause says what went wrong ("Activity task failed" above it says where).
    while (failure.cause) failure = failure.cause;
    return `its workflow failed: ${failure.message ?? 'no message'}`;
  }
  return 'its workflow ended in Temporal without its clean-up';
}

/**
 * The idea closed as its workflow would have closed it (closeEndedJobs), partially_published when a post is live, else
 * failed. False when the idea had closed already (nothing written).
 */
async function closeEndedIdea(
  db: Db,
  providers: Publishers,
  ended: { recommendationId: string; workflowId: string; reason: string; posted: boolean },
): Promise<boolean> {
  return db.transaction(async (tx) => {
    await closeEndedJobs(tx, ended.workflowId, ended.reason, providers);
    const closed = await closeRecommendationIn(tx, {
      recommendationId: ended.recommendationId,
      workflowId: ended.workflowId,
      status: ended.posted ? 'partially_published' : 'failed',
      reason: ended.reason,
    });
    return closed !== null;
  });
}

/**
 * The open jobs of a workflow that ended without its clean-up. Its posts not made are failed, so `republish` posts
 * them: with the reason when never sent; as of unknown outcome when the request that posts (TikTok's, YouTube's) had
 * gone out (the platform may have made the post, or be making it: its handle is dropped, kept in a 'post_unknown'
 * event, so nothing posts there again without the operator's word and `republish --post` records the post found;
 * a YouTube upload stored whole is named by its video id, the post's own). The rest is cancelled.
 */
async function closeEndedJobs(tx: Tx, workflowId: string, reason: string, providers: Publishers): Promise<void> {
  // The providers' locks first, in cancel_workflow_jobs' order: the gate takes them before any job row.
  await tx.execute(sql`SELECT lock_providers(ARRAY(SELECT api_provider FROM automation_queue
                        WHERE workflow_id = ${workflowId} AND status IN ('queued', 'processing')))`);
  const posts = await tx.execute<{
    id: string;
    api_provider: PublishPlatform;
    provider_task_id: string | null;
    sent: boolean;
    idea: string;
  }>(
    sql`SELECT id, api_provider, provider_task_id, submit_attempted_at IS NOT NULL AS sent,
               coalesce(recommendation_id::text, id::text) AS idea
          FROM automation_queue
         WHERE workflow_id = ${workflowId} AND step LIKE 'publish:%' AND status IN ('queued', 'processing')`,
  );
  for (const post of posts.rows) {
    let error = `not posted: ${reason}`;
    // Instagram's container posts nothing until published, and a later attempt reads what became of it: only the
    // platforms whose upload call posts are left to the operator.
    if (post.sent && !PROVIDER_LIMITS[post.api_provider].submitRepeatable) {
      // YouTube's handle is the video's id, known once the upload is stored whole: the post is made, and named.
      const postId = (post.provider_task_id && providers[post.api_provider].handleIsPostId && post.provider_task_id) || undefined;
      const made = postId
        ? `its upload was stored as ${postId}, processing or live`
        : `its workflow ended while the post's request was out, so ${madeWhat(post.api_provider)}`;
      error = `${post.api_provider}: ${made}; not posting again. ${whatNext(post.api_provider, post.idea, postId)}`;
      await tx.execute(sql`SELECT log_job_event(${post.id}, 'post_unknown',
                             jsonb_build_object('providerTaskId', ${post.provider_task_id}::text, 'reason', ${reason}::text))`);
      await tx.execute(sql`UPDATE automation_queue SET provider_task_id = NULL WHERE id = ${post.id}`);
    }
    await tx.execute(sql`SELECT fail_job(${post.id}, ${error}, true)`);
  }
  await tx.execute(sql`SELECT count(*) FROM cancel_workflow_jobs(${workflowId}, ${reason})`);
  // Nothing waits in it for an editor any more (a republish's review; an idea's own is cleared as it closes).
  await tx.execute(sql`UPDATE competitive_recommendations SET approval = jsonb_set(approval, '{waiting}', 'null'::jsonb), updated_at = now()
                        WHERE approval->'waiting'->>'workflowId' = ${workflowId}`);
}
