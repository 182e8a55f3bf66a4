/**
 * recommendationGenerationWorkflow: what the hourly Schedule starts. One
 * activity: the engine reads the lookback window, inserts new ideas (dedupe
 * key) and starts their recommendation workflows. A retried activity is safe:
 * existing ideas are skipped and any still without a workflow are started.
 */
import * as wf from '@temporalio/workflow';
import type { createCompetitorBaseActivities, GenerationSummary } from '../activities/competitor';

export interface RecommendationGenerationInput {
  /** Default 7: about one La Liga round of competitor videos. */
  lookbackDays?: number;
}

const { generateRecommendations } = wf.proxyActivities<ReturnType<typeof createCompetitorBaseActivities>>({
  // A few queries and inserts plus one workflow start per new idea.
  startToCloseTimeout: '5 minutes',
  retry: { initialInterval: '1 second', backoffCoefficient: 2, maximumInterval: '1 minute', maximumAttempts: 5 },
});

export async function recommendationGenerationWorkflow(input: RecommendationGenerationInput = {}): Promise<GenerationSummary> {
  return generateRecommendations({ lookbackDays: input.lookbackDays ?? 7 });
}
