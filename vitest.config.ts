import { configDefaults, defineConfig, type TestProjectInlineConfiguration, type ViteUserConfig } from 'vitest/config';

/**
 * Files that run after every other file of their suite, one at a time, so the load of two files at once cannot make
 * them fail: what they measure or wait for is the machine's time.
 */
export const RUN_ALONE = {
  /**
   * Times what the provider sees (start spacing at the simulator). Beside faults.test.ts (kill -9s, a cut database) a
   * worker reached the simulator 193 ms after the start before it, for a 300 ms interval (CI, 2026-12-04).
   */
  capacity: 'test/integration/capacity.test.ts',
  /** Starts dev servers of its own and waits 60 s for their health: under a full suite once not enough (CI, 2026-12-03). */
  temporalCli: 'test/integration/temporal-cli.test.ts',
};

/**
 * One suite: `include` minus `exclude` and `alone`, two files at a time (two cores, each file with its own database
 * and task queues), then `alone`, one file at a time. The projects set include and exclude themselves: a project
 * extending this config would append to the root's lists, not replace them.
 */
export function suiteConfig(opts: { include: string[]; alone: string[]; exclude: string[]; report: string }): ViteUserConfig {
  const projects: TestProjectInlineConfiguration[] = [
    { extends: true, test: { name: 'parallel', include: opts.include, exclude: [...opts.exclude, ...opts.alone] } },
    {
      extends: true,
      test: { name: 'alone', include: opts.alone, poolOptions: { forks: { singleFork: true } }, sequence: { groupOrder: 1 } },
    },
  ];
  return defineConfig({
    test: {
      projects,
      globalSetup: ['test/helpers/global-setup.ts'],
      testTimeout: 90_000,
      hookTimeout: 180_000,
      // expect.poll waits for something another process does (a dashboard refresh every 1.5 s, an API call): its default
      // second was too short on a loaded CI host (the dashboard's cancel toast, 2026-12-02).
      expect: { poll: { timeout: 10_000 } },
      pool: 'forks',
      poolOptions: { forks: { maxForks: 2, minForks: 1 } },
      // The JSON report lets .ci/run print a plain 'N passed, N failed' line.
      reporters: ['default', ['json', { outputFile: opts.report }]],
    },
  });
}

export default suiteConfig({
  include: ['test/**/*.test.ts'],
  // The real Temporal server's own tests run in `npm run test:cluster` (vitest.cluster.config.ts).
  exclude: [...configDefaults.exclude, 'test/cluster/**'],
  alone: Object.values(RUN_ALONE),
  report: 'test-results/vitest.json',
});
