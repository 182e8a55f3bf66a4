import { configDefaults, defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    // The real Temporal server's own tests run in `npm run test:cluster` (vitest.cluster.config.ts).
    exclude: [...configDefaults.exclude, 'test/cluster/**'],
    globalSetup: ['test/helpers/global-setup.ts'],
    testTimeout: 90_000,
    hookTimeout: 180_000,
    // expect.poll waits for something another process does (a dashboard refresh every 1.5 s, an API call): its default
    // second was too short on a loaded CI host (the dashboard's cancel toast, 2026-12-02).
    expect: { poll: { timeout: 10_000 } },
    pool: 'forks',
    // Two cores: two test files at a time, each with its own database and task queues.
    poolOptions: { forks: { maxForks: 2, minForks: 1 } },
    // The JSON report lets .ci/run print a plain 'N passed, N failed' line.
    reporters: ['default', ['json', { outputFile: 'test-results/vitest.json' }]],
  },
});
