/**
 * The image runs what `npm run build` emits, with plain node (Dockerfile): no
 * tsx to resolve a .ts file the compiled code still names, to find the workflow
 * sources, or to paper over a path that only works from src/. Every other test
 * runs through tsx and cannot see those breaks; this one starts the compiled
 * worker entry and has it run a recommendation to the end.
 */
import { execFile } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { QUEUE_NAMES } from '../../src/config/providers';
import { queueWorkers } from '../../src/temporal/queue-workers';
import { recommendationInput, startHarness, type Harness } from '../helpers/harness';
import { spawnEntry, type SpawnedProcess } from '../helpers/processes';
import { waitUntil } from '../helpers/wait';

const ROOT = path.resolve(__dirname, '../..');
const ENTRY = 'dist/workers/main.js';

/** Newest modification time under a directory (0 when it does not exist). */
function newest(dir: string): number {
  if (!fs.existsSync(dir)) return 0;
  return fs
    .readdirSync(dir, { withFileTypes: true, recursive: true })
    .filter((e) => e.isFile())
    .reduce((max, e) => Math.max(max, fs.statSync(path.join(e.parentPath, e.name)).mtimeMs), 0);
}

/** The build is incremental (dist/.tsbuildinfo), and skipped when nothing it reads changed since. */
async function ensureBuilt(): Promise<void> {
  const stamp = path.join(ROOT, 'dist/.tsbuildinfo');
  const built = fs.existsSync(stamp) && fs.existsSync(path.join(ROOT, ENTRY)) ? fs.statSync(stamp).mtimeMs : 0;
  const inputs = Math.max(
    newest(path.join(ROOT, 'src')),
    ...['tsconfig.json', 'tsconfig.build.json'].map((f) => fs.statSync(path.join(ROOT, f)).mtimeMs),
  );
  if (built > inputs) return;
  await promisify(execFile)('npm', ['run', 'build'], { cwd: ROOT, timeout: 170_000 });
}

let h: Harness;
let worker: SpawnedProcess | undefined;
beforeAll(async () => {
  await ensureBuilt();
  h = await startHarness({ workers: false });
  worker = await spawnEntry(ENTRY, { env: { ...h.childEnv, LOG_LEVEL: 'info' }, ready: /workers running/, what: 'compiled worker' });
}, 240_000);
afterAll(async () => {
  await worker?.kill('SIGKILL');
  await h?.stop();
});

describe('the compiled worker (dist/, plain node)', () => {
  it('runs without tsx and polls every task queue', async () => {
    expect(worker!.child.spawnargs.slice(1)).toEqual([path.join(ROOT, ENTRY)]);
    await waitUntil(async () => (await queueWorkers(h.client, h.taskQueue)).every((w) => w.workers === 1), {
      what: 'the compiled worker polling every queue',
    });
    expect((await queueWorkers(h.client, h.taskQueue)).map((w) => w.queue).sort()).toEqual([...QUEUE_NAMES].sort());
  });

  it('bundles the workflows from dist/ and runs a recommendation to published', async () => {
    const { workflowId } = await h.service.enqueue(recommendationInput({ jobConfig: { platforms: ['instagram'] } }));
    const result = await h.client.workflow.getHandle(workflowId).result();
    expect(result.status).toBe('published');
  });
});
