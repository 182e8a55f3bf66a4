/**
 * Starts the five provider simulators together and hands back the environment
 * that points the real clients at them. Used by tests, the demo, the bench
 * and `npm run simulators` (main.ts), which all get the same OpenAI answers.
 */
import path from 'node:path';
import { ApiFootballSimulator } from './api-football';
import { InstagramSimulator } from './instagram';
import { Veo3Simulator } from './veo3';
import { OpenAiSimulator, type SimResponder } from './openai';
import { registerSampleVideos } from './sample';
import { contentResponders } from './responders';
import type { SimulatorServer } from './server';
import { TikTokSimulator } from './tiktok';
import { YouTubeSimulator } from './youtube';

/**
 * One simulator per provider host: the YouTube simulator also answers the Data API and
 * channel feeds (provider youtube_data), the Instagram one Business Discovery (instagram_graph).
 * Audio downloads (audio_fetch) go to the media the simulators serve, through the real yt-dlp.
 */
export const SIMULATOR_NAMES = ['veo3', 'openai', 'instagram', 'tiktok', 'youtube', 'api_football'] as const;
export type SimulatorName = (typeof SIMULATOR_NAMES)[number];

export interface Simulators {
  veo3: Veo3Simulator;
  openai: OpenAiSimulator;
  instagram: InstagramSimulator;
  tiktok: TikTokSimulator;
  youtube: YouTubeSimulator;
  api_football: ApiFootballSimulator;
}

export interface StartSimulatorsOptions {
  /** Bind address of every simulator. Default 127.0.0.1. */
  host?: string;
  /** Host name clients use to reach them (goes into the env URLs and handed-out URLs). Default 127.0.0.1. */
  publicHost?: string;
  /** Fixed ports; a missing entry (or 0) picks a free port. */
  ports?: Partial<Record<SimulatorName, number>>;
  /**
   * Processing time per simulator, or one number for all five.
   * Defaults: veo3/instagram/tiktok/youtube 3000 ms, openai 500 ms.
   */
  taskDurationMs?: number | Partial<Record<SimulatorName, number>>;
  /**
   * How the OpenAI simulator answers structured outputs. 'stand-in' (default)
   * plugs in contentResponders: readable briefs and the rules-based competitor
   * analysis of our sample transcripts. 'schema' leaves every schema to the
   * generic sampler, whose placeholders ("sample name") no rule acts on.
   */
  responders?: 'stand-in' | 'schema';
  /**
   * Directory of the simulators' state files (<name>.json): renders, containers, uploads and
   * publish ids outlive a restart, as they do at the real providers. Unset: memory only.
   */
  stateDir?: string;
  /** More OpenAI answers per json_schema name, registered after `responders` (see OpenAiSimulator.registerResponder). */
  openaiResponders?: Record<string, SimResponder>;
  /**
   * Serve the shipped sample of competitor videos (sample.ts): their audio and watch pages on the
   * YouTube simulator, their transcripts known to the OpenAI one. Default true.
   */
  sample?: boolean;
  /** Real milliseconds one hour of a post's age takes (Instagram, TikTok, YouTube metrics). Default real time. */
  metricsHourMs?: number;
}

export interface RunningSimulators {
  sims: Simulators;
  /** KIE_BASE_URL, OPENAI_BASE_URL, INSTAGRAM_BASE_URL, TIKTOK_BASE_URL, YOUTUBE_UPLOAD_BASE_URL, YOUTUBE_API_BASE_URL. */
  env: Record<string, string>;
  /** reset() on every simulator: default faults, zero stats, no provider state. */
  reset(): void;
  stop(): Promise<void>;
}

export async function startSimulators(opts: StartSimulatorsOptions = {}): Promise<RunningSimulators> {
  const o = (name: SimulatorName) => {
    const port = opts.ports?.[name];
    const duration = typeof opts.taskDurationMs === 'number' ? opts.taskDurationMs : opts.taskDurationMs?.[name];
    return {
      ...(port !== undefined ? { port } : {}),
      ...(duration !== undefined ? { taskDurationMs: duration } : {}),
      ...(opts.host !== undefined ? { host: opts.host } : {}),
      ...(opts.publicHost !== undefined ? { publicHost: opts.publicHost } : {}),
      ...(opts.stateDir !== undefined ? { stateFile: path.join(opts.stateDir, `${name}.json`) } : {}),
    };
  };
  const sims: Simulators = {
    veo3: new Veo3Simulator(o('veo3')),
    openai: new OpenAiSimulator(o('openai')),
    instagram: new InstagramSimulator(o('instagram')),
    tiktok: new TikTokSimulator(o('tiktok')),
    youtube: new YouTubeSimulator(o('youtube')),
    api_football: new ApiFootballSimulator(o('api_football')),
  };
  const responders = { ...((opts.responders ?? 'stand-in') === 'stand-in' ? contentResponders : {}), ...opts.openaiResponders };
  for (const [name, responder] of Object.entries(responders)) sims.openai.registerResponder(name, responder);
  if (opts.sample ?? true) registerSampleVideos(sims.youtube.media, sims.openai);
  if (opts.metricsHourMs !== undefined)
    for (const s of [sims.instagram, sims.tiktok, sims.youtube]) s.metrics.setDefaultHourMs(opts.metricsHourMs);
  const all: SimulatorServer[] = Object.values(sims);
  const stop = () => Promise.all(all.map((s) => s.stop())).then(() => undefined);
  try {
    await Promise.all(all.map((s) => s.start()));
  } catch (err) {
    await stop();
    throw err;
  }
  return {
    sims,
    env: simulatorEnv(sims),
    reset: () => all.forEach((s) => s.reset()),
    stop,
  };
}

/** The base-URL variables of config/env.ts, pointed at running simulators. */
function simulatorEnv(sims: Simulators): Record<string, string> {
  return {
    KIE_BASE_URL: sims.veo3.url,
    OPENAI_BASE_URL: `${sims.openai.url}/v1`,
    INSTAGRAM_BASE_URL: `${sims.instagram.url}/v24.0`,
    TIKTOK_BASE_URL: sims.tiktok.url,
    YOUTUBE_UPLOAD_BASE_URL: `${sims.youtube.url}/upload/youtube/v3`,
    YOUTUBE_API_BASE_URL: `${sims.youtube.url}/youtube/v3`,
    // Competitor discovery: feeds and channel pages on the YouTube simulator, Business Discovery on the Instagram one.
    YOUTUBE_FEED_BASE_URL: sims.youtube.url,
    YOUTUBE_DATA_API_BASE_URL: `${sims.youtube.url}/youtube/v3`,
    INSTAGRAM_GRAPH_BASE_URL: `${sims.instagram.url}/v25.0`,
    INSTAGRAM_GRAPH_ACCESS_TOKEN: 'sim-token',
    INSTAGRAM_GRAPH_USER_ID: '17841400000000000',
    API_FOOTBALL_BASE_URL: sims.api_football.url,
    // The media host is the YouTube simulator on 127.0.0.1 (or a compose service name): a private address.
    MEDIA_ALLOW_PRIVATE_HOSTS: 'true',
  };
}
