/**
 * `reelflow retry <id> [--task <taskId> | --resubmit]` (CLI, API, dashboard): a failed or expired idea made again, by a new run
 * of its own workflow. What was done stays done: a completed job (the brief, a rendered segment) hands back its
 * recorded result, and a failed render whose KIE task is recorded resumes that task; nothing is paid twice. The
 * failed and cancelled jobs are reopened by the new run's first step (src/activities/retry.ts).
 *
 * A job whose worker died inside its paid submit (SubmitOutcomeUnknown) may or may not have a task at the provider,
 * so the operator says which it is: `--task` names the task found on KIE's dashboard (checked at KIE, then
 * adopted: followed to its video, not paid again), `--resubmit` says nothing was made there (a new, paid render).
 * Everything is checked before anything changes or starts.
 */
import { WorkflowExecutionAlreadyStartedError } from '@temporalio/client';
import type { Pool } from 'pg';
import { PROVIDER_LIMITS, PROVIDERS, type Provider } from '../config/providers';
import { deadlineFor, type Priority } from '../config/priorities';
import { planStepOrder } from '../db/queries';
import type { Recommendation } from '../db/schema';
import { segmentOfStep } from '../config/reel';
import { videoBriefSchema } from '../content/brief';
import { segmentPrompt } from '../content/script';
import { SUBMIT_KEY_PATTERN } from '../gate/provider-events';
import { ProviderError } from '../providers/errors';
import type { VideoTaskRecord } from '../providers/types';
import { ApiError, BadInputError, ConflictError } from '../shared/errors';
import { oneLine } from '../shared/one-line';
import { RECOMMENDATION_WORKFLOW, recommendationWorkflowId } from '../shared/workflow-ids';
import type { RetryRequest } from '../workflows/recommendation';
import { providerTaskIdSchema, parseInput } from '../validation';
import { recommendationStartOptions } from './recommendation-commands';
import { checkingClient } from './checking-client';
import { postMadeQuery, runningRepublishQuery } from './publish-state';
import type { ServiceDeps } from './recommendations';

/** What the retry does with one job of the idea. */
export type RetryAction =
  /** Completed: its recorded result is used again (not run, not paid again). */
  | 'kept'
  /** Failed or cancelled with a provider task recorded: that task is followed again (not paid again). */
  | 'resumes'
  /** Died inside its paid submit; `--task` names the task it made, followed from now (not paid again). */
  | 'adopts'
  /** Died inside its paid submit; `--resubmit`: nothing was made, a new task is paid for. */
  | 'resubmits'
  /** Failed or cancelled with nothing at the provider: runs again. */
  | 'runs';

export interface RetryStep {
  step: string;
  jobId: string;
  provider: Provider;
  action: RetryAction;
  /** The provider task it resumes or adopts. */
  taskId?: string;
  /** An adopted task: how KIE's record of it matched the job. */
  matchedBy?: AdoptEvidence;
}

/**
 * How an adopted task was matched to its job: its callback URL names the job's submit, or (made without one) its
 * prompt is the job's; 'unchecked' when KIE's record says neither (taken on the operator's word).
 */
export type AdoptEvidence = 'callback key' | 'prompt' | 'unchecked';

export interface RetryStarted {
  recommendationId: string;
  workflowId: string;
  runId: string;
  /** The deadline of the new run: the old one when still ahead, else a fresh window from now (null for P3). */
  deadline: string | null;
  steps: RetryStep[];
}

interface JobRow {
  id: string;
  step: string;
  apiProvider: Provider;
  status: string;
  providerTaskId: string | null;
  submitAttemptedAt: Date | null;
}

/** What a brief's renders are made from; briefs written before reels have no segments. */
const promptsSchema = videoBriefSchema.pick({ videoPrompt: true }).extend({ segments: videoBriefSchema.shape.segments.optional() });

/** Two prompts are the same text whatever their whitespace (a record may re-space it). */
function sameText(a: string, b: string): boolean {
  return oneLine(a) === oneLine(b);
}

/** The start of a prompt, for a message. */
function head(text: string): string {
  return oneLine(text, 80);
}

/** Ideas a retry makes again: those that ended without their video (not a rejected one: an editor said no). */
export const RETRIED_STATUSES = ['failed', 'expired'] as const;

/** Reopened by a retry: the jobs that did not end well. */
export const RETRIED_JOB_STATUSES = ['failed', 'cancelled'] as const;

/** Providers where a second submit could be a second payment (or a second public post). */
const UNREPEATABLE: readonly Provider[] = PROVIDERS.filter((p) => !PROVIDER_LIMITS[p].submitRepeatable);

/**
 * A retried job whose attempt died inside its paid submit: no task recorded, the submit marked as gone out, on a
 * provider where submitting again could pay twice. diedInsideSubmitSql is the same test in SQL, on the row `q`.
 */
export function diedInsideSubmit(job: { apiProvider: string; providerTaskId: string | null; submitAttemptedAt: unknown }): boolean {
  return !job.providerTaskId && job.submitAttemptedAt != null && (UNREPEATABLE as readonly string[]).includes(job.apiProvider);
}
export function diedInsideSubmitSql(q: string): string {
  const providers = UNREPEATABLE.map((p) => `'${p}'`).join(', ');
  return `(${q}.provider_task_id IS NULL AND ${q}.submit_attempted_at IS NOT NULL AND ${q}.api_provider IN (${providers}))`;
}

/** The idea's own workflow's jobs, in plan order. */
async function jobsOf(pool: Pool, workflowId: string): Promise<JobRow[]> {
  const { rows } = await pool.query<JobRow>(
    `SELECT id, step, api_provider AS "apiProvider", status, provider_task_id AS "providerTaskId",
            submit_attempted_at AS "submitAttemptedAt"
       FROM automation_queue WHERE workflow_id = $1 ORDER BY ${planStepOrder('step')}, created_at`,
    [workflowId],
  );
  return rows;
}

function actionOf(job: JobRow, opts: { adopt?: string; resubmit: boolean; evidence?: AdoptEvidence }): RetryStep {
  const base = { step: job.step, jobId: job.id, provider: job.apiProvider };
  if (job.status === 'completed') return { ...base, action: 'kept' };
  if (job.providerTaskId) return { ...base, action: 'resumes', taskId: job.providerTaskId };
  if (diedInsideSubmit(job)) {
    return opts.adopt ? { ...base, action: 'adopts', taskId: opts.adopt, matchedBy: opts.evidence } : { ...base, action: 'resubmits' };
  }
  return { ...base, action: 'runs' };
}

export function createRetryCommands(deps: ServiceDeps, resolve: (ref: string) => Promise<Recommendation>) {
  const { pool } = deps.database;
  const now = deps.now ?? (() => new Date());

  /**
   * The task named by `--task`, as KIE sees it: refused unless it exists, has not failed, and was made for this job.
   * KIE's record says what the task was made from: a callback URL naming another job's submit, or (without one) a
   * prompt that is not the one this job sends, is a task made for something else (another idea that died inside its
   * submit, a render made by hand on KIE's site). Its video posted under this idea would be a video nobody approved
   * for it. Returns how the task was matched to the job.
   */
  async function checkAtKie(taskId: string, job: JobRow, workflowId: string): Promise<AdoptEvidence> {
    const veo3 = checkingClient(deps.veo3, 'task', 'KIE');
    let task: VideoTaskRecord;
    try {
      task = await veo3.describeTask(taskId);
    } catch (err) {
      if (err instanceof ProviderError && err.details.status !== undefined && err.details.status < 500 && err.kind !== 'rate_limited') {
        throw new BadInputError(`task: KIE does not know task ${taskId} (${err.message}); nothing changed`);
      }
      throw new ApiError(502, `task: could not ask KIE about task ${taskId} (${(err as Error).message}); nothing changed, try again`);
    }
    const { status, madeFrom } = task;
    if (status.state === 'failed') {
      throw new BadInputError(
        `task: KIE says task ${taskId} failed (${status.code}: ${status.message}); nothing to adopt. ` +
          'Retry with --resubmit to pay for a new render.',
      );
    }
    const keyed = madeFrom?.callbackKey ? SUBMIT_KEY_PATTERN.exec(madeFrom.callbackKey)?.[1] : undefined;
    if (keyed === job.id) return 'callback key';
    if (keyed) {
      const { rows } = await pool.query<{ step: string; recommendation_id: string | null }>(
        'SELECT step, recommendation_id FROM automation_queue WHERE id = $1',
        [keyed],
      );
      const whose = rows[0]
        ? `job ${keyed}'s submit (${rows[0].step} of recommendation ${rows[0].recommendation_id})`
        : `job ${keyed}'s submit`;
      throw new BadInputError(`task: KIE made task ${taskId} for ${whose}, not for ${job.step} (job ${job.id}); nothing changed`);
    }
    if (madeFrom?.prompt === undefined) return 'unchecked';
    const expected = await promptOf(job, workflowId);
    if (expected === null) return 'unchecked';
    if (sameText(madeFrom.prompt, expected)) return 'prompt';
    throw new BadInputError(
      `task: KIE made task ${taskId} from another prompt ("${head(madeFrom.prompt)}") than ${job.step} sends ` +
        `("${head(expected)}"): a render made for something else; nothing changed. Look for the task made from this ` +
        "prompt, or retry with --resubmit to pay for a new render. If KIE's record shows this task's prompt rewritten " +
        '(translated), set KIE_PARAMJSON_PROMPT=unreliable on the API and CLI to check tasks by their callback key alone',
    );
  }

  /** The prompt the job's render sends: from the idea's brief (its analysis, kept by the retry). */
  async function promptOf(job: JobRow, workflowId: string): Promise<string | null> {
    const { rows } = await pool.query<{ result: unknown }>(
      `SELECT result FROM automation_queue WHERE workflow_id = $1 AND step = 'analyze' AND status = 'completed'`,
      [workflowId],
    );
    const brief = promptsSchema.safeParse(rows[0]?.result);
    if (!brief.success) return null;
    const segment = segmentOfStep(job.step);
    if (segment === null) return brief.data.videoPrompt;
    const script = brief.data.segments?.[segment - 1];
    return script ? segmentPrompt(script) : null;
  }

  return {
    async retry(ref: string, opts: { by: string; task?: string; resubmit?: boolean }): Promise<RetryStarted> {
      const adopt = opts.task === undefined ? undefined : parseInput(providerTaskIdSchema, opts.task, 'task');
      const resubmit = opts.resubmit === true;
      if (adopt && resubmit) throw new BadInputError('task and resubmit exclude each other: adopt the task KIE made, or pay for a new one');
      const rec = await resolve(ref);
      if (!(RETRIED_STATUSES as readonly string[]).includes(rec.status)) {
        throw new ConflictError(`recommendation ${rec.id} is ${rec.status}: only a failed or expired idea is retried`);
      }
      const republish = (await deps.database.db.execute(runningRepublishQuery(rec.id))).rows[0];
      if (republish) throw new ConflictError(`a republish of ${rec.id} is running (${republish.workflow_id}); wait for it to end`);
      const posted = (await deps.database.db.execute(postMadeQuery(rec.id))).rows[0];
      if (posted)
        throw new ConflictError(`${rec.id} has a post (${posted.step}) its status does not show yet; wait for its republish to end`);
      const workflowId = recommendationWorkflowId(rec.id);
      const jobs = await jobsOf(pool, workflowId);
      const unknown = jobs.filter((j) => (RETRIED_JOB_STATUSES as readonly string[]).includes(j.status) && diedInsideSubmit(j));
      const named = unknown.map((j) => `${j.step} (${j.apiProvider}, job ${j.id})`).join(', ');
      if (!unknown.length && (adopt || resubmit)) {
        throw new BadInputError(
          `${adopt ? 'task' : 'resubmit'}: no job of ${rec.id} died inside its paid submit, so there is nothing to ` +
            `${adopt ? 'adopt' : 'pay again for'}; \`reelflow retry ${rec.id}\` alone retries it`,
        );
      }
      if (unknown.length && !adopt && !resubmit) {
        throw new BadInputError(
          `task: ${named} died inside its paid submit, so the provider may have made (and billed) it. Look on the ` +
            `provider's dashboard: found it, \`reelflow retry ${rec.id} --task <taskId>\` follows it without paying again; ` +
            `nothing there, \`reelflow retry ${rec.id} --resubmit\` pays for a new one`,
        );
      }
      let evidence: AdoptEvidence | undefined;
      if (adopt) {
        if (unknown.length > 1) {
          throw new BadInputError(`task: ${named} each died inside a submit; one task cannot be all of theirs. Use --resubmit`);
        }
        if (unknown[0]!.apiProvider !== 'veo3') {
          throw new BadInputError(
            `task: ${named} is a ${unknown[0]!.apiProvider} post, and only a VEO3 render adopts a task. The post is on ` +
              `${unknown[0]!.apiProvider}: \`reelflow republish ${rec.id} --platform ${unknown[0]!.apiProvider} --post <postId>\` ` +
              'records it; it is not: --resubmit posts again',
          );
        }
        const { rows: owner } = await pool.query<{ id: string; step: string; recommendation_id: string | null }>(
          `SELECT id, step, recommendation_id FROM automation_queue WHERE api_provider = 'veo3' AND provider_task_id = $1 LIMIT 1`,
          [adopt],
        );
        if (owner[0]) {
          throw new BadInputError(
            `task: ${adopt} is already job ${owner[0].id}'s (${owner[0].step} of recommendation ${owner[0].recommendation_id})`,
          );
        }
        evidence = await checkAtKie(adopt, unknown[0]!, workflowId);
      }
      // A retry after the deadline gets a fresh window from now, as a new idea of its priority would.
      const at = now();
      const deadline = rec.urgencyDeadline && rec.urgencyDeadline > at ? rec.urgencyDeadline : deadlineFor(rec.priority as Priority, at);
      const steps = jobs.map((j) => actionOf(j, { adopt, resubmit, evidence }));
      const adopted = steps.find((s) => s.action === 'adopts');
      const request: RetryRequest = {
        by: opts.by,
        deadline: deadline?.toISOString() ?? null,
        ...(adopted ? { adopt: { jobId: adopted.jobId, taskId: adopted.taskId! } } : {}),
        ...(resubmit ? { resubmit: true } : {}),
      };
      try {
        const handle = await deps.client.workflow.start(
          RECOMMENDATION_WORKFLOW,
          recommendationStartOptions(
            { ...rec, urgencyDeadline: deadline },
            deps.taskQueue,
            [{ recommendationId: rec.id, retry: request }],
            {
              // Never beside a running one; the row's status (checked above, and again by the run's first step) is what
              // allows it after a closed one (an expired idea's run completed).
              workflowIdReusePolicy: 'ALLOW_DUPLICATE',
              workflowIdConflictPolicy: 'FAIL',
            },
          ),
        );
        return { recommendationId: rec.id, workflowId, runId: handle.firstExecutionRunId, deadline: request.deadline, steps };
      } catch (err) {
        if (err instanceof WorkflowExecutionAlreadyStartedError) {
          throw new ConflictError(`recommendation ${rec.id} already has a run of ${workflowId} going (a retry started meanwhile?)`);
        }
        throw err;
      }
    },
  };
}
