/** The workflow bundle entry: every workflow the workers run. */
export { recommendationWorkflow } from './recommendation';
export { competitorVideoWorkflow } from './competitor-video';
export { recommendationGenerationWorkflow } from './recommendation-generation';
export { dailyBargainsWorkflow } from './daily-bargains';
export { notificationWorkflow } from './notification';
export { capacityWorkflow } from './capacity-snapshot';
export { playerSyncWorkflow } from './player-sync';
export { competitorDiscoveryWorkflow } from './competitor-discovery';
export { competitorViewsWorkflow } from './competitor-views';
export { postMetricsWorkflow } from './post-metrics';
export { republishWorkflow } from './republish';
