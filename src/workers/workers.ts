/**
 * One Temporal worker per row of the limits table plus the base queue.
 * Provider workers accept many concurrent activities on purpose: a job waiting
 * for its provider slot is a cheap promise, and the real cap is the global
 * gate (src/gate), not this process.
 */
import fs from 'node:fs';
import path from 'node:path';
import { Client } from '@temporalio/client';
import { bundleWorkflowCode, NativeConnection, Worker, type WorkflowBundleWithSourceMap } from '@temporalio/worker';
import { providerTaskQueue, QUEUE_NAMES, type QueueName } from '../config/providers';
import { createArchiveActivities } from '../activities/archive';
import { createAssemblyActivities } from '../activities/assembly';
import { createAudioFetchActivities } from '../activities/audio-fetch';
import { createApiFootballActivities, createPlayerSyncActivities } from '../activities/api-football';
import { createCapacityActivities } from '../activities/capacity-snapshot';
import { createBargainActivities } from '../activities/bargains';
import { createCompetitorBaseActivities, createCompetitorOpenAiActivities } from '../activities/competitor';
import { createDiscoveryBaseActivities, createDiscoveryProviderActivities } from '../activities/discovery';
import { createMetricsBaseActivities, createMetricsProviderActivities } from '../activities/metrics';
import { createOpenAiActivities } from '../activities/openai';
import { createNotificationActivities } from '../notifications/activities';
import { createPublishActivities } from '../activities/publish';
import { createApprovalActivities } from '../activities/approval';
import { createQueueSyncActivities } from '../activities/queue-sync';
import { createLineActivities } from '../activities/line';
import { failLostActivity, failUnmarkedAttempts, signalLineTurn } from '../temporal/client';
import { processIdentity, watchTickMs } from '../gate/presence';
import { createRepublishActivities } from '../activities/republish';
import { createRetryActivities } from '../activities/retry';
import { createVeo3Activities } from '../activities/veo3';
import type { ActivityDeps } from '../activities/deps';
import type { Env } from '../config/env';

let bundle: Promise<WorkflowBundleWithSourceMap> | undefined;
/** Bundling takes seconds: do it once per process. */
export function workflowBundle(): Promise<WorkflowBundleWithSourceMap> {
  const ts = path.join(__dirname, '../workflows/index.ts');
  const workflowsPath = fs.existsSync(ts) ? ts : path.join(__dirname, '../workflows/index.js');
  bundle ??= bundleWorkflowCode({ workflowsPath, logger: quietBundlerLogger });
  return bundle;
}

/** Webpack's progress lines would drown the worker's own log; warnings and errors still show. */
export const quietBundlerLogger = {
  log: () => undefined,
  trace: () => undefined,
  debug: () => undefined,
  info: () => undefined,
  warn: (m: string) => console.warn(m),
  error: (m: string) => console.error(m),
};

function activitiesFor(queue: QueueName, deps: ActivityDeps): object {
  switch (queue) {
    case 'base':
      return {
        ...createQueueSyncActivities(deps),
        ...createLineActivities(deps),
        ...createRepublishActivities(deps),
        ...createRetryActivities(deps),
        ...createApprovalActivities(deps),
        ...createCapacityActivities(deps),
        ...createCompetitorBaseActivities(deps),
        ...createDiscoveryBaseActivities(deps),
        ...createBargainActivities(deps),
        ...createPlayerSyncActivities(deps),
        ...createMetricsBaseActivities(deps),
        ...createNotificationActivities({ database: deps.database, log: deps.log }),
      };
    case 'openai':
      return { ...createOpenAiActivities(deps), ...createCompetitorOpenAiActivities(deps) };
    case 'veo3':
      return createVeo3Activities(deps);
    case 'instagram':
    case 'tiktok':
    case 'youtube':
      // Metrics reads too: one scheduled here before the reads had queues of their own (src/workflows/post-metrics.ts).
      return { ...createPublishActivities(deps), ...createMetricsProviderActivities(deps) };
    case 'audio_fetch':
      return createAudioFetchActivities(deps);
    case 'youtube_data':
    case 'instagram_graph':
      return { ...createDiscoveryProviderActivities(deps), ...createMetricsProviderActivities(deps) };
    case 'tiktok_data':
      return createMetricsProviderActivities(deps);
    case 'api_football':
      return createApiFootballActivities(deps);
    case 'assembly':
      // Archiving (the paid video into our storage) runs beside assembly: our own workers, next to the media directory.
      return { ...createAssemblyActivities(deps), ...createArchiveActivities(deps) };
  }
}

export interface CreateWorkersOptions {
  connection: NativeConnection;
  namespace: string;
  baseQueue: string;
  deps: ActivityDeps;
  queues?: readonly QueueName[];
  /** Per provider queue, per process (REELFLOW_WORKER_ACTIVITY_SLOTS). */
  activitySlots?: number;
  /** Workflows kept in memory between their tasks, per process (REELFLOW_WORKFLOW_CACHE); the SDK's default when unset. */
  workflowCache?: number;
  /** Extra activities for the base queue (competitor analysis, recommendation generation). */
  extraBaseActivities?: object;
}

export async function createWorkers(opts: CreateWorkersOptions): Promise<Worker[]> {
  const queues = opts.queues ?? QUEUE_NAMES;
  const client = new Client({ connection: opts.connection, namespace: opts.namespace });
  // A process that runs workflows also calls up their parked jobs (the durable line, src/gate/line-courier.ts).
  if (queues.includes('base')) opts.deps.gate.serveLine(signalLineTurn(client));
  // Every process fails the activity attempts of worker processes gone from PostgreSQL (src/gate/presence.ts):
  // under load the one running the workflows answers last, and a provider-only process is often idle. One that
  // runs the workflows beside provider-only processes (it does not serve every queue) looks less often.
  opts.deps.gate.watchLostWorkers(failLostActivity(client), { tickMs: watchTickMs(queues), failUnmarked: failUnmarkedAttempts(client) });
  const workers: Worker[] = [];
  for (const queue of queues) {
    const isBase = queue === 'base';
    workers.push(
      await Worker.create({
        connection: opts.connection,
        namespace: opts.namespace,
        taskQueue: isBase ? opts.baseQueue : providerTaskQueue(opts.baseQueue, queue),
        ...(isBase ? { workflowBundle: await workflowBundle() } : {}),
        ...(isBase && opts.workflowCache ? { maxCachedWorkflows: opts.workflowCache } : {}),
        activities: { ...activitiesFor(queue, opts.deps), ...(isBase ? opts.extraBaseActivities : {}) },
        maxConcurrentActivityTaskExecutions: isBase ? 200 : (opts.activitySlots ?? 2_000),
        shutdownGraceTime: '5 seconds',
        // The name a lost-worker watch matches against Temporal's record of who started an attempt.
        identity: processIdentity(),
      }),
    );
  }
  return workers;
}

/** The entry points' workers (npm run worker, the demo): namespace, base queue and activity slots come from the environment. */
export function createWorkersFromEnv(env: Env, opts: Pick<CreateWorkersOptions, 'connection' | 'deps' | 'queues'>): Promise<Worker[]> {
  return createWorkers({
    ...opts,
    namespace: env.TEMPORAL_NAMESPACE,
    baseQueue: env.REELFLOW_TASK_QUEUE,
    activitySlots: env.REELFLOW_WORKER_ACTIVITY_SLOTS,
    workflowCache: env.REELFLOW_WORKFLOW_CACHE,
  });
}
