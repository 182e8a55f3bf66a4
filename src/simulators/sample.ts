/**
 * The shipped sample of competitor videos as the simulators serve it: each
 * video's audio (data/sample/competitor-audio/<id>.mp3, made by
 * scripts/sample-audio.ts) on the YouTube simulator's media host with a watch
 * page, and its transcript registered in the OpenAI simulator for those bytes.
 * sampleCompetitorVideoInputs gives the matching workflow inputs, so the demo,
 * `reelflow competitor ingest` and the tests run the real path: yt-dlp on a
 * page, ffmpeg, a multipart upload.
 */
import fs from 'node:fs';
import path from 'node:path';
import { z } from 'zod';
import type { CompetitorVideoInput } from '../workflows/competitor-video';
import type { MediaHost } from './media';
import type { OpenAiSimulator } from './openai';

export const SAMPLE_DIR = path.resolve(__dirname, '../../data/sample');
export const SAMPLE_VIDEOS_FILE = path.join(SAMPLE_DIR, 'competitor-videos.json');
export const SAMPLE_AUDIO_DIR = path.join(SAMPLE_DIR, 'competitor-audio');
/** Uploads the demo publishes on its watched channels during a run (src/demo/channels.ts). */
export const LIVE_UPLOADS_FILE = path.join(SAMPLE_DIR, 'live-uploads.json');

const liveUploadSchema = z.array(
  z.object({
    id: z.string().regex(/^[A-Za-z0-9_-]{11}$/),
    /** The sample channel it is published on. */
    channel: z.string(),
    title: z.string(),
    views: z.number().int().min(0),
    viewsPerHour: z.number().min(0),
    transcript: z.string(),
  }),
);
export type LiveUpload = z.infer<typeof liveUploadSchema>[number] & { audioFile: string };

export function readLiveUploads(): LiveUpload[] {
  return liveUploadSchema
    .parse(JSON.parse(fs.readFileSync(LIVE_UPLOADS_FILE, 'utf8')))
    .map((u) => ({ ...u, audioFile: path.join(SAMPLE_AUDIO_DIR, `${u.id}.mp3`) }));
}

const sampleSchema = z.array(
  z.object({
    url: z.string().url(),
    channel: z.string(),
    title: z.string(),
    views: z.number().int().min(0),
    /** Hours relative to "now" (negative = in the past), so the sample always falls inside the lookback window. */
    publishedAtOffsetHours: z.number(),
    transcript: z.string(),
  }),
);

type SampleEntry = z.infer<typeof sampleSchema>[number];

export interface SampleVideo extends SampleEntry {
  /** The YouTube video id of its url: names its audio file and its watch page. */
  id: string;
  audioFile: string;
}

/** `v` of a youtube.com/watch URL (the sample's form). */
export function sampleVideoId(url: string): string {
  const id = new URL(url).searchParams.get('v');
  if (!id) throw new Error(`sample video url ${url} has no v= parameter`);
  return id;
}

export function readSampleVideos(): SampleVideo[] {
  return sampleSchema.parse(JSON.parse(fs.readFileSync(SAMPLE_VIDEOS_FILE, 'utf8'))).map((v) => {
    const id = sampleVideoId(v.url);
    return { ...v, id, audioFile: path.join(SAMPLE_AUDIO_DIR, `${id}.mp3`) };
  });
}

/** Serves each sample video's audio on `media` and teaches `openai` its transcript. */
export function registerSampleVideos(media: MediaHost, openai: OpenAiSimulator): SampleVideo[] {
  const videos = readSampleVideos();
  // The live uploads are served from the start too: a page nobody links to yet is harmless.
  for (const video of [...videos, ...readLiveUploads()]) {
    const bytes = fs.readFileSync(video.audioFile);
    media.add(video.id, bytes, { ext: 'mp3', title: video.title });
    openai.registerAudio(bytes, video.transcript);
  }
  return videos;
}

/** The sample as workflow inputs whose pages are on the YouTube simulator at `youtubeSimulatorUrl`. */
export function sampleCompetitorVideoInputs(youtubeSimulatorUrl: string, now = new Date()): CompetitorVideoInput[] {
  const base = youtubeSimulatorUrl.replace(/\/+$/, '');
  return readSampleVideos().map((v) => ({
    url: `${base}/watch?v=${v.id}`,
    platform: 'youtube',
    externalId: v.id,
    channel: v.channel,
    title: v.title,
    views: v.views,
    publishedAt: new Date(now.getTime() + v.publishedAtOffsetHours * 3_600_000).toISOString(),
  }));
}
