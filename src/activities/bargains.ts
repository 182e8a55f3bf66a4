/**
 * Daily bargains activity (base queue): reads the roster, inserts the day's
 * bargains (dedupe key) and starts their recommendation workflows. A retried
 * attempt is safe: bargains already created are skipped.
 */
import { Context } from '@temporalio/activity';
import { createBargainAnalyzer } from '../recommendations/bargains';
import { createRecommendationService } from '../services/recommendations';
import type { ActivityDeps } from './deps';
import { classified } from './failures';

export interface DailyBargainsSummary {
  day: string;
  candidates: number;
  created: Array<{
    id: string;
    targetPlayer: string | null;
    title: string;
    priority: string;
    deadline: string | null;
    workflowId: string | null;
  }>;
  skipped: number;
  reenqueued: string[];
}

export function createBargainActivities(deps: ActivityDeps) {
  return {
    /** @param input.at the workflow's start, so every attempt works on the same Madrid day. */
    async generateDailyBargains(input: { limit: number; at: string }): Promise<DailyBargainsSummary> {
      return classified(async () => {
        const service = createRecommendationService({
          database: deps.database,
          client: Context.current().client,
          taskQueue: deps.env.REELFLOW_TASK_QUEUE,
        });
        const analyzer = createBargainAnalyzer({ db: deps.database.db, service });
        const result = await analyzer.generateDailyBargains({ limit: input.limit, date: new Date(input.at) });
        const summary: DailyBargainsSummary = {
          day: result.day,
          candidates: result.candidates,
          created: result.created.map((r) => ({
            id: r.id,
            targetPlayer: r.targetPlayer,
            title: r.title,
            priority: r.priority,
            deadline: r.urgencyDeadline?.toISOString() ?? null,
            workflowId: r.workflowId,
          })),
          skipped: result.skipped,
          reenqueued: result.reenqueued,
        };
        deps.log.info({ day: summary.day, created: summary.created.length, skipped: summary.skipped }, 'daily bargains generated');
        return summary;
      });
    },
  };
}
