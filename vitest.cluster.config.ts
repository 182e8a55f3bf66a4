import { configDefaults } from 'vitest/config';
import { RUN_ALONE, suiteConfig } from './vitest.config';

/**
 * `npm run test:cluster` (TEST_TEMPORAL=cluster): the suites whose claims depend
 * on the server (faults, the recommendation workflow end to end, the durable line, the
 * gate across processes, reels through worker deaths) plus test/cluster/ (server kill -9,
 * worker fleets, reuse), against the real Temporal server on PostgreSQL. About 7 minutes
 * on a quiet 2-core machine (capacity, alone at the end, and reel faults: 2.5 of them).
 */
export default suiteConfig({
  include: [
    'test/cluster/**/*.test.ts',
    'test/integration/faults.test.ts',
    'test/integration/recommendations.test.ts',
    // The durable line: its signals and idle workflows on the server's own persistence.
    'test/integration/durable-line.test.ts',
    // Reels' kill -9 mid-segment and mid-assembly.
    'test/integration/reel-faults.test.ts',
  ],
  // The gate across worker processes (caps, spacing, priority), at the end, alone (vitest.config.ts).
  alone: [RUN_ALONE.capacity],
  exclude: configDefaults.exclude,
  report: 'test-results/vitest-cluster.json',
});
