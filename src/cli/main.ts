#!/usr/bin/env node
/**
 * reelflow: the operators' command line.
 *   reelflow enqueue --title "..." --type player_spotlight --priority P1 [--player X] [--platforms instagram,tiktok]
 *                    [--schedule-after ISO] [--deadline ISO] [--config JSON] [--our-data JSON]
 *   reelflow enqueue --recommendation <id>      start the workflow of an existing recommendation
 *   reelflow list [--status S] [--priority P] [--limit N]   recommendations: open ones most urgent first, then the newest
 *   reelflow list --jobs [--status S,S] [--priority P] [--provider X] [--limit N]   open jobs as the dashboard's queue (running,
 *                    in line order, not asking yet) with ETAs, then the newest
 *   reelflow status <id>                         recommendation, its jobs (when each waiting one should start), history, workflow
 *   reelflow cancel <id> [<id> ...] [--reason text]
 *   reelflow reprioritise <id> <P0|P1|P2|P3>
 *   reelflow approve|reject <id> [--note text] [--stage render|publish] [--review id]   decide what waits for approval
 *   reelflow republish <id> [--platform instagram|tiktok|youtube]   post the archived video again, no new render
 *                    (without --platform: the platforms whose posts failed; a platform it is posted on: a second copy,
 *                    only with --again; --post <postId>: a post the platform made though its publish failed, recorded
 *                    instead of posted again)
 *   reelflow retry <id> [--task <taskId> | --resubmit]   make a failed or expired idea again: what is done is kept, nothing paid twice
 *                    (a render that died inside its paid submit: --task adopts the task found on KIE, --resubmit pays anew)
 *   reelflow capacity [provider] [--workflow]   slots, lines, and each quota and budget: used/limit, reset, parked
 *                    (--workflow: the slot numbers through the capacity workflow's update)
 *   reelflow workers                             live workers per task queue (Temporal's pollers); exit 1 if a queue has none
 *   reelflow bargains [--limit N]                the daily bargains now: best points per million, one P1 chollo each (once a day)
 *   reelflow breaking --title "..." [--player X] [--platforms instagram,tiktok]   a P0 breaking-news video (24 h deadline)
 *   reelflow schedule create|pause|unpause|trigger|describe [hourly|bargains|players] [note]   (default: the hourly one; create: all)
 *                    trigger names the workflow it started (or the run in progress that made SKIP drop it)
 *   reelflow roster load <file.json|file.csv>    our players, prices and form (BargainAnalyzer / API-Sports shape)
 *   reelflow players sync [--season YYYY] [--force]   API-Football stats, injuries and fixtures into the roster now
 *   reelflow players unmatched                   API players the last sync could not tie to one roster row
 *   reelflow names unknown [--limit N] | alias "<mention>" <player>   names nobody could resolve; teach one
 *   reelflow competitor ingest [file]            transcribe and analyse competitor videos (default: the shipped sample)
 *   reelflow competitor add <youtube|instagram|manual> <handle|channel id|URL> [--name N] | list | remove <channel>
 *                    | check <channel> (now; prints what it found) | add-video <url> [--name N]   watched channels, one-off videos
 *   reelflow recommendations generate [--limit lookbackDays] | stats
 *   reelflow performance [--since 7d|2026-11-01] [--type T] [--platform P]   how each published video does (default 30 days)
 *   reelflow token:create --name N --role read|operator   an API token, printed once | token:list | token:revoke <id>
 * <id> is a recommendation id, a job id or a workflow id. --json prints machine-readable output.
 * Each command takes only the flags listed for it (src/cli/flags.ts); any other flag is an error.
 * Exit codes: 0 ok, 2 bad input, unknown id or a flag the command does not take, 1 anything else (server down...).
 * With the Temporal server down, list, status (its workflow shown as unknown) and capacity still answer from
 * PostgreSQL, with a warning on stderr; the rest exit 1.
 */
import { readFileSync } from 'node:fs';
import { loadEnv } from '../config/env';
import { isPublishPlatform, PUBLISH_PLATFORMS } from '../config/providers';
import { connectDatabase } from '../db/client';
import { createProviders } from '../providers';
import { createRecommendationService, type RecommendationService } from '../services/recommendations';
import {
  diedInsideSubmit,
  RETRIED_JOB_STATUSES,
  RETRIED_STATUSES,
  type AdoptEvidence,
  type RetryAction,
  type RetryStarted,
  type RetryStep,
} from '../services/retry';
import { connectTemporal, connectTemporalOrLater } from '../temporal/client';
import { queueWorkers } from '../temporal/queue-workers';
import { enqueueRecommendationSchema, ideaRefSchema, listJobsQuerySchema, listRecommendationsQuerySchema, parseInput } from '../validation';
import { BadInputError } from '../shared/errors';
import { temporalWorkflowUrl } from '../shared/temporal-ui';
import { parseRecommendationWorkflowId } from '../shared/workflow-ids';
import type { ApprovalReview, ApprovalStage, RecommendationState } from '../shared/messages';
import type { ApprovalDecisionRecord } from '../activities/approval';

type ApprovalDecisionRow = Pick<ApprovalDecisionRecord, 'stage' | 'platforms' | 'decision' | 'by' | 'note' | 'at'>;
import { auditCliCommand, auditCliOutcome, cliActor, isRefusal } from './audit';
import { extraCommands } from './extra-commands';
import { parseCommandLine, type FlagName, type FlagValues } from './flags';
import { clockTime, describeWait, fromNow, printTable, terminalSafe } from './format';
import type { QuotaRow } from '../gate/capacity';
import { runningDemoEnv } from '../demo/instance';

type Values = FlagValues;

function parseJsonFlag(name: string, raw: string | undefined): unknown {
  if (raw === undefined) return undefined;
  try {
    return JSON.parse(raw);
  } catch {
    throw new BadInputError(`--${name} is not valid JSON`);
  }
}

function enqueueInput(v: Values): unknown {
  const config = (parseJsonFlag('config', v.config) ?? {}) as Record<string, unknown>;
  if (v.platforms !== undefined) config.platforms = v.platforms.split(',').map((s) => s.trim());
  const input = {
    ...Object.fromEntries(Object.entries(ENQUEUE_FIELD_FLAGS).map(([field, flag]) => [field, v[flag]])),
    ourData: parseJsonFlag('our-data', v['our-data']),
    jobConfig: config,
  };
  // Checked here so bad input fails before any server is touched; the service parses the raw
  // input itself (its output, with Dates, is not valid input a second time).
  parseInput(enqueueRecommendationSchema, input, 'enqueue', (path) => enqueueFlag(path, v.platforms !== undefined));
  return input;
}

/** The enqueue input's fields that a flag sets as typed, by that flag (its JSON ones and --platforms: enqueueInput). */
const ENQUEUE_FIELD_FLAGS = {
  title: 'title',
  type: 'type',
  priority: 'priority',
  targetPlayer: 'player',
  scheduleAfter: 'schedule-after',
  deadline: 'deadline',
  source: 'source',
} as const satisfies Record<string, FlagName>;

/** Every enqueue field by its flag; jobConfig's platforms are --platforms' when that flag was given. */
const ENQUEUE_FLAG_OF: Record<string, FlagName> = { ...ENQUEUE_FIELD_FLAGS, ourData: 'our-data', jobConfig: 'config' };

/** A wrong field named by the flag the user typed: `--platforms item 2`, not the API's `jobConfig.platforms.1`. */
function enqueueFlag(path: ReadonlyArray<string | number>, platformsFlag: boolean): string {
  const [field, ...rest] = path.map(String);
  if (field === 'jobConfig' && rest[0] === 'platforms' && platformsFlag) {
    return rest[1] === undefined ? '--platforms' : `--platforms item ${Number(rest[1]) + 1}`;
  }
  const flag = ENQUEUE_FLAG_OF[field!];
  if (!flag) return path.join('.');
  return rest.length ? `--${flag} ${rest.join('.')}` : `--${flag}`;
}

/** Commands PostgreSQL answers on its own (status but for its workflow's state; capacity but --workflow). */
const DATABASE_READS = ['list', 'status', 'capacity'];

/** The words a command of this file reads after its name (cancel: any number of ids; the others' own files check theirs). */
const MOST_ARGUMENTS: Partial<Record<string, number>> = {
  enqueue: 0,
  list: 0,
  status: 1,
  reprioritise: 2,
  approve: 1,
  reject: 1,
  republish: 1,
  retry: 1,
  capacity: 1,
  workers: 0,
};

async function run(argv: string[]): Promise<number> {
  const { command, args, values: v } = parseCommandLine(argv);
  if (!command || v.help) {
    // The usage text is this file's opening doc comment, so it cannot drift from the code beside it.
    const usage = readFileSync(__filename, 'utf8').match(/\/\*\*([\s\S]*?)\*\//)![1]!;
    console.log(usage.replace(/^ \* ?/gm, ''));
    return command ? 0 : 2;
  }
  // Beside a running `npm start`: its simulators, as for its workers (the database and Temporal are its already).
  const env = loadEnv({ ...runningDemoEnv(), ...process.env });
  const out = (data: unknown, human: () => void) => (v.json ? console.log(JSON.stringify(data, null, 2)) : human());

  // Validate what can be validated before touching any server.
  if (command === 'enqueue' && v.recommendation) {
    const extra = (Object.keys(v) as Array<keyof Values>).find((k) => k !== 'recommendation' && k !== 'json' && v[k] !== undefined);
    if (extra) throw new BadInputError(`enqueue --recommendation starts an existing recommendation as it is; --${extra} would be ignored`);
  }
  const most = MOST_ARGUMENTS[command];
  if (most !== undefined && args.length > most) {
    // `approve <id> "looks good"` dropped the note, `reject <id> publish` the stage guard: what is not read is refused.
    const takes = most ? `at most ${most} argument${most > 1 ? 's' : ''}` : 'no arguments';
    throw new BadInputError(`${command} takes ${takes} (got "${args[most]}"); see \`reelflow --help\``);
  }
  const needId = ['status', 'cancel', 'reprioritise', 'approve', 'reject', 'republish', 'retry'].includes(command);
  if (needId && !args[0]) throw new BadInputError(`${command} needs an id (recommendation, job or workflow id)`);
  // The service checks it too, but only after connecting: with a server down, a typo read as an outage. (Several
  // ids to cancel are reported one by one, a bad one among the rest.)
  if (needId && !(command === 'cancel' && args.length > 1)) parseInput(ideaRefSchema, parseRecommendationWorkflowId(args[0]!), 'id');
  if (command === 'reprioritise' && !args[1]) throw new BadInputError('reprioritise needs a priority: P0, P1, P2 or P3');
  if (command === 'republish' && v.platform !== undefined && !isPublishPlatform(v.platform)) {
    throw new BadInputError(`--platform must be one of ${PUBLISH_PLATFORMS.join(', ')} (got ${JSON.stringify(v.platform)})`);
  }
  const input = command === 'enqueue' && !v.recommendation ? enqueueInput(v) : undefined;
  if (command === 'list' && v.provider && !v.jobs) throw new BadInputError('list: --provider filters jobs; add --jobs');
  const listFlags = { status: v.status, priority: v.priority, limit: v.limit, ...(v.jobs ? { provider: v.provider } : {}) };
  const jobFilters = command === 'list' && v.jobs ? parseInput(listJobsQuerySchema, listFlags, 'list') : undefined;
  const recommendationFilters = command === 'list' && !v.jobs ? parseInput(listRecommendationsQuerySchema, listFlags, 'list') : undefined;

  const database = connectDatabase(env.DATABASE_URL, { max: 2 });
  let audited = false;
  try {
    await database.pool.query('SELECT 1').catch((err: Error) => {
      throw new Error(`cannot reach PostgreSQL at DATABASE_URL (${err.message}); is it running? \`npm run db:migrate\` creates the schema`);
    });
    // One place for every command: a change that cannot be audited does not happen.
    audited = await auditCliCommand(database.db, command, args, v);
    const extra = extraCommands[command];
    if (extra) return await extra({ env, database, args, values: v, out });
    // What PostgreSQL answers alone still works while Temporal is down: an outage is when an operator needs the queue.
    // (These reads never call the client; status is told to leave its workflow out.)
    const readsOnly = DATABASE_READS.includes(command) && !v.workflow;
    const { client, down: temporalDown } = readsOnly
      ? await connectTemporalOrLater(env.TEMPORAL_ADDRESS, env.TEMPORAL_NAMESPACE)
      : { client: await connectTemporal(env.TEMPORAL_ADDRESS, env.TEMPORAL_NAMESPACE), down: undefined };
    if (temporalDown) console.error(`reelflow: ${temporalDown}; showing what PostgreSQL holds`);
    const service: RecommendationService = createRecommendationService({
      database,
      client,
      taskQueue: env.REELFLOW_TASK_QUEUE,
      veo3: () => createProviders(env).veo3,
      publisher: (platform) => createProviders(env)[platform],
    });
    switch (command) {
      case 'enqueue': {
        const result = v.recommendation ? await service.start(v.recommendation) : await service.enqueue(input);
        const webUi = temporalWorkflowUrl({ uiUrl: env.TEMPORAL_UI_URL, namespace: env.TEMPORAL_NAMESPACE, workflowId: result.workflowId });
        out(result, () =>
          console.log(
            `${result.started ? 'enqueued' : 'already enqueued'} ${result.recommendation.id} ` +
              `(${result.recommendation.priority}) as workflow ${result.workflowId}\n` +
              `  Web UI: ${webUi}`,
          ),
        );
        break;
      }
      case 'list': {
        if (jobFilters) {
          const jobs = await service.listJobs(jobFilters);
          out(jobs, () =>
            printTable(
              jobs.map((j) => ({
                id: j.id,
                priority: j.priority,
                status: j.status,
                type: j.jobType,
                provider: j.apiProvider,
                attempts: `${j.attempts}/${j.maxAttempts}`,
                eta: describeWait(j, new Date(), true),
                error: j.error ?? '',
              })),
            ),
          );
        } else {
          const recs = await service.listRecommendations(recommendationFilters!);
          out(recs, () =>
            printTable(
              recs.map((r) => ({
                id: r.id,
                priority: r.priority,
                status: r.status,
                type: r.recommendationType,
                title: r.title.slice(0, 50),
                deadline: r.urgencyDeadline?.toISOString() ?? '',
              })),
            ),
          );
        }
        break;
      }
      case 'status': {
        const s = { ...(await service.status(args[0]!, { workflow: !temporalDown })), ...(temporalDown ? { temporalDown } : {}) };
        out(s, () => {
          const r = s.recommendation;
          console.log(`${r.id}  ${r.priority}  ${r.status}  ${r.recommendationType}\n  ${terminalSafe(r.title)}`);
          if (r.error) console.log(`  error: ${terminalSafe(r.error)}`);
          // Renders that ended inside their submit (one in a submit now is not: its answer may still come).
          const unknownRenders = s.jobs.some(
            (j) => (RETRIED_JOB_STATUSES as readonly string[]).includes(j.status) && !j.step.startsWith('publish:') && diedInsideSubmit(j),
          );
          // What it takes to make it again (docs/operations.md, "Retrying a failed idea"); a post that died is settled
          // by the line below it (a plain retry is refused while one is unknown).
          if ((RETRIED_STATUSES as readonly string[]).includes(r.status) && (unknownRenders || !s.unknownPosts.length)) {
            const task = unknownRenders ? ' --task <taskId found on the provider> | --resubmit' : '';
            console.log(`  make it again: reelflow retry ${r.id}${task}`);
          }
          // A post whose request died unanswered may be live: posting again could post twice.
          for (const platform of s.unknownPosts) {
            console.log(
              `  ${platform} post unknown (its request died unanswered): on ${platform}, reelflow republish ${r.id} --platform ` +
                `${platform} --post <postId>; not there, reelflow republish ${r.id} --platform ${platform}`,
            );
          }
          const explanation = (r.ourData as { explanation?: { rule: string; because: string[] } } | null)?.explanation;
          if (explanation) {
            console.log(`  why: ${terminalSafe(explanation.rule)}`);
            for (const line of explanation.because) console.log(`    - ${terminalSafe(line)}`);
          }
          const approval = r.approval as { waiting?: ApprovalReview | null; decisions?: ApprovalDecisionRow[] } | null;
          if (approval?.waiting) {
            const w = approval.waiting;
            const where = w.workflowId ? ` in ${w.workflowId}, before posting on ${w.platforms.join(', ')}` : '';
            console.log(
              `  waiting for approval (${w.stage}${where}) since ${w.requestedAt}: reelflow approve|reject ${r.id}` +
                `${w.id ? ` --review ${w.id}` : ''} [--note text]`,
            );
            console.log(`    caption: ${terminalSafe(w.caption).replace(/\n/g, ' ')}`);
            if (w.videoUrl) console.log(`    video: ${terminalSafe(w.videoUrl)}`);
          }
          for (const d of approval?.decisions ?? []) {
            const verdict = d.decision === 'approve' ? 'approved' : 'rejected';
            const on = d.stage === 'publish' && d.platforms ? `: ${d.platforms.join(', ')}` : '';
            console.log(`  ${d.at}  ${verdict} (${d.stage}${on}) by ${terminalSafe(d.by)}${d.note ? `: ${terminalSafe(d.note)}` : ''}`);
          }
          const workflow = s.workflow ? `${s.workflow.status}${s.workflow.state ? ` (${phaseText(s.workflow.state)})` : ''}` : 'none';
          console.log(`  workflow: ${temporalDown ? 'unknown (the Temporal server is unreachable)' : workflow}`);
          if (s.video) {
            const v = s.video;
            const what = `${v.bytes} bytes, ${v.durationSeconds.toFixed(1)} s, sha256 ${v.sha256.slice(0, 12)}…`;
            const again = `reelflow republish ${r.id} [--platform P [--again]]`;
            console.log(`  video: ${v.storage} ${v.storageKey} (${what}), post it again: ${again}`);
          }
          // What the idea cost: every paid job's, a reel's segments each (the assembly is ours and free).
          const costs = s.jobs.filter((j) => j.cost !== null);
          const segments = s.jobs.filter((j) => j.step.startsWith('generate:')).length;
          if (costs.length) {
            const total = costs.reduce((sum, j) => sum + Number(j.cost), 0);
            console.log(`  cost: ${total} credits${segments ? ` (${segments} segments)` : ''}`);
          }
          printTable(
            s.jobs.map((j) => ({
              job: j.id,
              step: j.step,
              status: j.status,
              provider: j.apiProvider,
              attempts: `${j.attempts}/${j.maxAttempts}`,
              task: j.providerTaskId ?? '',
              cost: j.cost ?? '',
              error: j.error ?? '',
            })),
          );
          const now = new Date();
          for (const j of s.jobs) {
            const wait = describeWait(j, now);
            // The gate never starts a job past its deadline: worth knowing while the quota can still be raised.
            const late =
              j.eta && j.deadline && j.eta > j.deadline ? `, after its deadline ${clockTime(j.deadline, now)}: expires unstarted` : '';
            if (wait) console.log(`  ${j.step}: ${wait}${late}`);
            else if (j.status === 'queued') console.log(`  ${j.step}: planned, asks for a slot when the steps before it are done`);
          }
          // Each event with its job's step: the jobs of one idea run side by side, and their events interleave.
          const stepOf = new Map(s.jobs.map((j) => [j.id, j.step]));
          const stepWidth = Math.max(0, ...s.jobs.map((j) => j.step.length));
          for (const e of s.events) {
            const detail = e.detail && Object.keys(e.detail).length ? `  ${JSON.stringify(e.detail)}` : '';
            const step = (e.jobId ? (stepOf.get(e.jobId) ?? '-') : '-').padEnd(stepWidth);
            console.log(`  ${e.createdAt.toISOString()}  ${step}  ${e.event}${detail}`);
          }
        });
        break;
      }
      case 'cancel': {
        if (args.length === 1) {
          const rec = await service.cancel(args[0]!, v.reason);
          out({ cancelled: rec.id }, () => console.log(`cancellation requested for ${rec.id}`));
          break;
        }
        // Several: all their jobs leave their lines in a few short transactions, then each workflow is asked to cancel.
        const outcomes = await service.cancelMany(args, v.reason);
        const failed = outcomes.filter((o) => !o.cancelled);
        out(outcomes, () => {
          console.log(`cancellation requested for ${outcomes.length - failed.length} of ${outcomes.length}`);
          for (const f of failed) console.log(`  ${f.ref}: ${f.error}`);
        });
        if (failed.length) {
          // Exit 1 (it used to set process.exitCode, which the exit with run's 0 overwrote). Nothing was thrown: the row
          // that says what was asked gets its outcome here, as a failed command's does.
          const what = failed.map((f) => `${f.ref}: ${f.error}`).join('; ');
          if (audited)
            await auditCliOutcome(database.db, command, args, new Error(`${failed.length} of ${outcomes.length} not cancelled: ${what}`));
          await client.connection.close();
          return 1;
        }
        break;
      }
      case 'approve':
      case 'reject': {
        const state = await service.decide(args[0]!, command, {
          by: cliActor(),
          note: v.note,
          stage: v.stage as ApprovalStage | undefined,
          ...(v.review !== undefined ? { reviewId: v.review } : {}),
        });
        // The answer comes once the decision is recorded, before the workflow's next step may show: its phase can still
        // read awaiting_approval with nothing waiting ("approved: … is now awaiting_approval" read as not approved), and
        // a rejected republish passes through publishing on its way to its end.
        const next = state.approval
          ? `; the ${state.approval.stage} approval waits now`
          : command === 'reject' || state.phase === 'awaiting_approval'
            ? ''
            : `; now ${state.phase}`;
        out(state, () => console.log(`${command === 'approve' ? 'approved' : 'rejected'}: ${state.recommendationId}${next}`));
        break;
      }
      case 'republish': {
        const started = await service.republish(args[0]!, {
          by: cliActor(),
          ...(v.platform ? { platform: v.platform } : {}),
          ...(v.post !== undefined ? { post: v.post } : {}),
          ...(v.again ? { again: true } : {}),
        });
        const what = started.adopted
          ? `recording the ${started.platforms[0]} post ${started.adopted} for ${started.recommendationId}` +
            (started.unchecked ? ` (not checked: ${started.unchecked})` : '')
          : `republishing ${started.recommendationId} on ${started.platforms.join(', ')}`;
        out(started, () => console.log(`${what}: workflow ${started.workflowId}`));
        break;
      }
      case 'retry': {
        const started = await service.retry(args[0]!, { by: cliActor(), task: v.task, resubmit: v.resubmit });
        out(started, () => printRetry(started));
        break;
      }
      case 'reprioritise': {
        const state = await service.reprioritise(args[0]!, args[1]!);
        out(state, () => console.log(`${state.recommendationId} is now ${state.priority} (phase ${state.phase})`));
        break;
      }
      case 'capacity': {
        const rows = v.workflow ? await service.capacityFromWorkflow(args[0]) : await service.capacity(args[0]);
        out(rows, () =>
          printTable(
            rows.map((r) => ({
              provider: r.provider,
              in_use: r.inUse,
              cap: r.maxConcurrent,
              free: r.free,
              waiting: r.waiting,
              planned: r.planned,
              spacing_ms: r.minStartIntervalMs,
            })),
          ),
        );
        if (!v.json && !v.workflow) {
          const quotas = rows.flatMap((r) => ('quotas' in r ? r.quotas : []));
          console.log(`\nquotas and budgets${quotas.length ? '' : ': none configured'}`);
          if (quotas.length) printTable(quotas.map((q) => quotaCells(q)));
        }
        break;
      }
      case 'workers': {
        const queues = await queueWorkers(client, env.REELFLOW_TASK_QUEUE);
        out(queues, () =>
          printTable(
            queues.map((w) => ({
              task_queue: w.taskQueue,
              workers: w.workers,
              last_poll: w.lastSeenAt?.toISOString() ?? 'never',
              identities: w.identities.join(' '),
            })),
          ),
        );
        const unserved = queues.filter((w) => w.workers === 0);
        if (unserved.length) {
          // Exit 1 so a cron job or health check can page someone: these jobs wait and nothing looks late.
          const start = unserved.length === queues.length ? 'npm run worker' : `npm run worker -- --queue ${unserved[0]!.queue}`;
          console.error(`reelflow: no live worker on ${unserved.map((w) => w.taskQueue).join(', ')}; start one with \`${start}\``);
          await client.connection.close();
          return 1;
        }
        break;
      }
    }
    await client.connection.close();
    return 0;
  } catch (err) {
    // The row above says what was asked; this one, that it was refused or failed.
    if (audited) await auditCliOutcome(database.db, command, args, err);
    throw err;
  } finally {
    await database.close();
  }
}

/** One row of `reelflow capacity`'s quotas table. */
function quotaCells(q: QuotaRow, now = new Date()) {
  const at = (d: Date) => `${clockTime(d, now)} (${fromNow(d, now)})`;
  return {
    quota: q.name,
    provider: q.provider,
    account: q.account,
    used: `${q.used}/${q.limit} ${q.unit}`,
    remaining: q.remaining,
    // Moving windows free units as the oldest leave; nothing spent means nothing to wait for.
    resets: q.resetAt ? at(q.resetAt) : q.windowKind === 'moving' ? 'nothing spent' : '',
    parked: q.parkedUntil ? `until ${at(q.parkedUntil)}: ${q.parkedReason ?? ''}` : '',
    provider_says:
      q.reportedAt && q.reportedRemaining !== null
        ? `${q.reportedRemaining}${q.reportedLimit !== null ? `/${q.reportedLimit}` : ''} left at ${clockTime(q.reportedAt, now)}`
        : '',
  };
}

/** How KIE's record of an adopted task matched its job, as `retry` prints it. */
const ADOPT_MATCH: Record<AdoptEvidence, string> = {
  'callback key': "KIE's record names this job's submit",
  prompt: "made from this job's prompt, KIE's record says",
  unchecked: "KIE's record does not say what it was made from: taken on your word",
};

/** What `reelflow retry` started, step by step: what is kept, followed, adopted, and what runs (or is paid for) again. */
function printRetry(started: RetryStarted): void {
  const what: Record<RetryAction, (s: RetryStep) => string> = {
    kept: () => 'done: its result is used again',
    resumes: (s) => `follows its ${s.provider} task ${s.taskId} (not paid again)`,
    adopts: (s) =>
      `adopts ${s.provider} task ${s.taskId}, found on the provider's dashboard ` +
      `(not paid again; ${ADOPT_MATCH[s.matchedBy ?? 'unchecked']})`,
    resubmits: (s) => `submits again: a new ${s.provider} ${s.provider === 'veo3' ? 'render' : 'request'}, paid`,
    runs: (s) => (s.provider === 'veo3' ? 'renders (a new, paid render)' : 'runs again'),
  };
  console.log(`retrying ${started.recommendationId}: workflow ${started.workflowId}, run ${started.runId}`);
  console.log(`  deadline: ${started.deadline ?? 'none'}`);
  printTable(started.steps.map((s) => ({ step: s.step, job: s.jobId, what: what[s.action](s) })));
}

run(process.argv.slice(2)).then(
  (code) => process.exit(code),
  (err: unknown) => {
    console.error(`reelflow: ${err instanceof Error ? err.message : String(err)}`);
    process.exit(isRefusal(err) ? 2 : 1);
  },
);

/** The workflow's phase, with a reel's progress while it renders or assembles (`generating, 2/4 segments rendered`). */
function phaseText(state: RecommendationState): string {
  const segments = state.segments;
  return segments ? `${state.phase}, ${segments.rendered}/${segments.total} segments rendered` : state.phase;
}
