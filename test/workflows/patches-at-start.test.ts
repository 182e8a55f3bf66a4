/**
 * A query landing while a recommendation's local activity runs closes its workflow task early: the activity's marker
 * is recorded in one task and the code after it runs in the next. A replay (a worker restarted, a cache eviction) runs
 * that code in the earlier task, before the later task's patch markers are known; a wf.patched() there answered
 * false where the recording said true, and the workflow's task failed for good (TMPRL1100). The patch decisions are
 * taken at the start now (src/workflows/patches.ts): such histories, recorded here under queries, replay.
 */
import { execFile } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { historyToJSON } from '@temporalio/common/lib/proto-utils';
import type { temporal } from '@temporalio/proto';
import { stateQuery } from '../../src/shared/messages';
import { recommendationInput, startHarness, type Harness } from '../helpers/harness';

const run = promisify(execFile);
let h: Harness;
beforeAll(async () => {
  h = await startHarness();
});
afterAll(async () => h?.stop());

type Events = temporal.api.history.v1.IHistoryEvent[];
/**
 * The first local activity's marker (the plan read) ending its workflow task, the next task holding the code after it:
 * where the code before patches-at-start asked its first patch.
 */
const splitAfterFirstLocalActivity = (events: Events) => {
  const first = events.findIndex((e) => e.markerRecordedEventAttributes?.markerName === 'core_local_activity');
  return first >= 0 && events[first + 1]?.workflowTaskScheduledEventAttributes != null;
};

/** Ten recommendations started while queried as often as the client can: `reelflow status`, the dashboard. */
async function queriedWhileStarting(round: number) {
  // Scheduled a minute out: each stops at its timer after its first local activities (its plan read and written).
  const scheduleAfter = new Date(Date.now() + 60_000).toISOString();
  return Promise.all(
    Array.from({ length: 10 }, async (_, i) => {
      const { workflowId } = await h.service.enqueue(recommendationInput({ title: `Consultada ${round}.${i}`, scheduleAfter }));
      const handle = h.client.workflow.getHandle(workflowId);
      const until = Date.now() + 1_500;
      while (Date.now() < until) await handle.query(stateQuery).catch(() => undefined);
      return handle;
    }),
  );
}

it('replays the histories of recommendations queried while their local activities ran', async () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'reelflow-replay-'));
  let split = 0;
  // Until a split is recorded (a round or two as a rule): without one this test proves nothing.
  for (let round = 1; round <= 8 && split === 0; round++) {
    for (const handle of await queriedWhileStarting(round)) {
      const history = await handle.fetchHistory();
      if (splitAfterFirstLocalActivity(history.events ?? [])) split += 1;
      fs.writeFileSync(path.join(dir, `${handle.workflowId}.json`), historyToJSON(history));
      await handle.cancel();
    }
  }
  expect(split).toBeGreaterThan(0);
  const files = fs.readdirSync(dir).map((f) => path.join(dir, f));
  const { stdout } = await run(
    process.execPath,
    ['-r', 'tsx/cjs', path.resolve(__dirname, '../../scripts/replay-histories.ts'), ...files],
    {
      cwd: path.resolve(__dirname, '../..'),
    },
  ).catch((err: { stdout?: string; message: string }) => ({ stdout: err.stdout ?? err.message }));
  expect(stdout.split('\n').filter((l) => l.startsWith('FAILED'))).toEqual([]);
  expect(stdout.split('\n').filter((l) => l.startsWith('ok'))).toHaveLength(files.length);
}, 180_000);
