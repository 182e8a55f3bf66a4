/**
 * The one limits table. Every provider the engine talks to has exactly one row
 * here: its Temporal task queue suffix, its global concurrency cap, the minimum
 * spacing between starts, how long a job usually takes and the timeouts and
 * attempts derived from that, whether a submit may be repeated and whether a
 * paid task can be cancelled. Per job type: its provider and estimate.
 * The gate's SQL reads the same rows (provider_limits, written on every migrate).
 *
 * This module imports nothing from Node so workflow code (sandboxed) can use it.
 * Runtime overrides (bench, tests, operators) come from env.ts and are applied
 * by the workers to the database gate; workflow timeouts always come from here.
 */

export const PROVIDERS = [
  'openai',
  'veo3',
  'instagram',
  'tiktok',
  'youtube',
  'youtube_data',
  'instagram_graph',
  'api_football',
  'audio_fetch',
] as const;
export type Provider = (typeof PROVIDERS)[number];

export interface ProviderLimits {
  /** Jobs of this provider allowed in flight at once across the whole deployment. */
  maxConcurrent: number;
  /** Minimum milliseconds between two job starts, across the whole deployment. */
  minStartIntervalMs: number;
  /** Typical run time of one job once it holds a slot. Stuck = running > 2x this. */
  estimatedDurationSeconds: number;
  /** Silence longer than this means the worker died or hung; Temporal retries elsewhere. */
  heartbeatTimeoutMs: number;
  /** Delay between two status polls of a submitted provider task. */
  pollIntervalMs: number;
  /** Temporal attempts per job (first try included). */
  maxAttempts: number;
  /**
   * A submit whose answer never arrived may be sent again. False where a
   * repeated create costs money or posts twice: the job stops instead.
   */
  submitRepeatable: boolean;
  /**
   * A submitted task can be stopped at the provider. False: a cancelled job's
   * task runs on (and is paid), so its slot stays counted until the task ends.
   */
  cancellable: boolean;
  /** Why these numbers: shown in the README and `reelflow capacity`. */
  reason: string;
}

export const PROVIDER_LIMITS: Record<Provider, ProviderLimits> = {
  veo3: {
    maxConcurrent: 2,
    minStartIntervalMs: 10_000,
    estimatedDurationSeconds: 300,
    heartbeatTimeoutMs: 10_000,
    pollIntervalMs: 10_000,
    maxAttempts: 3,
    // A resubmit is a second paid render.
    submitRepeatable: false,
    // KIE has no cancel endpoint: a render runs to its end once submitted.
    cancellable: false,
    reason: 'Each generation is paid; the plan allows 2 parallel renders and bursts get 429 (not queued).',
  },
  openai: {
    maxConcurrent: 5,
    minStartIntervalMs: 1_000,
    estimatedDurationSeconds: 10,
    heartbeatTimeoutMs: 10_000,
    pollIntervalMs: 1_000,
    maxAttempts: 3,
    // A repeated chat/transcription call only costs tokens and has no side effect.
    submitRepeatable: true,
    // A request dropped by us is over for the provider too.
    cancellable: true,
    reason: 'Tier limits on requests/tokens per minute; 5 parallel calls keep us far from them.',
  },
  instagram: {
    maxConcurrent: 3,
    minStartIntervalMs: 5_000,
    estimatedDurationSeconds: 30,
    heartbeatTimeoutMs: 10_000,
    pollIntervalMs: 3_000,
    maxAttempts: 3,
    // A media container is only a draft until media_publish: a second one is harmless.
    submitRepeatable: true,
    // An unpublished container simply expires.
    cancellable: true,
    reason: 'Graph API business-use-case throttling and a 50 posts / 24 h publishing quota.',
  },
  tiktok: {
    maxConcurrent: 2,
    minStartIntervalMs: 10_000,
    estimatedDurationSeconds: 60,
    heartbeatTimeoutMs: 10_000,
    pollIntervalMs: 5_000,
    maxAttempts: 3,
    // video/init twice makes two posts.
    submitRepeatable: false,
    // An upload never finished is never posted.
    cancellable: true,
    reason: 'video/init is limited to 6 calls per minute per user token.',
  },
  youtube: {
    maxConcurrent: 2,
    minStartIntervalMs: 5_000,
    estimatedDurationSeconds: 120,
    heartbeatTimeoutMs: 10_000,
    pollIntervalMs: 5_000,
    maxAttempts: 3,
    // A repeated videos.insert uploads (and posts) the video twice.
    submitRepeatable: false,
    // An upload never finished is never posted.
    cancellable: true,
    reason: 'videos.insert has a small daily quota; uploads are large and processing takes minutes.',
  },
  youtube_data: {
    maxConcurrent: 4,
    minStartIntervalMs: 250,
    estimatedDurationSeconds: 2,
    heartbeatTimeoutMs: 10_000,
    pollIntervalMs: 1_000,
    maxAttempts: 5,
    // A read has no side effect.
    submitRepeatable: true,
    cancellable: true,
    reason: 'Competitor discovery reads (public channel feed, Data API at 1 unit a call of 10,000/day); the feed 404s/500s now and then.',
  },
  instagram_graph: {
    maxConcurrent: 2,
    minStartIntervalMs: 1_000,
    estimatedDurationSeconds: 2,
    heartbeatTimeoutMs: 10_000,
    pollIntervalMs: 1_000,
    maxAttempts: 5,
    submitRepeatable: true,
    cancellable: true,
    reason: 'Business Discovery reads count against the Graph API business-use-case limits shared with publishing.',
  },
  api_football: {
    maxConcurrent: 1,
    minStartIntervalMs: 6_000,
    // A request waits out the 6 s spacing once it holds the slot: the estimate (and the 2x run limit) must cover it.
    estimatedDurationSeconds: 10,
    heartbeatTimeoutMs: 10_000,
    pollIntervalMs: 1_000,
    maxAttempts: 5,
    submitRepeatable: true,
    cancellable: true,
    reason: 'The free plan allows 10 requests a minute (one every 6 s) and 100 a day; a full La Liga sync is about 35 requests.',
  },
  audio_fetch: {
    maxConcurrent: 2,
    minStartIntervalMs: 5_000,
    estimatedDurationSeconds: 30,
    heartbeatTimeoutMs: 30_000,
    pollIntervalMs: 1_000,
    maxAttempts: 3,
    // A download has no side effect at the platform.
    submitRepeatable: true,
    cancellable: true,
    reason: "Competitor audio downloads (media_url or yt-dlp): bursts from one address trigger YouTube's bot check.",
  },
};

/**
 * Added to every non-zero start interval: the start is recorded just before the
 * request leaves, and on a loaded machine one request can leave tens of
 * milliseconds later than the next (event loop, new TCP connection). 100 ms
 * keeps the spacing the provider itself measures at or above the interval
 * (worst seen here under a full test run: 33 ms).
 */
export const START_MARGIN_MS = 100;

/**
 * Lease on a slot: renewed every leaseRenewMs by the process running the job;
 * a slot whose holder went silent for leaseTtlMs is handed on. Kept just above
 * the heartbeat timeout so the retried attempt (started by Temporal after the
 * heartbeat timeout) finds its own lease still there and resumes with it.
 */
export const SLOT_LEASE = {
  leaseTtlMs: 12_000,
  leaseRenewMs: 3_000,
  /** Every process re-runs the grant for its waiting jobs this often (spacing timers, expired leases). */
  sweepMs: 1_000,
} as const;

/**
 * A job whose attempts all ended in heartbeat timeouts lost its workers (killed,
 * frozen, OOM), it did not fail: the workflow runs it again, this many times at
 * most, resuming the same provider task. Heartbeat timeouts would otherwise eat
 * the three attempts meant for provider errors. Bounded, because a job that
 * crashes its worker (OOM) would otherwise loop. Graceful shutdowns (deploys)
 * are not bounded: a job waiting a week for its slot sees many of them, and a
 * SIGTERM is never the job's doing.
 */
export const MAX_WORKER_LOSSES = 5;

/** Task queues. Workflows and database sync run on the base queue; each provider has its own. */
export function providerTaskQueue(baseQueue: string, provider: Provider): string {
  return `${baseQueue}-${provider}`;
}
/** What a worker process serves (`--queue`): the base queue and each provider's. */
export type QueueName = 'base' | Provider;
export const QUEUE_NAMES: readonly QueueName[] = ['base', ...PROVIDERS];

export const PUBLISH_PLATFORMS = ['instagram', 'tiktok', 'youtube'] as const satisfies readonly Provider[];
export type PublishPlatform = (typeof PUBLISH_PLATFORMS)[number];

/** Job types as written in automation_queue.job_type, each with the provider that runs it. */
export const JOB_TYPES = {
  openai_analysis: 'openai',
  openai_transcription: 'openai',
  veo3_chollo: 'veo3',
  veo3_competitive_response: 'veo3',
  veo3_player_spotlight: 'veo3',
  instagram_reel: 'instagram',
  tiktok_video: 'tiktok',
  youtube_short: 'youtube',
  youtube_discovery: 'youtube_data',
  instagram_discovery: 'instagram_graph',
  api_football_sync: 'api_football',
  audio_download: 'audio_fetch',
} as const satisfies Record<string, Provider>;
export type JobType = keyof typeof JOB_TYPES;

/**
 * Typical run time of each job type once it holds a slot (written to
 * automation_queue.estimated_duration_seconds: the stuck bound, the activity's
 * run limit and the cancelled-render hold are 2x this).
 */
export const JOB_ESTIMATES_SECONDS: Record<JobType, number> = {
  // A brief or an analysis is one chat completion.
  openai_analysis: PROVIDER_LIMITS.openai.estimatedDurationSeconds,
  // Whisper on a ten-minute competitor video takes about a minute.
  openai_transcription: 60,
  // One VEO3 render, whatever the idea.
  veo3_chollo: PROVIDER_LIMITS.veo3.estimatedDurationSeconds,
  veo3_competitive_response: PROVIDER_LIMITS.veo3.estimatedDurationSeconds,
  veo3_player_spotlight: PROVIDER_LIMITS.veo3.estimatedDurationSeconds,
  // Container, upload and media_publish.
  instagram_reel: PROVIDER_LIMITS.instagram.estimatedDurationSeconds,
  // init, upload and TikTok's processing.
  tiktok_video: PROVIDER_LIMITS.tiktok.estimatedDurationSeconds,
  // Resumable upload plus YouTube's processing.
  youtube_short: PROVIDER_LIMITS.youtube.estimatedDurationSeconds,
  // One feed or Data API read.
  youtube_discovery: PROVIDER_LIMITS.youtube_data.estimatedDurationSeconds,
  // One Business Discovery read.
  instagram_discovery: PROVIDER_LIMITS.instagram_graph.estimatedDurationSeconds,
  // One API-Football page.
  api_football_sync: PROVIDER_LIMITS.api_football.estimatedDurationSeconds,
  // A short's audio; an hour-long video takes minutes.
  audio_download: PROVIDER_LIMITS.audio_fetch.estimatedDurationSeconds,
};

/**
 * The estimate to write for a job: the job type's, unless the provider's own
 * estimate was overridden (REELFLOW_LIMITS, tests), which then applies to all its job types.
 */
export function jobEstimateSeconds(jobType: JobType, limits: Record<Provider, ProviderLimits> = PROVIDER_LIMITS): number {
  const provider = JOB_TYPES[jobType];
  const overridden = limits[provider].estimatedDurationSeconds !== PROVIDER_LIMITS[provider].estimatedDurationSeconds;
  return overridden ? limits[provider].estimatedDurationSeconds : JOB_ESTIMATES_SECONDS[jobType];
}

export const PUBLISH_JOB_TYPE: Record<PublishPlatform, JobType> = {
  instagram: 'instagram_reel',
  tiktok: 'tiktok_video',
  youtube: 'youtube_short',
};
