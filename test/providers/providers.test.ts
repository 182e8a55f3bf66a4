import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { z } from 'zod';
import { loadEnv } from '../../src/config/env';
import { createProviders } from '../../src/providers';
import { startSimulators, type RunningSimulators } from '../../src/simulators/index';
import type { Providers, Publisher } from '../../src/providers/types';
import { POLL } from './support';
import { waitUntil } from '../helpers/wait';

describe('createProviders against startSimulators', () => {
  let running: RunningSimulators;
  let providers: Providers;

  beforeAll(async () => {
    running = await startSimulators({ taskDurationMs: 100 });
    providers = createProviders(loadEnv(running.env));
  });
  afterAll(() => running.stop());

  it('runs the whole chain: brief, VEO3 video, three publishers', async () => {
    const brief = await providers.openai.generateJson({
      name: 'brief',
      schema: z.object({ prompt: z.string() }),
      jsonSchema: { type: 'object', additionalProperties: false, required: ['prompt'], properties: { prompt: { type: 'string' } } },
      system: 's',
      user: 'u',
    });
    const { taskId } = await providers.veo3.submit({ prompt: brief.prompt, aspectRatio: '9:16' });
    const video = await waitUntil(() => providers.veo3.getStatus(taskId), { until: (s) => s.state !== 'generating', ...POLL });
    if (video.state !== 'succeeded') throw new Error(`video ${video.state}`);

    const publish = async (publisher: Publisher) => {
      const { handle } = await publisher.createUpload({ videoUrl: video.videoUrl, caption: 'caption', title: 'title' });
      const status = await waitUntil(() => publisher.getStatus(handle), { until: (s) => s.state !== 'processing', ...POLL });
      if (status.state === 'published') return status.postId;
      expect(status.state).toBe('ready');
      return (await publisher.publish(handle)).postId;
    };
    const posts = await Promise.all([publish(providers.instagram), publish(providers.tiktok), publish(providers.youtube)]);
    expect(posts.every((id) => typeof id === 'string' && id.length > 0)).toBe(true);

    const { sims } = running;
    expect([sims.openai, sims.veo3, sims.instagram, sims.tiktok, sims.youtube].map((s) => s.stats().submissions)).toEqual([1, 1, 1, 1, 1]);
  });
});
