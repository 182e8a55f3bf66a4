/**
 * The API process: `npm run api`. Serves the REST API, the dashboard at
 * /automation-calendar and /metrics on API_HOST:API_PORT (default 127.0.0.1:8080: plain HTTP, so
 * anything wider goes behind a TLS-terminating proxy).
 * Needs PostgreSQL (DATABASE_URL, migrated) and Temporal (TEMPORAL_ADDRESS).
 */
import type { Client } from '@temporalio/client';
import { apiEnvSchema, loadEnv, parseEnv } from '../config/env';
import { connectDatabase, SERVER_POOL_IDLE_MS } from '../db/client';
import { createLogger } from '../logger';
import { SCHEDULES } from '../schedule/command';
import { describeSchedule, pauseSchedule, triggerSchedule, unpauseSchedule } from '../schedule/schedules';
import { createDiscoveryClients } from '../providers/discovery-clients';
import { createCompetitorChannelService } from '../services/competitor-channels';
import { createProviders } from '../providers';
import { createRecommendationService } from '../services/recommendations';
import { connectTemporalOrLater } from '../temporal/client';
import { queueWorkers } from '../temporal/queue-workers';
import { loadNotificationConfig } from '../notifications/config';
import { startWorkerWatch } from '../notifications/worker-watch';
import { ApiError } from '../shared/errors';
import { buildApiServer, type ScheduleController } from './server';
import { runningDemoEnv } from '../demo/instance';

/** One of src/schedule's schedules behind the API's interface. */
function scheduleController(client: Client, name: string, scheduleId: string): ScheduleController {
  return {
    pause: () => pauseSchedule(client, scheduleId, 'paused from the API'),
    unpause: () => unpauseSchedule(client, scheduleId, 'unpaused from the API'),
    trigger: () => triggerSchedule(client, scheduleId),
    async describe() {
      const d = await describeSchedule(client, scheduleId);
      if (!d) throw new ApiError(404, `the ${name} schedule does not exist; create it with \`reelflow schedule create\``);
      // The raw protobuf answer is not JSON-friendly and says nothing more to an operator.
      return {
        scheduleId: d.scheduleId,
        paused: d.state.paused,
        note: d.state.note ?? null,
        nextActionTimes: d.info.nextActionTimes,
        recentActions: d.info.recentActions.map((a) => ({
          scheduledAt: a.scheduledAt,
          takenAt: a.takenAt,
          workflowId: a.action.workflow.workflowId,
        })),
        runningActions: d.info.runningActions.map((a) => a.workflow.workflowId),
        numActionsTaken: d.info.numActionsTaken,
        overlap: d.policies.overlap,
      };
    },
  };
}

async function main(): Promise<void> {
  // Beside a running `npm start`: its simulators, as for its workers (the database and Temporal are its already).
  const env = loadEnv({ ...runningDemoEnv(), ...process.env });
  const apiEnv = parseEnv(apiEnvSchema);
  const log = createLogger(env.LOG_LEVEL, 'reelflow-api');
  const database = connectDatabase(env.DATABASE_URL, { max: 10, idleMs: SERVER_POOL_IDLE_MS });
  await database.pool.query('SELECT 1').catch((err: Error) => {
    throw new Error(`cannot reach PostgreSQL at DATABASE_URL (${err.message}); is it running and migrated (\`npm run db:migrate\`)?`);
  });
  // Temporal down at start does not keep the dashboard down (it reads PostgreSQL): what needs Temporal answers 503
  // until the server is back, as it does when the server goes away later.
  const { client, down } = await connectTemporalOrLater(env.TEMPORAL_ADDRESS, env.TEMPORAL_NAMESPACE);
  if (down) log.warn(`${down}; serving what PostgreSQL holds, and 503 for what needs Temporal until it is back`);
  const service = createRecommendationService({
    database,
    client,
    taskQueue: env.REELFLOW_TASK_QUEUE,
    veo3: () => createProviders(env).veo3,
    publisher: (platform) => createProviders(env)[platform],
  });
  const app = await buildApiServer({
    database,
    service,
    env,
    log,
    schedules: Object.fromEntries(Object.entries(SCHEDULES).map(([name, s]) => [name, scheduleController(client, name, s.id)])),
    workers: () => queueWorkers(client, env.REELFLOW_TASK_QUEUE),
    competitors: createCompetitorChannelService({
      database,
      discovery: createDiscoveryClients(env),
      client,
      taskQueue: env.REELFLOW_TASK_QUEUE,
    }),
    rateLimits: { authFailures: apiEnv.API_AUTH_FAILURE_LIMIT, hookCalls: apiEnv.API_HOOK_RATE_LIMIT, windowMs: apiEnv.API_RATE_WINDOW_MS },
    trustedProxyHops: apiEnv.API_TRUSTED_PROXY_HOPS,
    mediaDir: env.REELFLOW_MEDIA_DIR,
    ...(env.REELFLOW_STORAGE === 'fs' ? { archive: { dir: env.REELFLOW_ARCHIVE_DIR, signingKey: env.REELFLOW_MEDIA_SIGNING_KEY } } : {}),
  });
  const address = await app.listen({ port: apiEnv.API_PORT, host: apiEnv.API_HOST });
  log.info({ address, dashboard: `${address}/automation-calendar` }, 'API listening');
  // With every worker down, the API is what is left to tell the team (Slack/Discord, when configured).
  const watch = startWorkerWatch({
    database,
    log,
    config: loadNotificationConfig(process.env),
    workers: () => queueWorkers(client, env.REELFLOW_TASK_QUEUE),
  });

  let closing = false;
  const shutdown = async (signal: string) => {
    if (closing) return;
    closing = true;
    log.info({ signal }, 'shutting down');
    watch.stop();
    await app.close();
    await client.connection.close();
    await database.close();
    process.exit(0);
  };
  process.once('SIGINT', () => void shutdown('SIGINT'));
  process.once('SIGTERM', () => void shutdown('SIGTERM'));
}

main().catch((err: unknown) => {
  console.error(`reelflow-api: ${err instanceof Error ? err.message : String(err)}`);
  process.exit(1);
});
