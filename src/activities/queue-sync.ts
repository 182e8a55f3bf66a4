/**
 * Database bookkeeping activities (run on the base task queue). Each is
 * idempotent so a retry or a replay never writes a transition twice.
 */
import { Context } from '@temporalio/activity';
import { and, eq, inArray, sql } from 'drizzle-orm';
import { approvalPlan, recordedDecisions, type ApprovalPlan } from '../config/approval';
import { deadlineFor, type Priority } from '../config/priorities';
import { renderCredits } from '../config/env';
import { JOB_TYPES, type JobType } from '../config/providers';
import { reelSettings, type ReelSettings } from '../config/reel';
import { closeRecommendationRow, closeWorkflowJobs, enqueueJob, getRecommendation, type ClosedRecommendation } from '../db/queries';
import { competitiveRecommendations, type Job } from '../db/schema';
import type { PoolClient } from 'pg';
import { jobConfigSchema, parseInput, type JobConfig } from '../validation';
import { BadInputError } from '../shared/errors';
import { OPEN_RECOMMENDATION_STATUSES } from '../shared/statuses';
import { startPostMetricsWorkflows } from '../services/post-metrics';
import { notPublishedOn } from '../services/publish-state';
import type { ActivityDeps } from './deps';
import { classified } from './failures';

export interface RecommendationPlan {
  id: string;
  title: string;
  type: string;
  status: string;
  priority: Priority;
  targetPlayer: string | null;
  ourData: Record<string, unknown>;
  jobConfig: JobConfig;
  scheduleAfter: string | null;
  deadline: string | null;
  /** Approval steps this recommendation waits for (policy for its source and platforms, plus its own jobConfig.approval). */
  approval?: ApprovalPlan;
  /** The reel to make (REELFLOW_REEL_MODE, REELFLOW_REEL_SECONDS); absent from plans loaded before reels. */
  reel?: ReelSettings;
}

export interface EnqueueJobInput {
  workflowId: string;
  runId: string;
  recommendationId: string;
  step: string;
  jobType: JobType;
  priority: Priority;
  jobConfig: Record<string, unknown>;
  scheduleAfter: string | null;
  deadline: string | null;
}

const OPEN = [...OPEN_RECOMMENDATION_STATUSES];

/**
 * Starts the metrics series of a recommendation's posts from an activity, on the base queue, where the metrics
 * workflows belong (once per post: a retry starts none twice).
 */
export async function startMetricsOfPosts(deps: ActivityDeps, recommendationId: string): Promise<void> {
  await startPostMetricsWorkflows(
    deps.database.pool,
    {
      client: Context.current().client,
      taskQueue: deps.env.REELFLOW_TASK_QUEUE,
      readsSeconds: deps.env.REELFLOW_METRICS_READS,
      hourMs: deps.env.REELFLOW_METRICS_HOUR_MS,
    },
    recommendationId,
  );
}

export function createQueueSyncActivities(deps: ActivityDeps) {
  const { db, pool } = deps.database;

  async function loadRow(recommendationId: string) {
    const row = await getRecommendation(db, recommendationId);
    if (!row) throw new BadInputError(`recommendation ${recommendationId} does not exist`);
    return { row, jobConfig: parseInput(jobConfigSchema, row.jobConfig, `recommendation ${recommendationId} job_config`) };
  }

  // With what its editors said before: a platform rejected (a retry's run, a policy made looser) is asked again.
  const approvalOf = (row: { source: string; approval: unknown }, jobConfig: JobConfig): ApprovalPlan =>
    approvalPlan(deps.env.REELFLOW_APPROVAL_POLICY, row.source, jobConfig.platforms, jobConfig.approval, {
      decisions: recordedDecisions(row.approval),
      planned: jobConfig.platforms,
    });

  /** Moves the recommendation to `status` unless it already reached a final state. */
  async function setStatus(id: string, status: string, extra: { error?: string | null; publishedAt?: Date } = {}) {
    await db
      .update(competitiveRecommendations)
      .set({ status, error: extra.error ?? null, publishedAt: extra.publishedAt, updatedAt: new Date() })
      .where(and(eq(competitiveRecommendations.id, id), inArray(competitiveRecommendations.status, OPEN)));
  }

  async function enqueueOne(client: PoolClient, input: EnqueueJobInput): Promise<Pick<Job, 'id' | 'status'>> {
    // A render on the other model than the deployment's (an idea's `model`) carries its price: the gate grants it at
    // that price (take_quota), not at the deployment's, which a quality render passed by 190 credits at a budget's edge.
    const model = input.jobConfig.model;
    const priced =
      JOB_TYPES[input.jobType] === 'veo3' && typeof model === 'string' && model !== deps.env.KIE_MODEL
        ? { ...input, jobConfig: { ...input.jobConfig, credits: renderCredits(deps.env, model) } }
        : input;
    return enqueueJob(client, deps.limits, priced);
  }

  return {
    async loadRecommendation(recommendationId: string): Promise<RecommendationPlan> {
      return classified(async () => {
        // The reel mode is the idea's from its first run on: its steps (a clip's `generate`, a reel's segments) are planned
        // by it, and a retry after REELFLOW_REEL_MODE changed planned the other kind beside the rendered ones (a clip paid
        // for anew, its segments left unused; a reel with no script).
        await pool.query(
          `UPDATE competitive_recommendations
              SET job_config = jsonb_set(coalesce(job_config, '{}'::jsonb), '{reel}',
                                         coalesce(job_config->'reel', '{}'::jsonb) || jsonb_build_object('mode', $2::text))
            WHERE id = $1 AND job_config->'reel'->>'mode' IS NULL`,
          [recommendationId, deps.env.REELFLOW_REEL_MODE],
        );
        const { row, jobConfig } = await loadRow(recommendationId);
        const deadline = row.urgencyDeadline ?? deadlineFor(row.priority as Priority, row.createdAt);
        return {
          id: row.id,
          title: row.title,
          type: row.recommendationType,
          status: row.status,
          priority: row.priority as Priority,
          targetPlayer: row.targetPlayer,
          ourData: (row.ourData ?? {}) as Record<string, unknown>,
          jobConfig,
          scheduleAfter: row.scheduleAfter?.toISOString() ?? null,
          deadline: deadline?.toISOString() ?? null,
          approval: approvalOf(row, jobConfig),
          reel: reelSettings(
            jobConfig.reel?.mode ?? deps.env.REELFLOW_REEL_MODE,
            jobConfig.reel?.seconds ? { min: jobConfig.reel.seconds, max: jobConfig.reel.seconds } : deps.env.REELFLOW_REEL_SECONDS,
          ),
        };
      });
    },

    /**
     * The approvals the policy asks of the idea now. The plan's were read when its workflow began, up to a week before
     * a P3's render: a policy made stricter since (an incident, REELFLOW_APPROVAL_POLICY) must reach it before it posts.
     */
    async approvalPlanNow(recommendationId: string): Promise<ApprovalPlan> {
      return classified(async () => {
        const { row, jobConfig } = await loadRow(recommendationId);
        return approvalOf(row, jobConfig);
      });
    },

    /**
     * All steps of a plan in one transaction: reports see the whole plan, or none of it.
     * With `inProduction` (a plan that starts now) the recommendation moves to in_production
     * in the same transaction, which also saves the workflow a round trip before its first job.
     */
    async enqueuePlan(
      inputs: EnqueueJobInput[],
      opts: { inProduction?: { recommendationId: string; workflowId: string } } = {},
    ): Promise<Array<Pick<Job, 'id' | 'status'>>> {
      const client = await pool.connect();
      try {
        await client.query('BEGIN');
        const out: Array<Pick<Job, 'id' | 'status'>> = [];
        for (const input of inputs) out.push(await enqueueOne(client, input));
        if (opts.inProduction) {
          await client.query(
            `UPDATE competitive_recommendations SET status = 'in_production', workflow_id = $2, updated_at = now()
              WHERE id = $1 AND status = 'pending'`,
            [opts.inProduction.recommendationId, opts.inProduction.workflowId],
          );
        }
        await client.query('COMMIT');
        return out;
      } catch (err) {
        await client.query('ROLLBACK').catch(() => undefined);
        throw err;
      } finally {
        client.release();
      }
    },

    async markInProduction(input: { recommendationId: string; workflowId: string }): Promise<void> {
      await db
        .update(competitiveRecommendations)
        .set({ status: 'in_production', workflowId: input.workflowId, updatedAt: new Date() })
        .where(and(eq(competitiveRecommendations.id, input.recommendationId), eq(competitiveRecommendations.status, 'pending')));
    },

    /**
     * Published everywhere, or partially_published with each failed platform's error; then each post's metrics
     * series starts (once per post: a retry of this activity starts none twice).
     */
    /**
     * The idea is published (on every platform, or on some). With its workflow's id, any job of that workflow still open
     * is closed: every step has ended, so one still queued is a step the run will never take (a post whose last
     * attempt timed out in its line left its row queued, counted as waiting in every report).
     */
    async markPublished(input: {
      recommendationId: string;
      workflowId?: string;
      failedPlatforms?: Array<{ platform: string; error: string }>;
    }): Promise<void> {
      const failed = input.failedPlatforms ?? [];
      if (input.workflowId)
        await closeWorkflowJobs(deps.database.pool, [input.workflowId], 'not run: its workflow ended, the idea published');
      await setStatus(input.recommendationId, failed.length ? 'partially_published' : 'published', {
        publishedAt: new Date(),
        error: notPublishedOn(failed),
      });
      await startMetricsOfPosts(deps, input.recommendationId);
    },

    /** A workflow that ends early (a step failed for good) closes what it planned: none left queued for a run that is over. */
    async closeWorkflowJobs(input: { workflowId: string; reason: string }): Promise<void> {
      await closeWorkflowJobs(deps.database.pool, [input.workflowId], input.reason);
    },

    /** Planned jobs the workflow will not run (platforms an editor rejected): cancelled with `reason` if they never started. */
    async cancelUnstartedJobs(input: { jobIds: string[]; reason: string }): Promise<void> {
      await deps.database.pool.query('SELECT count(*) FROM cancel_unstarted_jobs($1::uuid[], $2)', [input.jobIds, input.reason]);
    },

    /** Closes the recommendation and every open job of its workflow (cancelled, failed, expired or rejected). */
    async closeRecommendation(input: ClosedRecommendation): Promise<void> {
      await closeRecommendationRow(db, input);
      // A post made before the end (cancelled while another platform waited for its approval) is live all the same:
      // its metrics series starts as a published idea's does (once per post), or nothing would ever measure it.
      await startMetricsOfPosts(deps, input.recommendationId);
    },

    async setPriority(input: { recommendationId: string; workflowId: string; priority: Priority }): Promise<void> {
      await db.transaction(async (tx) => {
        await tx
          .update(competitiveRecommendations)
          .set({ priority: input.priority, updatedAt: new Date() })
          .where(eq(competitiveRecommendations.id, input.recommendationId));
        await tx.execute(sql`SELECT reprioritise_workflow_jobs(${input.workflowId}, ${input.priority})`);
      });
    },
  };
}
