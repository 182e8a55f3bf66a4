/**
 * Throughput: whole workflows (analyse -> generate -> publish to Instagram) per
 * minute when the providers answer at once, so what is measured is the engine:
 * Temporal round trips, the gate's SQL, the activities' own bookkeeping.
 */
import { PROVIDERS } from '../../src/config/providers';
import { CALLERS, enqueueMany, fmtMs, fmtP50P95, jobEvents, recommendation, waitForWorkflows } from '../measure';
import { atLeast, type Scenario } from '../scenario';

const WORKFLOWS = 200;
const TARGET_PER_MIN = 200;

export const throughput: Scenario = {
  name: 'throughput',
  summary: `${WORKFLOWS} end-to-end workflows, instant providers, caps 50, no spacing`,
  async run(bench, rec) {
    await bench.prepare({
      limits: {}, // every provider at the defaults: cap 50, no spacing
      durations: { openai: 0, veo3: 10, instagram: 10 },
    });
    const t0 = Date.now();
    const recs = await enqueueMany(
      bench,
      Array.from({ length: WORKFLOWS }, (_, i) => recommendation(`throughput ${i}`)),
    );
    const enqueueMs = Date.now() - t0;
    rec.log(`enqueued ${WORKFLOWS} in ${fmtMs(enqueueMs)}; waiting for them to publish`);
    await waitForWorkflows(
      bench,
      recs.map((r) => r.workflowId),
      240_000,
    );

    const ids = recs.map((r) => r.recommendation.id);
    const rows = await bench.q<{ status: string; created_at: Date; published_at: Date | null }>(
      `SELECT status, created_at, published_at FROM competitive_recommendations WHERE id = ANY($1::uuid[])`,
      [ids],
    );
    const published = rows.filter((r) => r.status === 'published' && r.published_at);
    const first = Math.min(...rows.map((r) => r.created_at.getTime()));
    const last = Math.max(...published.map((r) => r.published_at!.getTime()));
    const perMin = (published.length / (last - first)) * 60_000;

    rec.figure({
      metric: `workflows/min (${WORKFLOWS}, enqueue -> published)`,
      value: `${perMin.toFixed(0)}/min`,
      target: `>= ${TARGET_PER_MIN}/min`,
      bullmq: '-',
      met: atLeast(perMin, TARGET_PER_MIN) && published.length === WORKFLOWS,
    });
    rec.figure({
      metric: 'workflows published',
      value: `${published.length}/${WORKFLOWS}`,
      target: `${WORKFLOWS}/${WORKFLOWS}`,
      bullmq: '-',
      met: published.length === WORKFLOWS,
    });

    rec.note(
      `enqueue API: ${WORKFLOWS} in ${fmtMs(enqueueMs)} (${CALLERS} concurrent callers); ` +
        `first enqueue -> last publish ${fmtMs(last - first)}`,
    );
    rec.note(`per-workflow enqueue -> published: ${fmtP50P95(published.map((r) => r.published_at!.getTime() - r.created_at.getTime()))}`);
    // How fast each provider was called: no spacing here, so this is the pace the workflows set.
    const events = await jobEvents(bench, ids);
    const perProvider = PROVIDERS.map((p) => {
      const calls = events.filter((e) => e.provider === p && e.event === 'provider_call').map((e) => e.at);
      if (calls.length < 2) return null;
      const spanS = (Math.max(...calls) - Math.min(...calls)) / 1000;
      return `${p} ${(calls.length / spanS).toFixed(1)}/s`;
    }).filter(Boolean);
    rec.note(`provider starts per second while running: ${perProvider.join(', ')} (no start spacing in this scenario)`);
  },
};
