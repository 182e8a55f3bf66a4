/**
 * What operators look at, read straight from the queue views of
 * drizzle/0001_queue_functions.sql so the API, the dashboard and /metrics
 * agree with `psql` on what "waiting", "stuck" or "in use" means.
 * Column aliases are camelCase so rows go to JSON as they are.
 */
import { eq } from 'drizzle-orm';
import type pg from 'pg';
import { PROVIDERS } from '../config/providers';
import type { Db } from '../db/client';
import { awaitingApproval, getJob, getRecommendation, openJobOrder, planStepOrder } from '../db/queries';
import { jobEvents } from '../db/schema';
import { jobWait, readQuotas, type JobWait, type QuotaRow } from '../gate/capacity';
import { estimateStarts, planLines, type JobEta, type LinePlan } from '../gate/eta';
import type { OpenJobStatus } from '../shared/statuses';
import { diedInsideSubmitSql, RETRIED_JOB_STATUSES, RETRIED_STATUSES } from '../services/retry';
import { unknownPostsSql } from '../services/publish-state';

/** When each waiting job should start (estimateStarts), read once per request and shared by its parts. */
type Etas = ReadonlyMap<string, JobEta>;

interface OpenJobRow extends JobWait {
  id: string;
  workflowId: string;
  recommendationId: string | null;
  title: string | null;
  /** The rule that proposed the recommendation (ourData.explanation.rule), when one did. */
  why: string | null;
  step: string;
  jobType: string;
  provider: string;
  priority: string;
  status: OpenJobStatus;
  attempts: number;
  maxAttempts: number;
  createdAt: Date;
  startedAt: Date | null;
  scheduleAfter: Date | null;
  deadline: Date | null;
  /** Place in its provider's line (queued jobs only). */
  position: number | null;
  /** Queued and its activity is waiting for a slot right now. */
  inLine: boolean;
  runningSeconds: number | null;
  isStuck: boolean;
}

export interface ProviderPanel {
  provider: string;
  maxConcurrent: number;
  inUse: number;
  /** Queued jobs whose activity is asking for a slot: the provider's line. */
  waiting: number;
  /** Queued jobs not asking yet (later steps of a plan, scheduled work). */
  planned: number;
  minStartIntervalMs: number;
  lastStartAt: Date | null;
  queued: number;
  processing: number;
  completed24h: number;
  failed24h: number;
  /** completed / (completed + failed) over the last 24 h; null with no finished job. */
  successRate24h: number | null;
  avgRunSeconds24h: number | null;
  avgWaitSeconds24h: number | null;
  costToday: number;
  /** Cost of every job the provider ever ran; null where not asked for (the dashboard's poll). */
  costTotal: number | null;
  stuck: number;
  /** Slots kept by closed jobs whose paid task may still run: cancelled, or failed on a submit whose answer never came. */
  held: Array<{ jobId: string; providerTaskId: string | null; holdUntil: Date | null; status: string }>;
  /** Its quotas and budgets: used of limit, reset, parked. */
  quotas: QuotaRow[];
  /** The waiting job expected to start first on it, with its ETA; null when nothing waits. */
  nextStart: JobEta | null;
}

interface CalendarRow extends JobWait {
  id: string;
  jobType: string;
  provider: string;
  priority: string;
  status: string;
  recommendationId: string | null;
  workflowId: string;
  title: string | null;
  /** Running: its start; waiting: its ETA (now when it has none yet: a later step, or never as configured). */
  plannedAt: Date;
  estimatedEndAt: Date;
  deadline: Date | null;
  /** Drawn as a bar from plannedAt to estimatedEndAt: running, or waiting with an ETA. Otherwise a row for its deadline only. */
  hasBar: boolean;
}

interface FailureRow {
  eventId: number;
  /** 'failed' is final; 'retrying' is an attempt that Temporal will try again. */
  event: 'failed' | 'retrying';
  at: Date;
  error: string | null;
  attempt: number | null;
  jobId: string;
  workflowId: string;
  provider: string;
  jobType: string;
  priority: string;
  title: string | null;
}

const JOB_COLUMNS = `q.id, q.workflow_id AS "workflowId", q.recommendation_id AS "recommendationId", r.title,
  r.our_data->'explanation'->>'rule' AS why,
  q.step, q.job_type AS "jobType", q.api_provider AS provider, q.priority, q.status,
  q.attempts::int, q.max_attempts::int AS "maxAttempts", q.created_at AS "createdAt", q.started_at AS "startedAt",
  q.schedule_after AS "scheduleAfter", q.deadline`;

const OPEN_JOB_ORDER = openJobOrder({ status: 'j.status', inLine: 'j."inLine"', priority: 'j.priority', createdAt: 'j."createdAt"' })
  .map((k) => `${k.expr}${k.desc ? ' DESC' : ''}`)
  .join(', ');

async function openJobs(pool: pg.Pool, etas: Etas): Promise<OpenJobRow[]> {
  const { rows } = await pool.query<Omit<OpenJobRow, keyof JobWait>>(`
    SELECT * FROM (
      SELECT ${JOB_COLUMNS}, q.position::int AS position, q.in_line AS "inLine",
             NULL::float8 AS "runningSeconds", false AS "isStuck"
        FROM queue_pending q LEFT JOIN competitive_recommendations r ON r.id = q.recommendation_id
      UNION ALL
      SELECT ${JOB_COLUMNS}, NULL::int, false, q.running_seconds::float8, coalesce(q.is_stuck, false)
        FROM queue_processing q LEFT JOIN competitive_recommendations r ON r.id = q.recommendation_id
    ) j
    ORDER BY ${OPEN_JOB_ORDER}, ${planStepOrder('j.step')}, j.id`);
  return rows.map((j) => ({ ...j, ...jobWait(etas, j.id) }));
}

const DAY_MS = 86_400_000;

/**
 * Open jobs of the next 24 h; a waiting job at its ETA (the view alone puts it at now or its schedule), and each bar
 * as long as the plan expects its run to take (the view's end is the job's estimate: 300 s bars for renders of 20 s).
 */
async function calendar24h(pool: pg.Pool, plan: LinePlan, now = new Date()): Promise<CalendarRow[]> {
  const { rows } = await pool.query<Omit<CalendarRow, keyof JobWait | 'hasBar'>>(`
    SELECT c.id, c.job_type AS "jobType", c.api_provider AS provider, c.priority, c.status,
           c.recommendation_id AS "recommendationId", c.workflow_id AS "workflowId", r.title,
           c.planned_at AS "plannedAt", c.estimated_end_at AS "estimatedEndAt", c.deadline
      FROM queue_calendar_24h c LEFT JOIN competitive_recommendations r ON r.id = c.recommendation_id
     ORDER BY c.planned_at, c.priority`);
  const horizon = now.getTime() + DAY_MS;
  const soon = (d: Date | null) => d !== null && d.getTime() <= horizon;
  return (
    rows
      .map((c): CalendarRow => {
        const wait = jobWait(plan.starts, c.id);
        const plannedAt = wait.eta ?? c.plannedAt;
        const length = c.estimatedEndAt.getTime() - c.plannedAt.getTime();
        const end = plan.ends.get(c.id) ?? new Date(plannedAt.getTime() + length);
        // No bar for a job that can never start as configured (waitingFor, no ETA) nor for a later step not yet in any
        // line (no waitingFor): nothing says when it starts, and drawn at now it looked as if it ran already (a
        // recommendation's four later steps, solid bars from now, beside its render in line).
        const hasBar = c.status === 'processing' || (wait.waitingFor !== null && wait.eta !== null);
        return { ...c, ...wait, plannedAt, estimatedEndAt: end, hasBar };
      })
      // By its bar's start or its deadline.
      .filter((c) => soon(c.deadline) || (c.hasBar && soon(c.plannedAt)))
      .sort((a, b) => a.plannedAt.getTime() - b.plannedAt.getTime() || a.priority.localeCompare(b.priority))
  );
}

/**
 * One row per provider of the limits table: the gate's view plus the last 24 h
 * of outcomes, its quotas and budgets, and the next start expected (`etas`:
 * estimated here when not given).
 */
export async function providerPanels(pool: pg.Pool, etas?: Etas, opts: { costTotal?: boolean } = {}): Promise<ProviderPanel[]> {
  const [quotas, starts] = await Promise.all([readQuotas(pool), etas ?? estimateStarts(pool)]);
  const next = new Map<string, JobEta>();
  for (const e of starts.values()) {
    const seen = next.get(e.provider);
    // A known ETA beats none (never as configured); the earliest known one wins.
    if (!seen || (e.eta && (!seen.eta || e.eta < seen.eta))) next.set(e.provider, e);
  }
  const { rows } = await pool.query<Omit<ProviderPanel, 'quotas' | 'nextStart'>>(
    `
    SELECT l.provider, c.max_concurrent AS "maxConcurrent", c.in_use AS "inUse", c.waiting, c.planned,
           c.min_start_interval_ms AS "minStartIntervalMs", c.last_start_at AS "lastStartAt",
           s.queued, s.processing, s.completed24h AS "completed24h", s.failed24h AS "failed24h",
           round(s.completed24h::numeric / nullif(s.completed24h + s.failed24h, 0), 4)::float8 AS "successRate24h",
           s.avg_run::float8 AS "avgRunSeconds24h", s.avg_wait::float8 AS "avgWaitSeconds24h",
           s.cost_today::float8 AS "costToday", s.stuck,
           -- Every job the provider ever ran: only for the callers that report it (reports, metrics), not the
           -- dashboard's poll. A subquery in CASE runs only when its branch is taken.
           CASE WHEN $2 THEN (SELECT coalesce(sum(t.cost), 0) FROM automation_queue t WHERE t.api_provider = l.provider)::float8
           END AS "costTotal",
           coalesce((SELECT json_agg(json_build_object('jobId', hs.job_id, 'providerTaskId', hs.provider_task_id,
                                                       'holdUntil', hs.hold_until, 'status', hs.job_status))
                       FROM held_slots hs WHERE hs.provider = l.provider), '[]'::json) AS held
      FROM provider_limits l
      CROSS JOIN LATERAL get_available_capacity(l.provider) c
      CROSS JOIN LATERAL (
        SELECT count(*) FILTER (WHERE q.status = 'queued')::int AS queued,
               count(*) FILTER (WHERE q.status = 'processing')::int AS processing,
               count(*) FILTER (WHERE q.status = 'completed' AND q.completed_at > now() - interval '24 hours')::int AS completed24h,
               count(*) FILTER (WHERE q.status = 'failed' AND q.completed_at > now() - interval '24 hours')::int AS failed24h,
               avg(extract(epoch FROM q.completed_at - q.started_at))
                 FILTER (WHERE q.status = 'completed' AND q.completed_at > now() - interval '24 hours') AS avg_run,
               avg(extract(epoch FROM q.started_at - q.created_at))
                 FILTER (WHERE q.started_at > now() - interval '24 hours') AS avg_wait,
               coalesce(sum(q.cost) FILTER (WHERE q.completed_at >= date_trunc('day', now())), 0) AS cost_today,
               count(*) FILTER (WHERE q.status = 'processing'
                 AND (q.stuck_since IS NOT NULL
                      OR now() - q.started_at > make_interval(secs => 2 * q.estimated_duration_seconds)))::int AS stuck
          FROM automation_queue q
         WHERE q.api_provider = l.provider
           -- The only rows the figures above count (open, or started or ended in the last 24 hours; today is in
           -- them), read through indexes (drizzle/0026): not every job the provider ever ran, every 1.5 s.
           AND (q.status IN ('queued', 'processing') OR q.completed_at > now() - interval '24 hours'
                OR q.started_at > now() - interval '24 hours')) s
     WHERE l.provider = ANY($1)
     ORDER BY array_position($1, l.provider)`,
    [PROVIDERS, opts.costTotal ?? true],
  );
  return rows.map((p) => ({ ...p, quotas: quotas.filter((q) => q.provider === p.provider), nextStart: next.get(p.provider) ?? null }));
}

/** Final failures and retried attempts, newest first, with the error each one carried. */
async function recentFailures(pool: pg.Pool, limit = 20): Promise<FailureRow[]> {
  const { rows } = await pool.query<FailureRow>(
    `
    SELECT e.id::int AS "eventId", e.event, e.created_at AS at, e.detail->>'error' AS error,
           (e.detail->>'attempt')::int AS attempt, q.id AS "jobId", q.workflow_id AS "workflowId",
           q.api_provider AS provider, q.job_type AS "jobType", q.priority, r.title
      FROM job_events e
      JOIN automation_queue q ON q.id = e.job_id
      LEFT JOIN competitive_recommendations r ON r.id = q.recommendation_id
     WHERE e.event IN ('failed', 'retrying')
     ORDER BY e.id DESC
     LIMIT $1`,
    [limit],
  );
  return rows;
}

export interface PartialRow {
  id: string;
  title: string;
  priority: string;
  workflowId: string | null;
  publishedAt: Date | null;
  /** "not published on youtube (…)": each failed platform with its error. */
  error: string | null;
  /** Platforms whose post died inside its request (unknownPostsSql): never posted again without the operator's word. */
  unknownPosts: string[];
}

/** Per idea row `r`, its posts of unknown outcome (unknownPostsSql). */
const UNKNOWN_POSTS_SQL = `ARRAY(${unknownPostsSql('r.id')})`;

/**
 * How long a failed, expired or partly published idea stays an alert with its action: a week, so one that failed on a
 * Friday is still there on Monday (two days, it was gone by then: its message may have been missed, or refused).
 */
const ALERT_WINDOW = `interval '7 days'`;

/** Videos posted on some platforms but not others in the last week: an alert until someone acts. */
async function partiallyPublished(pool: pg.Pool): Promise<PartialRow[]> {
  const { rows } = await pool.query<PartialRow>(
    `SELECT id, title, priority, workflow_id AS "workflowId", published_at AS "publishedAt", error, ${UNKNOWN_POSTS_SQL} AS "unknownPosts"
       FROM competitive_recommendations r
      WHERE status = 'partially_published' AND coalesce(published_at, updated_at) > now() - ${ALERT_WINDOW}
      ORDER BY coalesce(published_at, updated_at) DESC LIMIT 20`,
  );
  return rows;
}

export interface FailedIdeaRow {
  id: string;
  title: string;
  priority: string;
  status: (typeof RETRIED_STATUSES)[number];
  workflowId: string | null;
  failedAt: Date;
  error: string | null;
  /** A render died inside its paid submit: a retry must say what KIE made (`task`) or that it made nothing. */
  needsTask: boolean;
  /** As on a partly published one (UNKNOWN_POSTS_SQL). */
  unknownPosts: string[];
}

/** Ideas that failed or expired in the last week: an alert with its retry until someone acts. */
async function failedIdeas(pool: pg.Pool): Promise<FailedIdeaRow[]> {
  const { rows } = await pool.query<FailedIdeaRow>(
    `SELECT r.id, r.title, r.priority, r.status, r.workflow_id AS "workflowId", r.updated_at AS "failedAt", r.error,
            EXISTS (SELECT 1 FROM automation_queue q
                     WHERE q.workflow_id = r.workflow_id AND q.status = ANY($2) AND q.step NOT LIKE 'publish:%'
                       AND ${diedInsideSubmitSql('q')}) AS "needsTask",
            ${UNKNOWN_POSTS_SQL} AS "unknownPosts"
       FROM competitive_recommendations r
      WHERE r.status = ANY($1) AND r.updated_at > now() - ${ALERT_WINDOW}
      ORDER BY r.updated_at DESC LIMIT 20`,
    [RETRIED_STATUSES, RETRIED_JOB_STATUSES],
  );
  return rows;
}

export interface RefusedMessages {
  channel: string;
  count: number;
  /** The latest refusal: when, why (the webhook's answer) and what it would have said. */
  lastAt: Date;
  reason: string | null;
  message: string | null;
}

/**
 * Messages a webhook refused in the last week, per channel, until a later message on that channel is delivered (its URL
 * works again) or they are themselves: every alert after a revoked URL is lost, and this is where it shows (0061).
 */
async function refusedMessages(pool: pg.Pool): Promise<RefusedMessages[]> {
  const { rows } = await pool.query<RefusedMessages>(
    `SELECT DISTINCT ON (channel) channel, count(*) OVER (PARTITION BY channel)::int AS count, refused_at AS "lastAt",
            refused_reason AS reason, message
       FROM notifications_sent n
      WHERE refused_at IS NOT NULL AND NOT delivered AND refused_at > now() - ${ALERT_WINDOW}
        AND refused_at > coalesce((SELECT max(d.delivered_at) FROM notifications_sent d WHERE d.channel = n.channel), '-infinity')
      ORDER BY channel, refused_at DESC`,
  );
  return rows;
}

/** Everything the dashboard draws, in one round trip per poll. */
export async function dashboardSnapshot(pool: pg.Pool) {
  const now = new Date();
  const plan = await planLines(pool, now);
  const [jobs, calendar, providers, failures, approvals, partial, failed, refused] = await Promise.all([
    openJobs(pool, plan.starts),
    calendar24h(pool, plan, now),
    providerPanels(pool, plan.starts, { costTotal: false }),
    recentFailures(pool),
    awaitingApproval(pool),
    partiallyPublished(pool),
    failedIdeas(pool),
    refusedMessages(pool),
  ]);
  return {
    generatedAt: now,
    jobs,
    stuck: jobs.filter((j) => j.isStuck),
    calendar,
    providers,
    failures,
    approvals,
    partial,
    failed,
    refused,
  };
}

/** One job, its recommendation and its history (job_events), or null. */
export async function jobDetail(db: Db, jobId: string) {
  const job = await getJob(db, jobId);
  if (!job) return null;
  const recommendation = job.recommendationId ? ((await getRecommendation(db, job.recommendationId)) ?? null) : null;
  const history = await db.select().from(jobEvents).where(eq(jobEvents.jobId, jobId)).orderBy(jobEvents.id);
  return { job, recommendation, history };
}
