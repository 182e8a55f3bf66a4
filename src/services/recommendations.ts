/**
 * What operators do, in one place for the CLI, the API and the demo: the
 * commands (recommendation-commands.ts: enqueue, start, cancel, reprioritise;
 * republish.ts; retry.ts)
 * and the reads (recommendation-reads.ts: lists, status, capacity, counts)
 * over one set of dependencies. Input is validated before anything is
 * written; a failed workflow start removes the row it created.
 */
import type { Client } from '@temporalio/client';
import type { Database } from '../db/client';
import { getJob, getRecommendation } from '../db/queries';
import type { Recommendation } from '../db/schema';
import type { PublishPlatform } from '../config/providers';
import type { Publisher, VideoGenerator } from '../providers/types';
import { NotFoundError } from '../shared/errors';
import { parseRecommendationWorkflowId } from '../shared/workflow-ids';
import { ideaRefSchema, parseInput } from '../validation';
import { createRecommendationCommands } from './recommendation-commands';
import { createRecommendationReads } from './recommendation-reads';
import { createRepublishCommands } from './republish';
import { createRetryCommands } from './retry';

export type { EnqueueResult } from './recommendation-commands';

export interface ServiceDeps {
  database: Database;
  client: Client;
  taskQueue: string;
  now?: () => Date;
  /**
   * KIE's client, built when first needed (its credentials are checked then): `retry --task` asks KIE for the task
   * before adopting it. Absent, `--task` is refused.
   */
  veo3?: () => Pick<VideoGenerator, 'describeTask'>;
  /**
   * A platform's client, built when first needed: `republish --post` reads the post there before recording it.
   * Absent, `--post` is refused.
   */
  publisher?: (platform: PublishPlatform) => Pick<Publisher, 'readMetrics' | 'hidesOwnPosts'>;
}

export function createRecommendationService(deps: ServiceDeps) {
  const { db } = deps.database;

  /** Accepts a recommendation id, a job id or a workflow id. */
  async function resolve(ref: string): Promise<Recommendation> {
    const id = parseRecommendationWorkflowId(ref);
    parseInput(ideaRefSchema, id, 'id');
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
    ...createRecommendationCommands(deps, resolve),
    ...createRecommendationReads(deps, resolve),
    ...createRepublishCommands(deps, resolve),
    ...createRetryCommands(deps, resolve),
  };
}

export type RecommendationService = ReturnType<typeof createRecommendationService>;
