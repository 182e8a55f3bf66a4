/**
 * What operators read: recommendation and job listings, one recommendation's
 * status (rows, events and its workflow), provider capacity and the counts
 * behind the dashboards. Nothing here writes.
 */
import { WorkflowNotFoundError } from '@temporalio/client';
import { and, desc, eq, gte, inArray, sql, type SQL } from 'drizzle-orm';
import { PROVIDERS } from '../config/providers';
import { openJobOrder, planStepOrder } from '../db/queries';
import { estimateFor, jobWait, readCapacity, readQuotas, type CapacityRow, type JobWait, type QuotaRow } from '../gate/capacity';
import { automationQueue, competitiveRecommendations, jobEvents, videoAssets, type Job, type Recommendation } from '../db/schema';
import { stateQuery, type CapacitySnapshotRow, type RecommendationState } from '../shared/messages';
import { OPEN_JOB_STATUSES, OPEN_RECOMMENDATION_STATUSES } from '../shared/statuses';
import { capacityWorkflowId, recommendationWorkflowId } from '../shared/workflow-ids';
import { refreshCapacity } from '../temporal/capacity-snapshot';
import { parseInput, prioritySchema, providerSchema } from '../validation';
import { readUnknownPosts } from './publish-state';
import type { ServiceDeps } from './recommendations';

/** A job row with when it is expected to start (queued jobs in a line; null fields otherwise). */
export type JobWithWait = Job & JobWait;
/** A provider's capacity with its quotas and budgets. */
export type CapacityWithQuotas = CapacityRow & { quotas: QuotaRow[] };

const openJob = inArray(automationQueue.status, [...OPEN_JOB_STATUSES]);
const OPEN_JOB_ORDER = openJobOrder({
  status: 'status',
  inLine: '(waiting_since IS NOT NULL)',
  priority: 'priority',
  createdAt: 'created_at',
});
const openRecommendation = inArray(competitiveRecommendations.status, [...OPEN_RECOMMENDATION_STATUSES]);

export function createRecommendationReads(deps: ServiceDeps, resolve: (ref: string) => Promise<Recommendation>) {
  const { db, pool } = deps.database;

  return {
    async listRecommendations(filters: { status?: string; priority?: string; limit?: number } = {}) {
      const where: SQL[] = [];
      if (filters.status) where.push(eq(competitiveRecommendations.status, filters.status));
      if (filters.priority) where.push(eq(competitiveRecommendations.priority, parseInput(prioritySchema, filters.priority, 'priority')));
      return (
        db
          .select()
          .from(competitiveRecommendations)
          .where(where.length ? and(...where) : undefined)
          // The open ones first, most urgent first; then the rest, newest first (by priority, a year-old P0 would come
          // before yesterday's P3, and the limit would show the oldest history instead of what is going on).
          .orderBy(
            sql`${openRecommendation} DESC`,
            sql`CASE WHEN ${openRecommendation} THEN ${competitiveRecommendations.priority} END`,
            desc(competitiveRecommendations.createdAt),
          )
          .limit(filters.limit ?? 100)
      );
    },

    async listJobs(
      filters: { status?: string[]; provider?: string; priority?: string; since?: Date; limit?: number } = {},
    ): Promise<JobWithWait[]> {
      const where: SQL[] = [];
      if (filters.status?.length) where.push(inArray(automationQueue.status, filters.status));
      if (filters.provider) where.push(eq(automationQueue.apiProvider, parseInput(providerSchema, filters.provider, 'provider')));
      if (filters.priority) where.push(eq(automationQueue.priority, parseInput(prioritySchema, filters.priority, 'priority')));
      if (filters.since) where.push(gte(automationQueue.createdAt, filters.since));
      const jobs = await db
        .select()
        .from(automationQueue)
        .where(where.length ? and(...where) : undefined)
        // The open jobs first, in the order every list of open jobs has (openJobOrder); then the finished ones, newest
        // first. By priority and enqueue time alone, a finished P2 of last year came before a waiting P2, and the
        // limit showed the oldest P0s of the history before any open job.
        .orderBy(
          sql`${openJob} DESC`,
          ...OPEN_JOB_ORDER.map((k) => sql`CASE WHEN ${openJob} THEN ${sql.raw(k.expr)} END ${sql.raw(k.desc ? 'DESC' : 'ASC')}`),
          desc(automationQueue.createdAt),
          sql.raw(planStepOrder('step')),
        )
        .limit(filters.limit ?? 200);
      const etas = await estimateFor(pool, jobs);
      return jobs.map((j) => ({ ...j, ...jobWait(etas, j.id) }));
    },

    /** `workflow: false` leaves Temporal out (it is down): the workflow is then null, as for one that never ran. */
    async status(ref: string, opts: { workflow?: boolean } = {}) {
      const rec = await resolve(ref);
      const rows = await db
        .select()
        .from(automationQueue)
        .where(eq(automationQueue.recommendationId, rec.id))
        // Workflow order: a reel's segments are planned after the rest (once the script exists) but run before assembly.
        .orderBy(sql.raw(planStepOrder('step')), automationQueue.createdAt);
      const etas = await estimateFor(pool, rows);
      const jobs: JobWithWait[] = rows.map((j) => ({ ...j, ...jobWait(etas, j.id) }));
      const events = await db.select().from(jobEvents).where(eq(jobEvents.recommendationId, rec.id)).orderBy(jobEvents.id);
      // Our copy of the paid video, once archived: what publishing and `reelflow republish` read.
      const [video] = await db.select().from(videoAssets).where(eq(videoAssets.recommendationId, rec.id));
      let workflow: { status: string; runId: string; state: RecommendationState | null } | null = null;
      try {
        if (opts.workflow !== false) {
          const handle = deps.client.workflow.getHandle(recommendationWorkflowId(rec.id));
          const desc = await handle.describe();
          const state = desc.status.name === 'RUNNING' ? await handle.query(stateQuery).catch(() => null) : null;
          workflow = { status: desc.status.name, runId: desc.runId, state };
        }
      } catch (err) {
        if (!(err instanceof WorkflowNotFoundError)) throw err;
      }
      return { recommendation: rec, jobs, events, workflow, video: video ?? null, unknownPosts: await readUnknownPosts(pool, rec.id) };
    },

    /** Each provider's slots and line, with the quotas and budgets that belong to it (used, limit, reset, parked). */
    async capacity(provider?: string): Promise<CapacityWithQuotas[]> {
      const providers = provider ? [parseInput(providerSchema, provider, 'provider')] : PROVIDERS;
      const [rows, quotas] = await Promise.all([readCapacity(pool, providers), readQuotas(pool, providers)]);
      return rows.map((r) => ({ ...r, quotas: quotas.filter((q) => q.provider === r.provider) }));
    },

    /** The same numbers through Temporal: the capacity workflow reads them now and answers its update. */
    async capacityFromWorkflow(provider?: string): Promise<CapacitySnapshotRow[]> {
      const only = provider ? parseInput(providerSchema, provider, 'provider') : undefined;
      try {
        const snapshot = await refreshCapacity(deps.client, deps.taskQueue);
        return snapshot.providers.filter((r) => !only || r.provider === only);
      } catch (err) {
        if (err instanceof WorkflowNotFoundError) {
          throw new Error(
            `the capacity workflow ${capacityWorkflowId(deps.taskQueue)} is not running; start a worker (npm run worker) and try again`,
            { cause: err },
          );
        }
        throw err;
      }
    },

    /** Counts for dashboards: recommendations by status/type/priority and jobs by status/provider. */
    async counts() {
      const recs = await db.execute(sql`
        SELECT status, recommendation_type AS type, priority, count(*)::int AS n
          FROM competitive_recommendations GROUP BY 1, 2, 3`);
      const jobs = await db.execute(sql`
        SELECT status, api_provider AS provider, priority, count(*)::int AS n
          FROM automation_queue GROUP BY 1, 2, 3`);
      return { recommendations: recs.rows, jobs: jobs.rows };
    },
  };
}
