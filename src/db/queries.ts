/** Reads shared by activities, services and the CLI, the one way a job row is written, and an approval nobody waits for cleared. */
import { and, eq, inArray, sql } from 'drizzle-orm';
import type pg from 'pg';
import { JOB_TYPES, jobEstimateSeconds, type JobType, type Provider, type ProviderLimits } from '../config/providers';
import type { Priority } from '../config/priorities';
import type { Db, Tx } from './client';
import { OPEN_RECOMMENDATION_STATUSES } from '../shared/statuses';
import { retryDeadlock } from './retry';
import { automationQueue, competitiveRecommendations, type Job, type Recommendation } from './schema';

/** A job to write into the provider's line. */
export interface NewJob {
  workflowId: string;
  /** Unique within the workflow: a repeated write of the same step returns the row already there. */
  step: string;
  jobType: JobType;
  priority: Priority;
  runId: string;
  jobConfig?: Record<string, unknown>;
  recommendationId?: string | null;
  scheduleAfter?: string | Date | null;
  deadline?: string | Date | null;
  /** Default: the job type's (jobEstimateSeconds). */
  estimatedSeconds?: number;
}

/** enqueue_job (drizzle/0001): idempotent per (workflow, step), attempts from the provider's limits. */
export async function enqueueJob(
  client: pg.Pool | pg.PoolClient,
  limits: Record<Provider, ProviderLimits>,
  job: NewJob,
): Promise<{ id: string; status: string }> {
  const provider = JOB_TYPES[job.jobType];
  const { rows } = await client.query<{ id: string; status: string }>(
    'SELECT id, status FROM enqueue_job($1, $2, $3, $4, $5, $6::jsonb, $7, $8, $9, $10, $11, $12)',
    [
      job.workflowId,
      job.step,
      job.jobType,
      provider,
      job.priority,
      JSON.stringify(job.jobConfig ?? {}),
      job.recommendationId ?? null,
      job.scheduleAfter ?? null,
      job.deadline ?? null,
      job.estimatedSeconds ?? jobEstimateSeconds(job.jobType, limits),
      limits[provider].maxAttempts,
      job.runId,
    ],
  );
  return rows[0]!;
}

/**
 * A plan's rows share one creation time (one transaction), so listings order
 * its steps by where they run in the workflow: transcribe, analyze, generate
 * (a reel's segments generate:1..N in number order), assemble, then the
 * publishes by platform. `col` is the step column as the query names it.
 */
export function planStepOrder(col: string): string {
  return (
    `CASE WHEN ${col} = 'transcribe' THEN 0 WHEN ${col} = 'analyze' THEN 1 ` +
    `WHEN ${col} = 'generate' OR ${col} LIKE 'generate:%' THEN 2 WHEN ${col} = 'assemble' THEN 3 ELSE 4 END, ` +
    `substring(${col} from '^generate:([0-9]+)$')::int NULLS FIRST, ${col}`
  );
}

/** The columns openJobOrder reads, as SQL expressions of the query it sorts. */
export interface OpenJobColumns {
  status: string;
  /** True while the job waits in its provider's line (queue_pending.in_line, waiting_since IS NOT NULL). */
  inLine: string;
  priority: string;
  createdAt: string;
}

/**
 * The order open jobs are listed in, wherever they are listed (the dashboard's queue, src/api/stats.ts; `reelflow list
 * --jobs` and GET /jobs, src/services/recommendation-reads.ts): running, then the jobs in a line in line order
 * (priority, then enqueue time), then the later steps not asking yet. By priority alone, a P0's four later steps came
 * before the P1 first in line, and the demo's line was scattered among 28 rows that wait for nothing yet. Sort keys
 * without their direction in `expr`, so a caller can limit each to open jobs (CASE WHEN open THEN expr END); ties
 * then go by planStepOrder.
 */
export function openJobOrder(c: OpenJobColumns): { expr: string; desc: boolean }[] {
  return [
    { expr: `${c.status} = 'processing'`, desc: true },
    { expr: c.inLine, desc: true },
    { expr: c.priority, desc: false },
    { expr: c.createdAt, desc: false },
  ];
}

export async function getJob(db: Db, id: string): Promise<Job | undefined> {
  const [row] = await db.select().from(automationQueue).where(eq(automationQueue.id, id));
  return row;
}

export async function getRecommendation(db: Db, id: string): Promise<Recommendation | undefined> {
  const [row] = await db.select().from(competitiveRecommendations).where(eq(competitiveRecommendations.id, id));
  return row;
}

/** Workflows whose jobs one transaction closes (closeWorkflowJobs). */
const CLOSE_CHUNK = 100;

/**
 * Closes every open job of these workflows (cancel_workflow_jobs, with `reason`), a transaction per CLOSE_CHUNK
 * workflows: 3,000 in one statement held their rows long enough to deadlock with the workers' batched heartbeats
 * (bench backlog), and a workflow's own clean-up can take provider locks in another order. A deadlock victim runs
 * again (retryDeadlock): it only closes what is still open.
 */
export async function closeWorkflowJobs(pool: pg.Pool, workflowIds: readonly string[], reason: string): Promise<void> {
  for (let i = 0; i < workflowIds.length; i += CLOSE_CHUNK) {
    const ids = workflowIds.slice(i, i + CLOSE_CHUNK);
    await retryDeadlock(() =>
      pool.query('SELECT count(*) FROM unnest($1::text[]) AS w(id), cancel_workflow_jobs(w.id, $2)', [ids, reason]),
    );
  }
}

/** How an idea ended without its video (or without all of its posts); `reason` is what its row and its card say. */
export interface ClosedRecommendation {
  recommendationId: string;
  workflowId: string;
  status: 'cancelled' | 'failed' | 'expired' | 'rejected' | 'partially_published';
  reason: string;
}

/**
 * An open idea closed: its open jobs cancelled (their slots and places in line freed), its status and reason written
 * and nothing left waiting for approval (a dashboard must not offer buttons on a closed idea), in one transaction.
 * The row's title and priority when it was open, null when it had already ended (nothing written).
 */
export async function closeRecommendationRow(
  db: Db,
  input: ClosedRecommendation,
): Promise<Pick<Recommendation, 'title' | 'priority'> | null> {
  return db.transaction((tx) => closeRecommendationIn(tx, input));
}

/** closeRecommendationRow inside the caller's transaction. */
export async function closeRecommendationIn(
  tx: Tx,
  input: ClosedRecommendation,
): Promise<Pick<Recommendation, 'title' | 'priority'> | null> {
  await tx.execute(sql`SELECT count(*) FROM cancel_workflow_jobs(${input.workflowId}, ${input.reason})`);
  const [closed] = await tx
    .update(competitiveRecommendations)
    .set({
      status: input.status,
      error: input.reason,
      approval: sql`CASE WHEN ${competitiveRecommendations.approval} IS NULL THEN NULL
                    ELSE jsonb_set(${competitiveRecommendations.approval}, '{waiting}', 'null'::jsonb) END`,
      updatedAt: new Date(),
    })
    .where(
      and(
        eq(competitiveRecommendations.id, input.recommendationId),
        inArray(competitiveRecommendations.status, [...OPEN_RECOMMENDATION_STATUSES]),
      ),
    )
    .returning({ title: competitiveRecommendations.title, priority: competitiveRecommendations.priority });
  return closed ?? null;
}

/**
 * Nothing waits for approval in `workflowId` any more (a republish that ended without its decision): its card leaves
 * the dashboard. Only while that workflow is the one named waiting.
 */
export async function clearApprovalWaitingIn(pool: pg.Pool, recommendationId: string, workflowId: string): Promise<void> {
  await pool.query(
    `UPDATE competitive_recommendations SET approval = jsonb_set(approval, '{waiting}', 'null'::jsonb), updated_at = now()
      WHERE id = $1 AND approval->'waiting'->>'workflowId' = $2`,
    [recommendationId, workflowId],
  );
}

export interface ApprovalRow {
  id: string;
  title: string;
  priority: string;
  source: string;
  type: string;
  workflowId: string | null;
  deadline: Date | null;
  /** The ApprovalReview the workflow is waiting on (stage, caption, prompt, video, platforms). */
  waiting: Record<string, unknown>;
  /** Why the engine proposed it (rule and evidence), when it did. */
  explanation: { rule: string; because: string[] } | null;
  /**
   * The review's id, or `<idea>@<requestedAt>` for one asked before reviews had ids: what its reminders are counted by.
   * Null for a review with neither (none is written so).
   */
  reviewKey: string | null;
  /** Reminders it has had (src/workers/approval-watch.ts). */
  reminded: number;
}

/** Ideas waiting for an editor's decision, most urgent first. */
export async function awaitingApproval(pool: pg.Pool): Promise<ApprovalRow[]> {
  const { rows } = await pool.query<ApprovalRow>(
    `SELECT r.id, r.title, r.priority, r.source, r.recommendation_type AS type, r.workflow_id AS "workflowId",
            r.urgency_deadline AS deadline, r.approval->'waiting' AS waiting, r.our_data->'explanation' AS explanation,
            k.review_key AS "reviewKey", coalesce(ar.reminded, 0) AS reminded
       FROM competitive_recommendations r
      CROSS JOIN LATERAL (
        SELECT coalesce(r.approval->'waiting'->>'id', r.id || '@' || (r.approval->'waiting'->>'requestedAt')) AS review_key
      ) k
       LEFT JOIN approval_reminders ar ON ar.review_id = k.review_key
      WHERE jsonb_typeof(r.approval->'waiting') = 'object'
        -- A published idea's republish waits too, for a platform no editor approved the video for (its workflowId).
        AND (r.status IN ('pending', 'in_production') OR r.approval->'waiting' ? 'workflowId')
      ORDER BY r.priority, r.urgency_deadline NULLS LAST, r.created_at`,
  );
  return rows;
}
