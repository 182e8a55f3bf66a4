/** The two discovery clients, built from configuration (base URLs point at the simulators in tests and the demo). */
import type { Env } from '../config/env';
import { InstagramDiscoveryClient } from './instagram/discovery-client';
import { YouTubeDiscoveryClient } from './youtube/discovery-client';

export interface DiscoveryClients {
  youtube: YouTubeDiscoveryClient;
  instagram: InstagramDiscoveryClient;
}

export function createDiscoveryClients(env: Env, options: { timeoutMs?: number } = {}): DiscoveryClients {
  return {
    youtube: new YouTubeDiscoveryClient({
      feedBaseUrl: env.YOUTUBE_FEED_BASE_URL,
      apiBaseUrl: env.YOUTUBE_DATA_API_BASE_URL,
      apiKey: env.YOUTUBE_DATA_API_KEY,
      handleFromPage: env.YOUTUBE_HANDLE_FROM_PAGE,
      timeoutMs: options.timeoutMs,
    }),
    instagram: new InstagramDiscoveryClient({
      baseUrl: env.INSTAGRAM_GRAPH_BASE_URL,
      accessToken: env.INSTAGRAM_GRAPH_ACCESS_TOKEN,
      userId: env.INSTAGRAM_GRAPH_USER_ID,
      timeoutMs: options.timeoutMs,
    }),
  };
}
