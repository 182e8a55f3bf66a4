/**
 * What operators do, in one place for the CLI, the API and the demo: enqueue,
 * list, status, cancel, reprioritise, capacity. Input is validated before
 * anything is written; a failed workflow start removes the row it created.
 */
import { WorkflowExecutionAlreadyStartedError, WorkflowNotFoundError, type Client } from '@temporalio/client';
import { and, desc, eq, gte, inArray, sql, type SQL } from 'drizzle-orm';
import { deadlineFor, temporalPriorityKey, type Priority } from '../config/priorities';
import { PROVIDERS, type Provider } from '../config/providers';
import type { Database } from '../db/client';
import { getJob, getRecommendation, planStepOrder, readCapacity, type CapacityRow } from '../db/queries';
export type { CapacityRow } from '../db/queries';
import { automationQueue, competitiveRecommendations, jobEvents, type Job, type Recommendation } from '../db/schema';
import {
  BadInputError,
  enqueueRecommendationSchema,
  parseInput,
  prioritySchema,
  providerSchema,
  uuidSchema,
} from '../validation';
import {
  capacityWorkflowId,
  RECOMMENDATION_WORKFLOW,
  recommendationWorkflowId,
  reprioritiseUpdate,
  SEARCH_ATTRIBUTES,
  stateQuery,
  type CapacitySnapshotRow,
  type RecommendationState,
} from '../shared/messages';
import type { recommendationWorkflow } from '../workflows/recommendation';
import { refreshCapacity } from '../temporal/capacity-snapshot';

export class NotFoundError extends Error {
  override name = 'NotFoundError';
}

/** The request is well formed but the recommendation's state rules it out (API 409, CLI exit 2). */
export class ConflictError extends Error {
  override name = 'ConflictError';
}

/** Recommendation statuses no workflow will change again. */
const CLOSED_STATUSES = new Set(['published', 'expired', 'failed', 'cancelled']);
function assertOpen(rec: Recommendation, action: string): void {
  if (CLOSED_STATUSES.has(rec.status)) throw new ConflictError(`recommendation ${rec.id} is already ${rec.status}: nothing to ${action}`);
}

export interface ServiceDeps {
  database: Database;
  client: Client;
  taskQueue: string;
  now?: () => Date;
}

export interface EnqueueResult {
  recommendation: Recommendation;
  workflowId: string;
  /** False when the recommendation already had a workflow (duplicate enqueue). */
  started: boolean;
}


export function createRecommendationService(deps: ServiceDeps) {
  const { db, pool } = deps.database;
  const now = deps.now ?? (() => new Date());

  async function startWorkflow(rec: Recommendation): Promise<{ workflowId: string; started: boolean }> {
    const workflowId = recommendationWorkflowId(rec.id);
    // Temporal only remembers a closed workflow for its retention period; the row remembers for good.
    // Without this, the same idea generated again after that would start a workflow that fails at once.
    if (CLOSED_STATUSES.has(rec.status)) return { workflowId, started: false };
    const priority = rec.priority as Priority;
    try {
      const handle = await deps.client.workflow.start<typeof recommendationWorkflow>(RECOMMENDATION_WORKFLOW, {
        taskQueue: deps.taskQueue,
        workflowId,
        args: [{ recommendationId: rec.id }],
        // Same recommendation twice -> one workflow; a finished one is never re-run (it was paid for).
        workflowIdConflictPolicy: 'USE_EXISTING',
        workflowIdReusePolicy: 'REJECT_DUPLICATE',
        priority: { priorityKey: temporalPriorityKey(priority) },
        typedSearchAttributes: [
          { key: SEARCH_ATTRIBUTES.priority, value: priority },
          { key: SEARCH_ATTRIBUTES.recommendationId, value: rec.id },
        ],
      });
      void handle;
      return { workflowId, started: rec.workflowId === null };
    } catch (err) {
      if (err instanceof WorkflowExecutionAlreadyStartedError) return { workflowId, started: false };
      throw err;
    }
  }

  /** Accepts a recommendation id, a job id or a workflow id. */
  async function resolve(ref: string): Promise<Recommendation> {
    const id = ref.startsWith('recommendation-') ? ref.slice('recommendation-'.length) : ref;
    parseInput(uuidSchema, id, 'id');
    const rec = await getRecommendation(db, id);
    if (rec) return rec;
    const job = await getJob(db, id);
    if (job?.recommendationId) {
      const owner = await getRecommendation(db, job.recommendationId);
      if (owner) return owner;
    }
    throw new NotFoundError(`no recommendation or job with id ${ref}`);
  }

  return {
    resolve,

    async enqueue(input: unknown): Promise<EnqueueResult> {
      const data = parseInput(enqueueRecommendationSchema, input, 'enqueue');
      const created = now();
      // A scheduled idea's window opens when it may start: a P0 for tomorrow's match has 24 h from then.
      const opens = data.scheduleAfter && data.scheduleAfter > created ? data.scheduleAfter : created;
      const deadline = data.deadline ?? deadlineFor(data.priority, opens);
      if (deadline && deadline <= created) throw new BadInputError('enqueue: deadline must be in the future');
      if (deadline && data.scheduleAfter && deadline <= data.scheduleAfter) {
        throw new BadInputError('enqueue: deadline must be after scheduleAfter, or the video could never be made in time');
      }
      const inserted = await db
        .insert(competitiveRecommendations)
        .values({
          title: data.title,
          recommendationType: data.type,
          priority: data.priority,
          source: data.source,
          targetPlayer: data.targetPlayer ?? null,
          ourData: data.ourData,
          jobConfig: data.jobConfig,
          sourceVideoId: data.sourceVideoId ?? null,
          urgencyDeadline: deadline,
          scheduleAfter: data.scheduleAfter ?? null,
          dedupeKey: data.dedupeKey ?? null,
          createdAt: created,
        })
        .onConflictDoNothing({ target: competitiveRecommendations.dedupeKey })
        .returning();
      let rec = inserted[0];
      if (!rec) {
        // Same dedupe key as an existing idea: hand back that one (and make sure it runs).
        const [existing] = await db
          .select()
          .from(competitiveRecommendations)
          .where(eq(competitiveRecommendations.dedupeKey, data.dedupeKey!));
        rec = existing!;
        const { workflowId } = await startWorkflow(rec);
        return { recommendation: rec, workflowId, started: false };
      }
      try {
        const { workflowId } = await startWorkflow(rec);
        const [updated] = await db
          .update(competitiveRecommendations)
          .set({ workflowId })
          .where(eq(competitiveRecommendations.id, rec.id))
          .returning();
        return { recommendation: updated!, workflowId, started: true };
      } catch (err) {
        // No workflow, no row: nothing half-enqueued is left behind.
        await db.delete(competitiveRecommendations).where(eq(competitiveRecommendations.id, rec.id));
        throw err;
      }
    },

    /** Starts (or finds) the workflow of an existing recommendation. */
    async start(recommendationId: string): Promise<EnqueueResult> {
      parseInput(uuidSchema, recommendationId, 'recommendation id');
      const rec = await getRecommendation(db, recommendationId);
      if (!rec) throw new NotFoundError(`recommendation ${recommendationId} does not exist`);
      const { workflowId, started } = await startWorkflow(rec);
      if (rec.workflowId !== workflowId) {
        await db.update(competitiveRecommendations).set({ workflowId }).where(eq(competitiveRecommendations.id, rec.id));
      }
      return { recommendation: { ...rec, workflowId }, workflowId, started };
    },

    async cancel(ref: string, reason?: string): Promise<Recommendation> {
      const rec = await resolve(ref);
      // Temporal accepts a cancel request for a workflow that has already closed, so ask the row.
      assertOpen(rec, 'cancel');
      const handle = deps.client.workflow.getHandle(recommendationWorkflowId(rec.id));
      try {
        if (reason) await handle.signal('cancel', { reason });
        else await handle.cancel();
      } catch (err) {
        if (err instanceof WorkflowNotFoundError) throw new NotFoundError(`recommendation ${rec.id} has no running workflow`);
        throw err;
      }
      return rec;
    },

    async reprioritise(ref: string, priority: string): Promise<RecommendationState> {
      const p = parseInput(prioritySchema, priority, 'priority');
      const rec = await resolve(ref);
      assertOpen(rec, 'reprioritise');
      const handle = deps.client.workflow.getHandle(recommendationWorkflowId(rec.id));
      try {
        return await handle.executeUpdate(reprioritiseUpdate, { args: [{ priority: p }] });
      } catch (err) {
        if (err instanceof WorkflowNotFoundError) throw new NotFoundError(`recommendation ${rec.id} has no running workflow`);
        throw err;
      }
    },

    async listRecommendations(filters: { status?: string; priority?: string; limit?: number } = {}) {
      const where: SQL[] = [];
      if (filters.status) where.push(eq(competitiveRecommendations.status, filters.status));
      if (filters.priority) where.push(eq(competitiveRecommendations.priority, parseInput(prioritySchema, filters.priority, 'priority')));
      return db
        .select()
        .from(competitiveRecommendations)
        .where(where.length ? and(...where) : undefined)
        .orderBy(competitiveRecommendations.priority, desc(competitiveRecommendations.createdAt))
        .limit(filters.limit ?? 100);
    },

    async listJobs(filters: { status?: string[]; provider?: string; priority?: string; since?: Date; limit?: number } = {}): Promise<Job[]> {
      const where: SQL[] = [];
      if (filters.status?.length) where.push(inArray(automationQueue.status, filters.status));
      if (filters.provider) where.push(eq(automationQueue.apiProvider, parseInput(providerSchema, filters.provider, 'provider')));
      if (filters.priority) where.push(eq(automationQueue.priority, parseInput(prioritySchema, filters.priority, 'priority')));
      if (filters.since) where.push(gte(automationQueue.createdAt, filters.since));
      return db
        .select()
        .from(automationQueue)
        .where(where.length ? and(...where) : undefined)
        .orderBy(automationQueue.priority, automationQueue.createdAt, sql.raw(planStepOrder('step')))
        .limit(filters.limit ?? 200);
    },

    async status(ref: string) {
      const rec = await resolve(ref);
      const jobs = await db
        .select()
        .from(automationQueue)
        .where(eq(automationQueue.recommendationId, rec.id))
        .orderBy(automationQueue.createdAt, sql.raw(planStepOrder('step')));
      const events = await db
        .select()
        .from(jobEvents)
        .where(eq(jobEvents.recommendationId, rec.id))
        .orderBy(jobEvents.id);
      let workflow: { status: string; runId: string; state: RecommendationState | null } | null = null;
      try {
        const handle = deps.client.workflow.getHandle(recommendationWorkflowId(rec.id));
        const desc = await handle.describe();
        const state = desc.status.name === 'RUNNING' ? await handle.query(stateQuery).catch(() => null) : null;
        workflow = { status: desc.status.name, runId: desc.runId, state };
      } catch (err) {
        if (!(err instanceof WorkflowNotFoundError)) throw err;
      }
      return { recommendation: rec, jobs, events, workflow };
    },

    async capacity(provider?: string): Promise<CapacityRow[]> {
      return readCapacity(pool, provider ? [parseInput(providerSchema, provider, 'provider')] : PROVIDERS);
    },

    /** The same numbers through Temporal: the capacity workflow reads them now and answers its update. */
    async capacityFromWorkflow(provider?: string): Promise<CapacitySnapshotRow[]> {
      const only = provider ? parseInput(providerSchema, provider, 'provider') : undefined;
      try {
        const snapshot = await refreshCapacity(deps.client, deps.taskQueue);
        return snapshot.providers.filter((r) => !only || r.provider === only);
      } catch (err) {
        if (err instanceof WorkflowNotFoundError) {
          throw new Error(`the capacity workflow ${capacityWorkflowId(deps.taskQueue)} is not running; start a worker (npm run worker) and try again`);
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

export type RecommendationService = ReturnType<typeof createRecommendationService>;
