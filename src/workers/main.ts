/**
 * Worker process: `npm run worker` serves every queue; `npm run worker -- --queue veo3`
 * (repeatable) serves only some, so a deployment can scale providers apart.
 */
import { NativeConnection } from '@temporalio/worker';
import { parseArgs } from 'node:util';
import { assertProviderCredentials, loadEnv } from '../config/env';
import { createLogger } from '../logger';
import { createRuntime } from './runtime';
import { QUEUE_NAMES, type QueueName } from '../config/providers';
import { createWorkersFromEnv } from './workers';
import { startStuckWatch } from './stuck-watch';
import { parkedText, parkKey, startQuotaWatch } from './quota-watch';
import { scheduleFailureKey, startScheduleWatch } from './schedule-watch';
import { SCHEDULES } from '../schedule/command';
import { startEndedRunWatch } from './ended-run-watch';
import { remindersKey, remindersText, startApprovalWatch } from './approval-watch';
import { behindKey, behindText, startMetricsWatch } from './metrics-watch';
import { watchWorkflowTaskFailures } from './task-failure-watch';
import { installTemporalRuntime } from '../metrics/runtime';
import { notificationEventKey, notificationText, startNotification } from '../notifications/notify';
import { ensureCapacityWorkflow } from '../temporal/capacity-snapshot';
import { connectTemporal } from '../temporal/client';
import { NOTIFICATION_WORKFLOW } from '../shared/workflow-ids';

async function main() {
  const { values } = parseArgs({ options: { queue: { type: 'string', multiple: true } } });
  const queues = (values.queue ?? QUEUE_NAMES) as QueueName[];
  for (const q of queues) {
    if (!QUEUE_NAMES.includes(q)) throw new Error(`--queue ${q} is not one of ${QUEUE_NAMES.join(', ')}`);
  }
  const env = loadEnv();
  // Before the database and Temporal: a worker that cannot authenticate must not take jobs only to fail each one.
  assertProviderCredentials(env);
  const log = createLogger(env.LOG_LEVEL, 'reelflow-worker');
  const runtime = await createRuntime({ env, log });
  // The client is grpc-js, not core: it can come before the runtime, so the watch that reads core's lines has it.
  const client = await connectTemporal(env.TEMPORAL_ADDRESS, env.TEMPORAL_NAMESPACE);
  const notifyTeam = (subjectId: string, text: Parameters<typeof notificationText>[0]) =>
    startNotification(client, env.REELFLOW_TASK_QUEUE, {
      eventKey: notificationEventKey(text.event, subjectId),
      event: text.event,
      text: notificationText(text),
    });
  const taskFailures = watchWorkflowTaskFailures({
    client,
    log,
    onFailing: async (failing) => {
      // A notification workflow that cannot run would only start another like it for every failure.
      if (failing.workflowType === NOTIFICATION_WORKFLOW) return;
      await notifyTeam(failing.runId, {
        event: 'stuck',
        title: `${failing.workflowType}: its workflow task fails at every try (${failing.attempt} so far)`,
        error: failing.failure,
        workflowId: failing.workflowId,
        temporalUiUrl: env.TEMPORAL_UI_URL,
      });
    },
  });
  // The SDK's log lines in ours, core's lines about failed workflow tasks to their watch, and Temporal's own
  // worker metrics (polls, slots, latencies) for Prometheus when asked.
  installTemporalRuntime(log, env.TEMPORAL_METRICS_BIND, taskFailures.observe);
  const connection = await NativeConnection.connect({ address: env.TEMPORAL_ADDRESS });
  const workers = await createWorkersFromEnv(env, { connection, deps: runtime, queues });
  // The capacity query lives in a workflow on the base queue; whoever serves it makes sure it runs.
  if (queues.includes('base')) await ensureCapacityWorkflow(client, env.REELFLOW_TASK_QUEUE, env.REELFLOW_CAPACITY_REFRESH_MS);
  const stuck = startStuckWatch(runtime, {
    onStuck: (job) =>
      // Once per run of the job (its start): stuck again after a `reelflow retry`, it is told again.
      notifyTeam(`${job.id}@${job.started_at.getTime()}`, {
        event: 'stuck',
        title: job.job_type,
        provider: job.api_provider,
        workflowId: job.workflow_id,
        temporalUiUrl: env.TEMPORAL_UI_URL,
      }),
  });
  // A spent quota (credits, a daily cap, a bot check): told once a park, however often it is re-checked.
  const quotas = startQuotaWatch(runtime, {
    onParked: (spent) =>
      notifyTeam(parkKey(spent), {
        event: 'quota_parked',
        title: spent.quotas.join(', '),
        provider: spent.provider,
        error: parkedText(spent),
      }),
  });
  // Runs terminated or timed out (ideas, republishes, any workflow of the base queue) are closed where they run; an
  // idea is told to the team.
  const endedRuns = queues.includes('base')
    ? startEndedRunWatch(runtime, {
        client,
        onEnded: (ended) =>
          // Under the key a retry's run fails with (src/workflows/recommendation.ts): its own failure is told too.
          notifyTeam(`${ended.recommendationId}:run-${ended.runId}`, {
            event: ended.posted ? 'partially_published' : 'failed',
            title: ended.title,
            priority: ended.priority,
            error: ended.reason,
            workflowId: ended.workflowId,
            temporalUiUrl: env.TEMPORAL_UI_URL,
          }),
      })
    : null;
  // A Schedule's run that failed, timed out or was terminated: once a schedule a day.
  const schedules = queues.includes('base')
    ? startScheduleWatch(runtime, {
        client,
        scheduleIds: Object.values(SCHEDULES).map((s) => s.id),
        onFailed: (run) =>
          notifyTeam(scheduleFailureKey(run), {
            event: 'failed',
            title: `scheduled run of ${run.scheduleId} (${run.workflowType})`,
            error: `${run.reason}. Its schedule runs on; later failures of it today are not told again`,
            workflowId: run.workflowId,
            temporalUiUrl: env.TEMPORAL_UI_URL,
          }),
      })
    : null;
  // Reviews still waiting for an editor: reminded every REELFLOW_APPROVAL_REMIND_HOURS, a brief sooner before it expires.
  const reminders = queues.includes('base')
    ? startApprovalWatch(runtime, {
        everyHours: env.REELFLOW_APPROVAL_REMIND_HOURS,
        onDue: (due) => {
          const text = remindersText(due, new Date());
          return notifyTeam(remindersKey(due), { event: 'approval', title: text.title, error: text.lines });
        },
      })
    : null;
  // Published posts no longer measured (a series stopped, its reads failing): once a stop.
  const measuring = queues.includes('base')
    ? startMetricsWatch(runtime, {
        onBehind: (series) => {
          const text = behindText(series);
          return notifyTeam(behindKey(series), { event: 'stuck', title: text.title, error: text.lines });
        },
      })
    : null;
  log.info({ queues, taskQueue: env.REELFLOW_TASK_QUEUE }, 'workers running');
  let stopping = false;
  const stop = (signal: NodeJS.Signals) => {
    // A second signal while draining changes nothing (the SDK's own signal hook may also have
    // stopped a worker already: shutdown() on a worker that is not running throws).
    if (stopping) return log.info({ signal }, 'already shutting down');
    stopping = true;
    log.info({ signal }, 'shutting down workers');
    runtime.beginShutdown();
    for (const w of workers) if (w.getState() === 'RUNNING') w.shutdown();
  };
  process.on('SIGINT', stop);
  process.on('SIGTERM', stop);
  await Promise.all(workers.map((w) => w.run()));
  stuck.stop();
  quotas.stop();
  endedRuns?.stop();
  schedules?.stop();
  reminders?.stop();
  measuring?.stop();
  taskFailures.stop();
  const closing = [runtime.close(), connection.close(), client.connection.close()];
  for (const r of await Promise.allSettled(closing)) {
    if (r.status === 'rejected') log.warn({ err: r.reason }, 'closing after shutdown failed');
  }
  log.info('workers stopped');
  // Everything is closed; a socket the OS has not let go of yet must not keep a stopped worker alive.
  process.exit(0);
}

main().catch((err) => {
  console.error(`reelflow worker: ${err instanceof Error ? err.message : String(err)}`);
  process.exit(1);
});
