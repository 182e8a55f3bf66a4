import { configDefaults, defineConfig } from 'vitest/config';
import base from './vitest.config';

/**
 * `npm run test:cluster` (TEST_TEMPORAL=cluster): the suites whose claims depend
 * on the server (faults, the recommendation workflow end to end, the durable line) plus
 * test/cluster/ (server kill -9, worker fleets, reuse), against the real Temporal
 * server on PostgreSQL. About 10 minutes on a loaded 2-core machine.
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
    ],
    exclude: configDefaults.exclude,
    reporters: ['default', ['json', { outputFile: 'test-results/vitest-cluster.json' }]],
  },
});
