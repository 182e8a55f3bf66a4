/**
 * Reels: four 32-second reels (two chained, two independent: 16 segments of 2 s
 * renders) through VEO3 at cap 2 with 200 ms spacing, then assembly on the real
 * ffmpeg at the shipped preset (cap 1: one encode at a time).
 *
 * Figures: assembly time per reel (its job's provider call to completed, and
 * ffmpeg's own encode time from result.json), VEO3 utilisation at the provider
 * with multi-segment reels in the line (chained segments rejoin the line one at
 * a time, so the line is fed by four reels at once), and pay-once per segment.
 */
import { firstEventByJob, jobEvents, recommendation, enqueueMany, percentile, waitUntil } from '../measure';
import type { Scenario } from '../scenario';

const CAP = 2;
const SPACING_MS = 200;
const TASK_MS = 2_000;
const SECONDS = 32;
const SEGMENTS = SECONDS / 8;
const MODES = ['chained', 'chained', 'independent', 'independent'] as const;
const fmtS = (ms: number) => (Number.isFinite(ms) ? `${(ms / 1000).toFixed(1)} s` : 'n/a');

export const reel: Scenario = {
  name: 'reel',
  summary: `${MODES.length} reels of ${SEGMENTS} segments (2 chained, 2 independent), VEO3 cap ${CAP}, ${TASK_MS} ms renders`,
  async run(bench, rec) {
    await bench.prepare({
      limits: { veo3: { maxConcurrent: CAP, minStartIntervalMs: SPACING_MS }, assembly: { maxConcurrent: 1 } },
      durations: { veo3: TASK_MS },
    });
    const started = Date.now();
    const recs = await enqueueMany(
      bench,
      MODES.map((mode, i) =>
        recommendation(`reel ${i + 1} (${mode})`, { jobConfig: { platforms: ['instagram'], reel: { mode, seconds: SECONDS } } }),
      ),
    );
    rec.log(`${MODES.length} reels enqueued: ${MODES.length * SEGMENTS} renders of ${TASK_MS / 1000} s, then ${MODES.length} assemblies`);
    const ids = recs.map((r) => r.recommendation.id);
    // Until every idea is closed in the database (published or not): the reels' end is the figure, not a client's wait.
    await waitUntil(
      async () =>
        (
          await bench.q<{ n: number }>(
            `SELECT count(*)::int AS n FROM competitive_recommendations
              WHERE id = ANY($1::uuid[]) AND status IN ('pending', 'in_production')`,
            [ids],
          )
        )[0]!.n === 0,
      { timeoutMs: 900_000, intervalMs: 500, what: `${ids.length} reels closed` },
    );
    const wall = Date.now() - started;
    const statuses = await bench.q<{ status: string; n: number }>(
      `SELECT status, count(*)::int AS n FROM competitive_recommendations WHERE id = ANY($1::uuid[]) GROUP BY status`,
      [ids],
    );
    rec.note(`outcomes: ${statuses.map((s) => `${s.n} ${s.status}`).join(', ')}; whole run ${fmtS(wall)}`);

    // Assembly: engine view (provider call -> completed) and ffmpeg's encode (result.json).
    const events = await jobEvents(bench, ids, 'assembly');
    const runs = [...firstEventByJob(events).values()].flatMap((m) => {
      const from = m.get('provider_call');
      const to = m.get('completed');
      return from && to ? [to.at - from.at] : [];
    });
    const encodes = (
      await bench.q<{ encode: number; seconds: number }>(
        `SELECT (result->>'encodeSeconds')::float AS encode, (result->>'durationSeconds')::float AS seconds
           FROM automation_queue WHERE recommendation_id = ANY($1::uuid[]) AND step = 'assemble' AND status = 'completed'`,
        [ids],
      )
    ).map((r) => r.encode * 1000);
    const preset = process.env.REELFLOW_ASSEMBLY_PRESET ?? 'veryfast';
    rec.figure({
      metric: `assembly per ${SECONDS} s reel (job: provider call -> completed), p50 / max`,
      value: `${fmtS(percentile(runs, 50))} / ${fmtS(Math.max(...runs))}`,
      target: '–',
      bullmq: '–',
      met: null,
    });
    rec.figure({
      metric: `of which ffmpeg's encode at 1080x1920 (preset ${preset}), p50 / max`,
      value: `${fmtS(percentile(encodes, 50))} / ${fmtS(Math.max(...encodes))}`,
      target: '–',
      bullmq: '–',
      met: null,
    });

    // VEO3 at the provider: busy = submissions x render time, over cap x (first submit -> last end).
    const stats = bench.sims.veo3.stats();
    const submits = [...stats.submitTimes].sort((a, b) => a - b);
    const makespan = submits.at(-1)! + TASK_MS - submits[0]!;
    const util = (submits.length * TASK_MS) / (CAP * makespan);
    rec.figure({
      metric: `VEO3 utilisation at the provider with ${MODES.length} multi-segment reels in the line`,
      value: util.toFixed(3),
      // No target: a chained reel's next segment joins the line only once the one before ends, so with few reels
      // in the line a slot can idle for that hand-over (single renders: the utilisation scenario, >= 0.99).
      target: '–',
      bullmq: '–',
      met: null,
    });
    const segments = await bench.q<{ n: number }>(
      `SELECT count(*)::int AS n FROM automation_queue
        WHERE recommendation_id = ANY($1::uuid[]) AND step LIKE 'generate:%' AND status = 'completed'`,
      [ids],
    );
    rec.figure({
      metric: 'VEO3 submissions / segments rendered / max in flight',
      value: `${stats.submissions} / ${segments[0]!.n} / ${stats.maxInFlight}`,
      target: `${MODES.length * SEGMENTS} / ${MODES.length * SEGMENTS} / ${CAP}`,
      bullmq: '–',
      met: stats.submissions === MODES.length * SEGMENTS && segments[0]!.n === stats.submissions && stats.maxInFlight <= CAP,
    });
    rec.note(
      `VEO3 makespan ${fmtS(makespan)} for ${submits.length} renders (ideal ${fmtS((submits.length * TASK_MS) / CAP)}); ` +
        `${bench.sims.veo3.extends} of them extends`,
    );
  },
};
