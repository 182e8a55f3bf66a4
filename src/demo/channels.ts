/**
 * The demo's watched competitor channels: two of the sample's channels exist
 * on the YouTube simulator with their sample videos as uploads, and the studio
 * watches them (`competitor add`), as an operator would. Partway through the
 * run each publishes a live upload (data/sample/live-uploads.json); the
 * competitors Schedule's next run finds it, and it flows through audio,
 * transcript, analysis and the engine like the rest.
 */
import { createHash } from 'node:crypto';
import type { YouTubeDiscoverySim } from '../simulators/youtube-discovery';
import { readLiveUploads, readSampleVideos, type LiveUpload } from '../simulators/sample';

/** The sample channels the demo watches (the others' videos come in as one-off links). */
export const DEMO_CHANNELS = ['Chollos Fantasy TV', 'Fantasy con Dani'] as const;

/** A stable channel id per name, so a restarted demo (simulator state kept) finds the same channel. */
function channelIdOf(name: string): string {
  return `UC${createHash('sha256').update(name).digest('base64url').slice(0, 22)}`;
}

export interface DemoChannel {
  name: string;
  id: string;
  handle: string;
}

/** Creates the demo channels on the simulator with their sample uploads, unless a previous run did. */
export function setUpDemoChannels(sim: YouTubeDiscoverySim, now = new Date()): DemoChannel[] {
  const sample = readSampleVideos();
  return DEMO_CHANNELS.map((name) => {
    const id = channelIdOf(name);
    const handle = `@${name.toLowerCase().replace(/[^a-z0-9]+/g, '')}`;
    if (!sim.channel(id)) {
      sim.addChannel({ id, handle, title: name });
      for (const v of sample.filter((s) => s.channel === name)) {
        sim.publish(id, {
          id: v.id,
          title: v.title,
          views: v.views,
          viewsPerHour: Math.round(v.views / 24),
          publishedAt: new Date(now.getTime() + v.publishedAtOffsetHours * 3_600_000).toISOString(),
        });
      }
    }
    return { name, id, handle };
  });
}

/** The sample videos of the channels the demo does not watch: an editor pastes their links (add-video). */
export function oneOffSampleVideos(): ReturnType<typeof readSampleVideos> {
  return readSampleVideos().filter((v) => !(DEMO_CHANNELS as readonly string[]).includes(v.channel));
}

/** Publishes the live uploads not published yet; returns what it published. */
export function publishLiveUploads(sim: YouTubeDiscoverySim, channels: readonly DemoChannel[]): LiveUpload[] {
  const published: LiveUpload[] = [];
  for (const upload of readLiveUploads()) {
    const channel = channels.find((c) => c.name === upload.channel);
    if (!channel || sim.channel(channel.id)?.uploads.some((u) => u.id === upload.id)) continue;
    sim.publish(channel.id, { id: upload.id, title: upload.title, views: upload.views, viewsPerHour: upload.viewsPerHour });
    published.push(upload);
  }
  return published;
}
