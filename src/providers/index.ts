/**
 * The five real provider clients, built from configuration. Pointing the
 * base URLs at the simulators (src/simulators/) swaps nothing else.
 */
import { assertProviderCredentials, type Env } from '../config/env';
import { InstagramClient } from './instagram/client';
import { KieVideoClient } from './veo3/client';
import { OpenAiTextClient } from './openai/client';
import { TikTokClient } from './tiktok/client';
import type { Providers } from './types';
import { YouTubeClient } from './youtube/client';

export interface ProviderClientOptions {
  /** Per-request timeout for plain HTTP calls (KIE, Graph, TikTok, YouTube metadata). Default 30 000 ms. */
  timeoutMs?: number;
  /** OpenAI call timeout. Default 120 000 ms. */
  openaiTimeoutMs?: number;
  /** YouTube video download and upload PUT timeout. Default 600 000 ms. */
  transferTimeoutMs?: number;
}

/** Refuses (ConfigError naming the variables) credentials a real API would answer with 401. */
export function createProviders(env: Env, options: ProviderClientOptions = {}): Providers {
  assertProviderCredentials(env);
  return {
    veo3: new KieVideoClient({
      baseUrl: env.KIE_BASE_URL,
      apiKey: env.KIE_API_KEY,
      model: env.KIE_MODEL,
      callBackUrl: env.KIE_CALLBACK_URL,
      paramJsonPrompt: env.KIE_PARAMJSON_PROMPT,
      timeoutMs: options.timeoutMs,
    }),
    openai: new OpenAiTextClient({
      baseUrl: env.OPENAI_BASE_URL,
      apiKey: env.OPENAI_API_KEY,
      model: env.OPENAI_MODEL,
      transcribeModel: env.OPENAI_TRANSCRIBE_MODEL,
      timeoutMs: options.openaiTimeoutMs,
    }),
    instagram: new InstagramClient({
      baseUrl: env.INSTAGRAM_BASE_URL,
      accessToken: env.INSTAGRAM_ACCESS_TOKEN,
      userId: env.INSTAGRAM_USER_ID,
      timeoutMs: options.timeoutMs,
    }),
    tiktok: new TikTokClient({
      baseUrl: env.TIKTOK_BASE_URL,
      accessToken: env.TIKTOK_ACCESS_TOKEN,
      privacyLevel: env.TIKTOK_PRIVACY_LEVEL,
      timeoutMs: options.timeoutMs,
    }),
    youtube: new YouTubeClient({
      uploadBaseUrl: env.YOUTUBE_UPLOAD_BASE_URL,
      apiBaseUrl: env.YOUTUBE_API_BASE_URL,
      accessToken: env.YOUTUBE_ACCESS_TOKEN,
      privacyStatus: env.YOUTUBE_PRIVACY_STATUS,
      timeoutMs: options.timeoutMs,
      transferTimeoutMs: options.transferTimeoutMs,
    }),
  };
}

export type * from './types';
