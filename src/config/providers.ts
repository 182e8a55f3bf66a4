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
  'tiktok_data',
  'api_football',
  'audio_fetch',
  'assembly',
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

/**
 * How long a provider activity may stay silent before Temporal retries it elsewhere (a worker killed or frozen):
 * with the 500 ms first retry, a killed worker's job runs again about 10.5 s later. 4 s would make that 4.5 s,
 * and was tried: with 10,000 ideas filling their lines on 2 saturated cores (bench backlog), event-loop stalls
 * timed out every attempt of 97 analyses, which failed their ideas. A job lost is worse than a slower resume.
 */
export const HEARTBEAT_TIMEOUT_MS = 10_000;

export const PROVIDER_LIMITS: Record<Provider, ProviderLimits> = {
  veo3: {
    maxConcurrent: 2,
    minStartIntervalMs: 10_000,
    estimatedDurationSeconds: 300,
    heartbeatTimeoutMs: HEARTBEAT_TIMEOUT_MS,
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
    heartbeatTimeoutMs: HEARTBEAT_TIMEOUT_MS,
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
    heartbeatTimeoutMs: HEARTBEAT_TIMEOUT_MS,
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
    heartbeatTimeoutMs: HEARTBEAT_TIMEOUT_MS,
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
    heartbeatTimeoutMs: HEARTBEAT_TIMEOUT_MS,
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
    heartbeatTimeoutMs: HEARTBEAT_TIMEOUT_MS,
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
    heartbeatTimeoutMs: HEARTBEAT_TIMEOUT_MS,
    pollIntervalMs: 1_000,
    maxAttempts: 5,
    submitRepeatable: true,
    cancellable: true,
    reason:
      "Graph API reads (Business Discovery, our posts' insights) count against the business-use-case limits shared with " +
      'publishing; no number is published for insights.',
  },
  tiktok_data: {
    maxConcurrent: 2,
    // 600 requests a minute per endpoint (video/query), a 1-minute sliding window: one every 100 ms, kept at 200.
    minStartIntervalMs: 200,
    estimatedDurationSeconds: 2,
    heartbeatTimeoutMs: HEARTBEAT_TIMEOUT_MS,
    pollIntervalMs: 1_000,
    maxAttempts: 5,
    // A read has no side effect.
    submitRepeatable: true,
    cancellable: true,
    reason: "Reads of our posts' counts (video/query): 600 requests a minute, apart from video/init's 6 (TikTok's rate-limit page).",
  },
  api_football: {
    maxConcurrent: 1,
    minStartIntervalMs: 6_000,
    // A request waits out the 6 s spacing once it holds the slot: the estimate (and the 2x run limit) must cover it.
    estimatedDurationSeconds: 10,
    heartbeatTimeoutMs: HEARTBEAT_TIMEOUT_MS,
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
  assembly: {
    // Our own ffmpeg, not a vendor: the cap is CPU. One encode uses every core of the worker it runs on.
    maxConcurrent: 1,
    minStartIntervalMs: 0,
    // A 32 s reel at 1080x1920 on 2 cores with the default preset; the 2x run limit must cover a busy machine.
    estimatedDurationSeconds: 90,
    // ffmpeg runs in a child process, so the worker's event loop heartbeats throughout: a silence is a dead worker.
    heartbeatTimeoutMs: HEARTBEAT_TIMEOUT_MS,
    pollIntervalMs: 1_000,
    maxAttempts: 3,
    // Re-running an encode costs CPU only; a finished cut on disk is reused, never encoded twice.
    submitRepeatable: true,
    cancellable: true,
    reason: 'Reel assembly (ffmpeg: cut, subtitles, data cards, logo, loudness) uses every core of its worker: one at a time each.',
  },
};

/**
 * Added to every non-zero start interval: the start is recorded just before the
 * request leaves, and on a loaded machine one request can leave later than the
 * next (event loop, new TCP connection). A start whose request could not leave
 * within half of it is claimed again (SlotGate.claimStart): under a full test
 * run one process answered 211 ms late, and the provider saw two starts 189 ms
 * apart for a 300 ms interval before that re-claim existed.
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

export function isPublishPlatform(name: string): name is PublishPlatform {
  return (PUBLISH_PLATFORMS as readonly string[]).includes(name);
}
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
  // A YouTube video's: YouTube's bot check parks these alone (the youtube_downloads quota), not Instagram's or a page's.
  youtube_audio_download: 'audio_fetch',
  reel_assembly: 'assembly',
  // A post's metrics are read through the platform's read API, under its limits, not in the publishing line.
  instagram_metrics: 'instagram_graph',
  tiktok_metrics: 'tiktok_data',
  youtube_metrics: 'youtube_data',
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
  youtube_audio_download: PROVIDER_LIMITS.audio_fetch.estimatedDurationSeconds,
  // The segments cut into one reel: subtitles, data cards, logo, loudness, then the ffprobe checks.
  reel_assembly: PROVIDER_LIMITS.assembly.estimatedDurationSeconds,
  // One read of a published post's counts (media insights, video/query, videos.list): a single request, which the
  // platform answers from aggregates it computes (slower than a profile read); its wait for the start spacing is not
  // counted (RunLimit). 5 s lets a slow answer finish inside the 2x bound.
  instagram_metrics: 5,
  tiktok_metrics: 5,
  youtube_metrics: 5,
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

/**
 * A published post's metrics read: a job of its platform's read API (JOB_TYPES), under that API's cap, spacing and
 * quotas. Reads and posts are different calls with different limits at each platform (Instagram's publishing limit
 * counts posts, TikTok allows 6 video/init a minute and 600 video/query), so a burst of reads never spaces out a post.
 */
export const METRICS_JOB_TYPE = {
  instagram: 'instagram_metrics',
  tiktok: 'tiktok_metrics',
  youtube: 'youtube_metrics',
} as const satisfies Record<PublishPlatform, JobType>;

/**
 * An hour of a post's age in real milliseconds: the post-metrics clock unless REELFLOW_METRICS_HOUR_MS compresses it
 * (the demo, against its simulators), and the clock of a series started before that setting existed.
 */
export const METRICS_HOUR_MS = 3_600_000;

/**
 * A metrics read waits at most this long in its line for a slot: past it, it is given up (its job's deadline,
 * REELFLOW_METRICS_READ_WAIT_SECONDS, at most this) and the next timer reads again. Without a deadline, a read behind
 * a spent quota timed out after the hour and Temporal tried it again, five times in all.
 */
export const METRICS_READ_WAIT_MS = 60 * 60_000;

/** The gate line (and task queue) of a post's metrics reads on `platform`. */
export function metricsProvider(platform: PublishPlatform): Provider {
  return JOB_TYPES[METRICS_JOB_TYPE[platform]];
}

/**
 * Quotas and spend budgets: units a provider (or one of its accounts) allows
 * per window. The gate grants a slot only when the job's cost fits every quota
 * that prices its job type; a job that does not fit waits in line (no attempt
 * spent) and holds back the jobs behind it, so a P0 takes the next free unit.
 *
 * Windows are of two kinds:
 * - moving: at most `limit` units in any `seconds` (Instagram's rolling 24 h);
 * - calendar: `limit` units per slice of `seconds` counted from local midnight
 *   in `timeZone` (a day: 86,400), or per calendar month there (`seconds: 'month'`).
 *
 * A spend budget is a quota in money units (KIE credits) whose usage is the
 * cost recorded on each job (automation_queue.cost); `lowPriorityShare` keeps
 * the rest of it for urgent work: P2/P3 start only while usage plus their cost
 * stays within limit x share, P0/P1 may use the whole limit, nothing exceeds it.
 *
 * The gate's SQL reads provider_quotas and quota_costs, written on every
 * migrate from this table (with REELFLOW_QUOTAS applied) and editable live in SQL.
 */
export interface QuotaDefinition {
  provider: Provider;
  /** The account whose quota this is: a job's account is jobConfig.accounts[provider], else 'default'. */
  account: string;
  window: { kind: 'moving'; seconds: number } | { kind: 'calendar'; seconds: number | 'month'; timeZone: string };
  limit: number;
  /** Units each job type spends (job types of any provider; unlisted ones spend nothing here). */
  costs: Partial<Record<JobType, number>>;
  /** Share of the limit P2/P3 jobs may use; 1 keeps no reserve. */
  lowPriorityShare: number;
  unit: 'posts' | 'units' | 'requests' | 'credits';
  /** Why these numbers (README table, `reelflow capacity`). */
  reason: string;
}

const DAY = 86_400;
/** A veo3_fast render's credits per VEO3 job type (KIE_CREDITS_PER_VIDEO replaces them at run time). */
const RENDER_CREDITS = { veo3_chollo: 60, veo3_competitive_response: 60, veo3_player_spotlight: 60 };

export const PROVIDER_QUOTAS = {
  instagram_posts: {
    provider: 'instagram',
    account: 'default',
    window: { kind: 'moving', seconds: DAY },
    limit: 50,
    costs: { instagram_reel: 1 },
    lowPriorityShare: 1,
    unit: 'posts',
    reason: 'content_publishing_limit: quota_total posts per rolling 24 h (the reference says 50; read at run time and reconciled).',
  },
  youtube_api_units: {
    provider: 'youtube',
    account: 'default',
    window: { kind: 'calendar', seconds: DAY, timeZone: 'America/Los_Angeles' },
    limit: 10_000,
    // Google's pages disagree on videos.insert (1,600 units, or 1 in its own bucket of 100): the larger, until configured.
    // A post is the insert plus thumbnails.set of the reel's cover (50 units; counted for clips too: a unit kept
    // is better than a cover refused with quotaExceeded).
    // videos.list (our posts' statistics) costs 1 unit a call; a post's status reads while it processes are added to its
    // take as they are made (YouTubeClient.statusReadUnits), and a retry that opens a new upload session is taken again
    // (drizzle/0045). A channel check with YOUTUBE_DATA_API_KEY is playlistItems.list and videos.list (2; a views read
    // is one videos.list, counted 2: over, never under); without the key it reads the public feed, not the Data API,
    // and costs nothing (effectiveQuotas).
    costs: { youtube_short: 1_600 + 50, youtube_discovery: 2, youtube_metrics: 1 },
    lowPriorityShare: 1,
    unit: 'units',
    reason:
      'Data API project quota, 10,000 units a day, reset at midnight Pacific; Google cannot be asked what is left. ' +
      'A post: videos.insert and the cover (thumbnails.set, 50), plus 1 a status read while it processes. ' +
      'A channel check: 2 with YOUTUBE_DATA_API_KEY, none without it (the public feed).',
  },
  tiktok_posts: {
    provider: 'tiktok',
    account: 'default',
    window: { kind: 'calendar', seconds: DAY, timeZone: 'UTC' },
    limit: 15,
    costs: { tiktok_video: 1 },
    lowPriorityShare: 1,
    unit: 'posts',
    reason: 'Creator daily post cap, "typically around 15" (third parties say 6 or 25): spam_risk_too_many_posts past it.',
  },
  api_football_requests: {
    provider: 'api_football',
    account: 'default',
    window: { kind: 'calendar', seconds: DAY, timeZone: 'UTC' },
    limit: 100,
    costs: { api_football_sync: 1 },
    lowPriorityShare: 1,
    unit: 'requests',
    reason: 'Free plan: 100 requests a day (reset time unconfirmed); reconciled with x-ratelimit-requests-remaining.',
  },
  veo3_credits_day: {
    provider: 'veo3',
    account: 'default',
    window: { kind: 'calendar', seconds: DAY, timeZone: 'Europe/Madrid' },
    limit: 6_000,
    costs: RENDER_CREDITS,
    lowPriorityShare: 0.8,
    unit: 'credits',
    reason: 'Spend budget: about 100 renders a day; the last 20 % is kept for P0/P1.',
  },
  veo3_credits_month: {
    provider: 'veo3',
    account: 'default',
    window: { kind: 'calendar', seconds: 'month', timeZone: 'Europe/Madrid' },
    limit: 120_000,
    costs: RENDER_CREDITS,
    lowPriorityShare: 0.8,
    unit: 'credits',
    reason: 'Spend budget: about 2,000 renders a month; the last 20 % is kept for P0/P1.',
  },
  youtube_downloads: {
    provider: 'audio_fetch',
    account: 'default',
    window: { kind: 'moving', seconds: 3_600 },
    // YouTube publishes no figure: far above what discovery fetches. What it is for is its park: a bot check parks it
    // (BOT_CHECK_PARK_MS in src/activities/audio-fetch.ts) and YouTube's fetches wait, instead of each ending
    // unavailable; Instagram's and other pages' (audio_download) go on.
    limit: 10_000,
    costs: { youtube_audio_download: 1 },
    lowPriorityShare: 1,
    unit: 'requests',
    reason:
      "YouTube audio downloads an hour (no published limit). YouTube's bot check parks it for 30 min: YouTube's fetches wait " +
      'in line, none ends unavailable, until the address is trusted again (or yt-dlp has cookies); the others go on.',
  },
} as const satisfies Record<string, QuotaDefinition>;
export type QuotaName = keyof typeof PROVIDER_QUOTAS;
