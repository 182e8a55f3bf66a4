import { configDefaults, defineConfig } from 'vitest/config';
import base from './vitest.config';

/**
 * `npm run test:cluster` (TEST_TEMPORAL=cluster): the suites whose claims depend
 * on the server (faults, the recommendation workflow end to end, the durable line, the
 * gate across processes, reels through worker deaths) plus test/cluster/ (server kill -9,
 * worker fleets, reuse), against the real Temporal server on PostgreSQL. About 6 minutes
 * on a quiet 2-core machine (capacity and reel faults: 2.5 of them).
 * Spread, not mergeConfig: mergeConfig would append to the base's include.
 */
export default defineConfig({
  ...base,
  test: {
    ...base.test,
    include: [
      'test/cluster/**/*.test.ts',
      'test/integration/faults.test.ts',
      'test/integration/recommendations.test.ts',
      // The durable line: its signals and idle workflows on the server's own persistence.
      'test/integration/durable-line.test.ts',
      // The gate across worker processes (caps, spacing, priority), and reels' kill -9 mid-segment and mid-assembly.
      'test/integration/capacity.test.ts',
      'test/integration/reel-faults.test.ts',
    ],
    exclude: configDefaults.exclude,
    reporters: ['default', ['json', { outputFile: 'test-results/vitest-cluster.json' }]],
  },
});
