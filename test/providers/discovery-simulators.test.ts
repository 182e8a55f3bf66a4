/**
 * The discovery simulators through the real clients: a feed's 15-entry cap,
 * Business Discovery paged to the end with media_url only for original audio,
 * and channels, uploads and accounts kept in the state file across a restart.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { InstagramDiscoveryClient } from '../../src/providers/instagram/discovery-client';
import { YouTubeDiscoveryClient } from '../../src/providers/youtube/discovery-client';
import { InstagramSimulator } from '../../src/simulators/instagram';
import { YouTubeSimulator } from '../../src/simulators/youtube';

const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'discovery-sims-'));
afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

describe('discovery simulators', () => {
  it('keep channels, uploads and accounts across a restart (state file)', async () => {
    const stateFile = path.join(dir, 'youtube.json');
    const first = await new YouTubeSimulator({ stateFile }).start();
    const channel = first.discovery.addChannel({ handle: '@persistente', videos: 20 });
    await first.stop();
    const second = await new YouTubeSimulator({ stateFile }).start();
    try {
      const client = new YouTubeDiscoveryClient({ feedBaseUrl: second.url, apiBaseUrl: `${second.url}/youtube/v3` });
      const videos = await client.latest({ externalId: channel.id, displayName: '' });
      // The feed's cap: the newest 15 of 20, newest first.
      expect(videos.map((v) => v.externalId)).toEqual(channel.uploads.slice(0, 15).map((u) => u.id));
    } finally {
      await second.stop();
    }

    const igFile = path.join(dir, 'instagram.json');
    const ig = await new InstagramSimulator({ stateFile: igFile }).start();
    ig.discovery.addAccount({ username: 'persistente', reels: 2 });
    await ig.stop();
    const ig2 = await new InstagramSimulator({ stateFile: igFile }).start();
    try {
      const client = new InstagramDiscoveryClient({ baseUrl: `${ig2.url}/v25.0`, accessToken: 't', userId: '1784' });
      expect(await client.latest({ externalId: 'persistente', displayName: '' })).toHaveLength(2);
    } finally {
      await ig2.stop();
    }
  });

  it('the Data API path leaves a premiere not aired and a stream still live for a later check', async () => {
    const sim = await new YouTubeSimulator({}).start();
    try {
      const channel = sim.discovery.addChannel({ handle: '@endirecto', videos: 2 });
      const premiere = sim.discovery.publish(channel.id, { title: 'Estreno: chollos J15', liveBroadcastContent: 'upcoming' });
      const live = sim.discovery.publish(channel.id, { title: 'En directo: mercado', liveBroadcastContent: 'live' });
      const client = new YouTubeDiscoveryClient({ feedBaseUrl: sim.url, apiBaseUrl: `${sim.url}/youtube/v3`, apiKey: 'k' });
      const ids = async () => (await client.latest({ externalId: channel.id, displayName: '' })).map((v) => v.externalId);
      expect(await ids()).toEqual(channel.uploads.filter((u) => u.id !== premiere.id && u.id !== live.id).map((u) => u.id));
      // The stream ended: a recording now, listed with the rest.
      sim.discovery.setBroadcast(live.id, 'none');
      expect(await ids()).toContain(live.id);
      expect(await ids()).not.toContain(premiere.id);
    } finally {
      await sim.stop();
    }
  });

  it('pages Business Discovery to the end; media_url only where the audio is original', async () => {
    const sim = await new InstagramSimulator().start();
    try {
      sim.discovery.addAccount({ username: 'paginas', reels: 60 });
      const client = new InstagramDiscoveryClient({ baseUrl: `${sim.url}/v25.0`, accessToken: 't', userId: '1784', pageSize: 25 });
      const seen: string[] = [];
      let after: string | undefined;
      let withMedia = 0;
      for (let page = 0; page < 10; page++) {
        const { videos, after: next } = await client.page('paginas', after);
        seen.push(...videos.map((v) => v.externalId));
        withMedia += videos.filter((v) => v.mediaUrl).length;
        expect(videos.every((v) => v.url.includes(`/reel/${v.externalId}/`))).toBe(true);
        if (!next) break;
        after = next;
      }
      expect(seen).toHaveLength(60);
      expect(new Set(seen).size).toBe(60);
      // Every third reel uses original audio.
      expect(withMedia).toBe(20);
    } finally {
      await sim.stop();
    }
  });
});
