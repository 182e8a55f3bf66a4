import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { KieVideoClient, kindForKieCode } from '../../src/providers/veo3/client';
import { paramsSchema } from '../../src/providers/veo3/schemas';
import { Veo3Simulator } from '../../src/simulators/veo3';
import { expectProviderError, TASK_MS, POLL } from './support';
import { waitUntil } from '../helpers/wait';
import { sleep } from '../../src/shared/sleep';

describe('KIE Veo3 client against its simulator', () => {
  const sim = new Veo3Simulator({ taskDurationMs: TASK_MS });
  let client: KieVideoClient;

  beforeAll(async () => {
    await sim.start();
    client = new KieVideoClient({ baseUrl: sim.url, apiKey: 'test-key', timeoutMs: 2_000 });
  });
  afterEach(() => {
    sim.reset();
    sim.envelopeErrors = false;
  });
  afterAll(() => sim.stop());

  it("describes a task from KIE's record: the prompt it was made from and the submit key its callback URL names", async () => {
    sim.setFaults({ neverFinish: true });
    const key = '5f0c6a8e-1b2c-4d3e-8f90-a1b2c3d4e5f6.0123abcd';
    const keyed = new KieVideoClient({ baseUrl: sim.url, apiKey: 'test-key', callBackUrl: 'http://127.0.0.1:9/hooks/kie/s3cret/' });
    const { taskId } = await keyed.submit({ prompt: 'a keeper  saves', aspectRatio: '9:16', callbackKey: key });
    expect(await client.describeTask(taskId)).toEqual({
      status: { state: 'generating' },
      madeFrom: { prompt: 'a keeper  saves', callbackKey: key },
    });
    // Told the record's prompt is not the one sent (KIE_PARAMJSON_PROMPT=unreliable): the key alone.
    const keyOnly = new KieVideoClient({ baseUrl: sim.url, apiKey: 'test-key', paramJsonPrompt: 'unreliable' });
    expect((await keyOnly.describeTask(taskId)).madeFrom).toEqual({ callbackKey: key });
    // A record made by hand on KIE's site may say `callBackUrl: null`: its prompt is still read.
    expect(paramsSchema.parse({ prompt: 'by hand', callBackUrl: null, model: 'veo3' })).toMatchObject({
      prompt: 'by hand',
      callBackUrl: null,
    });
    // Made without a callback URL: the prompt alone.
    const plain = await client.submit({ prompt: 'a striker scores', aspectRatio: '9:16' });
    expect((await client.describeTask(plain.taskId)).madeFrom).toEqual({ prompt: 'a striker scores' });
  });

  it('submits once, reports generating, then a downloadable result', async () => {
    // neverFinish pins "generating" so the assertion does not race the task duration.
    sim.setFaults({ neverFinish: true });
    const { taskId } = await client.submit({ prompt: 'a goalkeeper saves a penalty', aspectRatio: '9:16' });
    expect(taskId).toMatch(/^veo_task_/);
    expect(await client.getStatus(taskId)).toEqual({ state: 'generating' });
    sim.setFaults({ neverFinish: false });

    const done = await waitUntil(() => client.getStatus(taskId), { until: (s) => s.state !== 'generating', ...POLL });
    expect(done).toEqual({ state: 'succeeded', videoUrl: `${sim.url}/videos/${taskId}.mp4`, resolution: '720p' });
    const video = await fetch(done.state === 'succeeded' ? done.videoUrl : '');
    expect(video.status).toBe(200);
    expect(video.headers.get('content-type')).toBe('video/mp4');
    expect((await video.arrayBuffer()).byteLength).toBeGreaterThan(1000);

    const stats = sim.stats();
    expect(stats.submissions).toBe(1);
    expect(stats.submitTimes).toHaveLength(1);
    expect(stats.inFlight).toBe(0);
  });

  it('429 with Retry-After is rate_limited with retryAfterMs', async () => {
    sim.setFaults({ rateLimitNext: 1 });
    const err = await expectProviderError(client.submit({ prompt: 'x', aspectRatio: '9:16' }), 'rate_limited');
    expect(err.details).toMatchObject({ status: 429, code: 429, retryAfterMs: 1000 });
    expect(sim.stats()).toMatchObject({ rateLimited: 1, submissions: 0 });
  });

  it('classifies on the envelope code when errors arrive as HTTP 200', async () => {
    sim.envelopeErrors = true;
    sim.setFaults({ rateLimitNext: 1, failNext: 2 });
    const limited = await expectProviderError(client.submit({ prompt: 'x', aspectRatio: '9:16' }), 'rate_limited');
    expect(limited.details).toMatchObject({ status: 200, code: 429 });
    const e500 = await expectProviderError(client.submit({ prompt: 'x', aspectRatio: '9:16' }), 'transient');
    expect(e500.details.code).toBe(500);
    const e455 = await expectProviderError(client.submit({ prompt: 'x', aspectRatio: '9:16' }), 'transient');
    expect(e455.details.code).toBe(455);
    const bad = await expectProviderError(client.submit({ prompt: '  ', aspectRatio: '9:16' }), 'permanent');
    expect(bad.message).toContain('prompt');
  });

  it('5xx is transient', async () => {
    sim.setFaults({ failNext: 2 });
    await expectProviderError(client.submit({ prompt: 'x', aspectRatio: '9:16' }), 'transient');
    const maintenance = await expectProviderError(client.getStatus('veo_task_x'), 'transient');
    expect(maintenance.details.status).toBe(455);
  });

  it('4xx is permanent and keeps the provider message', async () => {
    const badRatio = await expectProviderError(client.submit({ prompt: 'x', aspectRatio: '4:3' as unknown as '9:16' }), 'permanent');
    expect(badRatio.message).toContain('aspectRatio');
    expect(badRatio.details).toMatchObject({ status: 422, code: 422 });

    const unknown = await expectProviderError(client.getStatus('veo_task_nope'), 'permanent');
    expect(unknown.message).toContain('recordInfo is null');

    const noAuth = new KieVideoClient({ baseUrl: sim.url, apiKey: '' });
    const denied = await expectProviderError(noAuth.submit({ prompt: 'x', aspectRatio: '9:16' }), 'permanent');
    expect(denied.message).toContain('You do not have access permissions');
    expect(denied.details.status).toBe(401);
  });

  it('garbage body is malformed', async () => {
    sim.setFaults({ malformedNext: 1 });
    const err = await expectProviderError(client.submit({ prompt: 'x', aspectRatio: '9:16' }), 'malformed');
    expect(err.message).toContain('not JSON');
  });

  it('a hung request times out as transient', async () => {
    sim.setFaults({ hang: true });
    const quick = new KieVideoClient({ baseUrl: sim.url, apiKey: 'k', timeoutMs: 150 });
    const err = await expectProviderError(quick.submit({ prompt: 'x', aspectRatio: '9:16' }), 'transient');
    expect(err.details.code).toBe('timeout');
    sim.setFaults({ hang: false });
    expect(sim.stats().submissions).toBe(0);
  });

  it('failTasks ends tasks failed; neverFinish keeps them generating', async () => {
    sim.setFaults({ failTasks: true });
    const { taskId } = await client.submit({ prompt: 'x', aspectRatio: '16:9' });
    const failed = await waitUntil(() => client.getStatus(taskId), { until: (s) => s.state !== 'generating', ...POLL });
    expect(failed).toMatchObject({ state: 'failed', code: 501 });

    sim.setFaults({ failTasks: false, neverFinish: true });
    const stuck = await client.submit({ prompt: 'x', aspectRatio: '16:9' });
    await sleep(TASK_MS * 2);
    expect(await client.getStatus(stuck.taskId)).toEqual({ state: 'generating' });
    expect(sim.stats().inFlight).toBe(1);
  });

  it('stats count submissions and the maximum in flight', async () => {
    for (let round = 0; round < 2; round++) {
      sim.setFaults({ neverFinish: true });
      const tasks = await Promise.all([0, 1].map(() => client.submit({ prompt: `round ${round}`, aspectRatio: '9:16' })));
      expect(sim.stats().inFlight).toBe(2);
      sim.setFaults({ neverFinish: false });
      for (const { taskId } of tasks) await waitUntil(() => client.getStatus(taskId), { until: (s) => s.state === 'succeeded', ...POLL });
    }
    const stats = sim.stats();
    expect(stats.submissions).toBe(4);
    expect(stats.maxInFlight).toBe(2);
    expect(stats.inFlight).toBe(0);
    expect(stats.submitTimes).toHaveLength(4);
  });

  it('image input becomes FIRST_AND_LAST_FRAMES_2_VIDEO with imageUrls', async () => {
    const { taskId } = await client.submit({ prompt: 'x', aspectRatio: '9:16', imageUrl: 'https://example.com/a.png', model: 'veo3' });
    const raw = await fetch(`${sim.url}/api/v1/veo/record-info?taskId=${taskId}`, { headers: { Authorization: 'Bearer k' } });
    const body = (await raw.json()) as { data: { paramJson: string } };
    expect(JSON.parse(body.data.paramJson)).toMatchObject({
      generationType: 'FIRST_AND_LAST_FRAMES_2_VIDEO',
      imageUrls: ['https://example.com/a.png'],
      model: 'veo3',
      enableTranslation: true,
    });
  });

  it('maps the documented KIE codes', () => {
    expect(kindForKieCode(429)).toBe('rate_limited');
    expect(kindForKieCode(455)).toBe('transient');
    expect(kindForKieCode(500)).toBe('transient');
    expect(kindForKieCode(501)).toBe('permanent');
    expect(kindForKieCode(402)).toBe('quota_exhausted');
    expect(kindForKieCode(422)).toBe('permanent');
  });
});
