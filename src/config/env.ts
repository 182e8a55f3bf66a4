/**
 * Environment parsing, once, with zod. A bad variable stops the process with
 * one line naming the variable and what it accepts.
 */
import { z } from 'zod';
import { DEFAULT_APPROVAL_POLICY, RECOMMENDATION_SOURCES, type ApprovalPolicy } from './approval';
import {
  JOB_TYPES,
  METRICS_HOUR_MS,
  METRICS_READ_WAIT_MS,
  PROVIDER_LIMITS,
  PROVIDER_QUOTAS,
  PROVIDERS,
  PUBLISH_PLATFORMS,
  type JobType,
  type Provider,
  type ProviderLimits,
  type QuotaDefinition,
} from './providers';
import { MAX_SEGMENTS, REEL_MODES, VEO3_CLIP_SECONDS } from './reel';
import { defaultFfprobePath } from './ffprobe';
import { ConfigError } from '../shared/errors';

const limitOverride = z
  .object({
    maxConcurrent: z.number().int().min(1).max(1000),
    minStartIntervalMs: z.number().int().min(0).max(3_600_000),
    pollIntervalMs: z.number().int().min(5).max(600_000),
  })
  .partial()
  .strict();

/** A variable holding JSON: "is not valid JSON" names it before its shape is checked. */
const jsonText = z.string().transform((raw, ctx) => {
  try {
    return JSON.parse(raw) as unknown;
  } catch {
    ctx.addIssue({ code: z.ZodIssueCode.custom, message: 'is not valid JSON' });
    return z.NEVER;
  }
});

const limitsOverrides = jsonText.pipe(z.record(z.enum(PROVIDERS), limitOverride));

const timeZone = z.string().refine((tz) => {
  try {
    new Intl.DateTimeFormat('en', { timeZone: tz });
    return true;
  } catch {
    return false;
  }
}, 'is not an IANA time zone (e.g. Europe/Madrid)');

/** One quota (PROVIDER_QUOTAS' shape): what REELFLOW_QUOTAS may set or add, each field checked. */
const quotaDefinition = z
  .object({
    provider: z.enum(PROVIDERS),
    // A job's account is job_config.accounts[provider], which nothing sets (job configs have no such field): a quota on
    // another account would match no job and never apply, its budget passed unseen.
    account: z.literal('default', { errorMap: () => ({ message: "must be 'default': no job names another account" }) }),
    window: z.discriminatedUnion('kind', [
      z.object({ kind: z.literal('moving'), seconds: z.number().int().positive() }).strict(),
      z
        .object({
          kind: z.literal('calendar'),
          seconds: z.union([z.number().int().positive().max(86_400, 'a calendar slice is at most a day (86400)'), z.literal('month')]),
          timeZone,
        })
        .strict(),
    ]),
    limit: z.number().min(0),
    costs: z.record(z.enum(Object.keys(JOB_TYPES) as [JobType, ...JobType[]]), z.number().min(0)),
    lowPriorityShare: z.number().gt(0).max(1),
    unit: z.enum(['posts', 'units', 'requests', 'credits']),
    reason: z.string().max(500),
  })
  .strict();

/** Per quota name: fields to change on a known quota, or a whole new one (a second account). */
const quotasOverrides = jsonText.pipe(
  z.record(z.string().regex(/^[a-z0-9_]{1,63}$/, 'quota names are lowercase letters, digits and _'), quotaDefinition.partial().strict()),
);

/** Partial policies merge onto DEFAULT_APPROVAL_POLICY: {"beforeRender":{"bargain":true},"beforePublish":{"instagram":true}}. */
const approvalPolicy = jsonText
  .pipe(
    z
      .object({
        beforeRender: z.record(z.enum(RECOMMENDATION_SOURCES), z.boolean()).optional(),
        beforePublish: z.record(z.enum(PUBLISH_PLATFORMS), z.boolean()).optional(),
      })
      .strict(),
  )
  .transform((p): ApprovalPolicy => ({
    beforeRender: { ...DEFAULT_APPROVAL_POLICY.beforeRender, ...p.beforeRender },
    beforePublish: { ...DEFAULT_APPROVAL_POLICY.beforePublish, ...p.beforePublish },
  }));

const url = z.string().url();

/**
 * What the credential variables default to. A simulator checks no key, so these
 * serve a local run; assertProviderCredentials refuses them for a real API.
 */
const PLACEHOLDER_KEY = 'sim-key';
const PLACEHOLDER_TOKEN = 'sim-token';
const PLACEHOLDER_INSTAGRAM_USER_ID = '17841400000000000';

/** The fs store's signing key for local runs (demo, tests); refused with a non-local REELFLOW_MEDIA_BASE_URL. */
export const DEV_SIGNING_KEY = 'reelflow-local-media-signing-key-not-for-production';

/** A guessable secret is no secret: 32 characters of hex are 128 bits. */
const KIE_CALLBACK_SECRET_MIN = 32;
/** Fastify's default maxParamLength: a longer path parameter makes the route not match at all. */
const KIE_CALLBACK_SECRET_MAX = 100;

/** A comma-separated list of whole seconds (1 s to 30 days), sorted: the offsets of a series of durable timers. */
function secondsList(defaultValue: string) {
  return z
    .string()
    .default(defaultValue)
    .transform((raw, ctx) => {
      const values = raw.split(',').map((s) => Number(s.trim()));
      if (values.length === 0 || values.some((v) => !Number.isInteger(v) || v < 1 || v > 30 * 86_400)) {
        ctx.addIssue({ code: z.ZodIssueCode.custom, message: 'must be comma-separated whole seconds between 1 and 2592000' });
        return z.NEVER;
      }
      return [...values].sort((a, b) => a - b);
    });
}

export const envSchema = z.object({
  DATABASE_URL: url.default('postgres://postgres@127.0.0.1:5432/reelflow'),
  TEMPORAL_ADDRESS: z.string().min(1).default('127.0.0.1:7233'),
  TEMPORAL_NAMESPACE: z.string().min(1).default('default'),
  TEMPORAL_UI_URL: url.default('http://127.0.0.1:8233'),
  REELFLOW_TASK_QUEUE: z.string().min(1).default('reelflow'),
  /** JSON object of per-provider overrides, e.g. {"veo3":{"maxConcurrent":2,"minStartIntervalMs":200}}. */
  REELFLOW_LIMITS: limitsOverrides.optional(),
  /**
   * JSON object of quota changes by name (PROVIDER_QUOTAS), e.g. {"instagram_posts":{"limit":25}} or
   * {"veo3_credits_day":{"limit":3000,"lowPriorityShare":0.7}}; a new name must give every field.
   */
  REELFLOW_QUOTAS: quotasOverrides.optional(),
  /** How old the capacity workflow's query answer may be. */
  REELFLOW_CAPACITY_REFRESH_MS: z.coerce.number().int().min(200).max(3_600_000).default(5_000),
  /** Who must approve what (src/config/approval.ts); default: ideas from competitors' videos, before the paid render. */
  REELFLOW_APPROVAL_POLICY: approvalPolicy.default('{}'),
  /**
   * Hours between reminders of a review still waiting for an editor (src/workers/approval-watch.ts); a brief with a
   * deadline is reminded sooner, half-way to it. 0: no reminders.
   */
  REELFLOW_APPROVAL_REMIND_HOURS: z.coerce
    .number()
    .max(720)
    .refine((h) => h === 0 || h >= 1, 'must be 0 (no reminders) or at least 1 (hours)')
    .default(24),
  /**
   * Activities one worker process runs at once per provider queue. Jobs waiting
   * for a slot count too, so keep it well above the caps (the gate enforces those).
   */
  REELFLOW_WORKER_ACTIVITY_SLOTS: z.coerce.number().int().min(1).max(100_000).default(2_000),
  /**
   * Workflows one worker process keeps in memory between their tasks (Temporal's sticky cache). The SDK's default
   * grows with the heap (about 2,300 on this machine, some 230 KB each), so a backlog of parked workflows made every
   * process grow to 1.3 GB; one past the cache is replayed from its short history when its turn comes.
   */
  REELFLOW_WORKFLOW_CACHE: z.coerce.number().int().min(2).max(100_000).default(500),
  /**
   * 'parked' (default): a job beyond the first few of its line waits in its workflow with no activity running
   * (drizzle/0016, src/workflows/line.ts). 'activity': every waiting job waits in its activity, as before 0016
   * (the bench's backlog scenario runs both, to compare).
   */
  REELFLOW_LINE: z.enum(['parked', 'activity']).default('parked'),
  /** host:port where worker processes serve Temporal's runtime metrics for Prometheus (off when unset). */
  TEMPORAL_METRICS_BIND: z
    .string()
    .regex(/^[^:]+:\d+$/, 'must be host:port')
    .optional(),
  LOG_LEVEL: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),

  /** API-Football v3 (our player data, docs/operations.md "Player data"); the key goes in the x-apisports-key header. */
  API_FOOTBALL_BASE_URL: url.default('https://v3.football.api-sports.io'),
  API_FOOTBALL_KEY: z.string().default(PLACEHOLDER_KEY),
  /** 140 = La Liga. */
  API_FOOTBALL_LEAGUE: z.coerce.number().int().positive().default(140),
  /** Season as its start year (2025 = 2025-26). Unset: the season under way, taken to start in July. */
  API_FOOTBALL_SEASON: z.coerce.number().int().min(2000).max(2100).optional(),
  /** Upcoming fixtures read per sync (the API's `next`, at most 2 digits). */
  API_FOOTBALL_FIXTURES_NEXT: z.coerce.number().int().min(1).max(99).default(10),
  /** Whether /fixtures gets `season` beside `next`: the docs only show league+next, the combination is unconfirmed. */
  API_FOOTBALL_FIXTURES_WITH_SEASON: z
    .enum(['true', 'false'])
    .default('false')
    .transform((v) => v === 'true'),
  /** UTC time (HH:MM) the daily quota resets: unconfirmed by the provider, so a spent quota waits until this. */
  API_FOOTBALL_QUOTA_RESET_UTC: z
    .string()
    .regex(/^([01]\d|2[0-3]):[0-5]\d$/, 'must be HH:MM (UTC)')
    .default('00:00'),
  /** Wait after a per-minute 429 (the API sends no Retry-After that we know of). */
  API_FOOTBALL_RATE_LIMIT_WAIT_MS: z.coerce.number().int().min(0).max(600_000).default(60_000),
  /** Requests of the daily quota a sync leaves unspent (a manual look, a second try). */
  API_FOOTBALL_DAILY_RESERVE: z.coerce.number().int().min(0).max(100_000).default(10),
  /** Player pages read at most per sync (La Liga is about 30); a longer list ends the sync with an error. */
  API_FOOTBALL_MAX_PAGES: z.coerce.number().int().min(1).max(500).default(60),

  KIE_BASE_URL: url.default('https://api.kie.ai'),
  KIE_API_KEY: z.string().default(PLACEHOLDER_KEY),
  KIE_MODEL: z.enum(['veo3', 'veo3_fast']).default('veo3_fast'),
  /**
   * Public URL of our API's KIE hook, e.g. https://reelflow.example.com/hooks/kie/<KIE_CALLBACK_SECRET>.
   * Set, KIE reports each finished render at once; unset, workers only poll.
   */
  KIE_CALLBACK_URL: url.optional(),
  /**
   * The secret path segment the API accepts KIE's callbacks on (the hook is off when unset).
   * At least 32 characters so it cannot be guessed (e.g. `openssl rand -hex 16`); at most
   * Fastify's path-parameter limit, beyond which the route never matches and every callback 404s.
   */
  KIE_CALLBACK_SECRET: z
    .string()
    .min(KIE_CALLBACK_SECRET_MIN, `must be at least ${KIE_CALLBACK_SECRET_MIN} random characters (e.g. \`openssl rand -hex 16\`)`)
    .max(KIE_CALLBACK_SECRET_MAX, `must be at most ${KIE_CALLBACK_SECRET_MAX} characters (Fastify's path-parameter limit)`)
    .regex(/^[A-Za-z0-9_-]+$/, 'must use only letters, digits, "-" and "_" (it is a URL path segment)')
    .optional(),
  /**
   * Whether KIE's record-info keeps a task's prompt as sent (`paramJson`; unconfirmed: KIE may keep the translated
   * one). `retry --task` refuses a task made from another prompt; 'unreliable' checks the task's callback key alone.
   */
  KIE_PARAMJSON_PROMPT: z.enum(['as-sent', 'unreliable']).default('as-sent'),
  /** Credits charged per veo3_fast generation, recorded in automation_queue.cost (renderCredits). */
  KIE_CREDITS_PER_VIDEO: z.coerce.number().min(0).default(60),
  /** Credits charged per veo3 (quality) generation: 250 in third-party code, unconfirmed by KIE (providers-2.md §6). */
  KIE_CREDITS_PER_VIDEO_QUALITY: z.coerce.number().min(0).default(250),

  OPENAI_BASE_URL: url.default('https://api.openai.com/v1'),
  OPENAI_API_KEY: z.string().default(PLACEHOLDER_KEY),
  OPENAI_MODEL: z.string().default('gpt-4o-mini'),
  OPENAI_TRANSCRIBE_MODEL: z.string().default('whisper-1'),

  INSTAGRAM_BASE_URL: url.default('https://graph.instagram.com/v24.0'),
  INSTAGRAM_ACCESS_TOKEN: z.string().default(PLACEHOLDER_TOKEN),
  INSTAGRAM_USER_ID: z.string().default(PLACEHOLDER_INSTAGRAM_USER_ID),

  TIKTOK_BASE_URL: url.default('https://open.tiktokapis.com'),
  TIKTOK_ACCESS_TOKEN: z.string().default(PLACEHOLDER_TOKEN),
  TIKTOK_PRIVACY_LEVEL: z.string().default('SELF_ONLY'),

  YOUTUBE_UPLOAD_BASE_URL: url.default('https://www.googleapis.com/upload/youtube/v3'),
  YOUTUBE_API_BASE_URL: url.default('https://www.googleapis.com/youtube/v3'),
  YOUTUBE_ACCESS_TOKEN: z.string().default(PLACEHOLDER_TOKEN),
  YOUTUBE_PRIVACY_STATUS: z.enum(['public', 'unlisted', 'private']).default('private'),

  /** Competitor discovery (docs/operations.md, "Watching competitor channels"). Public channel feeds: no key, no quota. */
  YOUTUBE_FEED_BASE_URL: url.default('https://www.youtube.com'),
  YOUTUBE_DATA_API_BASE_URL: url.default('https://www.googleapis.com/youtube/v3'),
  /** Set: handles resolve and uploads/views come from the Data API (1 unit a call); unset: the public feed. */
  YOUTUBE_DATA_API_KEY: z.string().trim().min(1).optional(),
  /** Without a key, read a handle's channel id from its channel page (unofficial; consent pages may block it). Default false. */
  YOUTUBE_HANDLE_FROM_PAGE: z
    .enum(['true', 'false'])
    .default('false')
    .transform((v) => v === 'true'),
  /** Business Discovery lives on graph.facebook.com (Facebook Login), not graph.instagram.com. */
  INSTAGRAM_GRAPH_BASE_URL: url.default('https://graph.facebook.com/v25.0'),
  INSTAGRAM_GRAPH_ACCESS_TOKEN: z.string().trim().min(1).optional(),
  /** Our professional account's IG user id: Business Discovery is asked on it. */
  INSTAGRAM_GRAPH_USER_ID: z.string().trim().min(1).optional(),
  /** When views are re-read after discovery, in seconds after discovery (comma-separated). Default +1 h, +6 h, +24 h. */
  COMPETITOR_VIEW_READS: secondsList('3600,21600,86400'),
  /**
   * When each published post's metrics are read, in seconds after it was published (comma-separated):
   * the post-metrics workflow's durable timers. Default +1 h, +6 h, +24 h, +72 h, +7 d; tests compress it.
   */
  REELFLOW_METRICS_READS: secondsList('3600,21600,86400,259200,604800'),
  /**
   * Real milliseconds one hour of a post's age takes on those timers. Default 3,600,000 (an hour). Only for a run
   * against the simulators with their clock compressed the same (SIMULATOR_METRICS_HOUR_MS): the demo's posts reach
   * +7 d in minutes. The readings keep their nominal ages (+24 h), so against a real platform they would be wrong.
   */
  REELFLOW_METRICS_HOUR_MS: z.coerce.number().int().min(1).max(METRICS_HOUR_MS).default(METRICS_HOUR_MS),
  /**
   * How long one metrics read may wait in its line for a slot (a spent quota, a busy line) before it is given up and
   * the next timer reads again: the read's deadline. Default and most 3,600 s (the workflow's own bound).
   */
  REELFLOW_METRICS_READ_WAIT_SECONDS: z.coerce
    .number()
    .int()
    .min(1)
    .max(METRICS_READ_WAIT_MS / 1_000)
    .default(METRICS_READ_WAIT_MS / 1_000),
  /**
   * Posts with a +24 h reading the engine needs before past performance moves any priority (cold start: fewer
   * changes nothing). Default 10.
   */
  REELFLOW_LEARNING_MIN_POSTS: z.coerce.number().int().min(1).max(100_000).default(10),
  /** Videos older than this when first seen are recorded but not analysed: old news. Default 168 (a week). */
  COMPETITOR_MAX_VIDEO_AGE_HOURS: z.coerce.number().int().min(1).max(100_000).default(168),

  /** Competitor audio (src/media): where downloads and chunks live, one directory per video's stable key. */
  AUDIO_DIR: z.string().min(1).default('.data/audio'),
  YT_DLP_PATH: z.string().min(1).default('yt-dlp'),
  FFMPEG_PATH: z.string().min(1).default('ffmpeg'),
  /** Default: the static build the optional dependency ships, when it can run here, else `ffprobe` on PATH (./ffprobe.ts). */
  FFPROBE_PATH: z.string().min(1).default(defaultFfprobePath),
  /** Longer competitor audio ends `too_long` without a transcription. Default 90 (two chunks at 64 kbit/s). */
  COMPETITOR_MAX_AUDIO_MINUTES: z.coerce.number().positive().max(1_440).default(90),
  /** Largest file one transcription upload carries: OpenAI refuses more than 25 MiB (26,214,400 bytes). Default 24 MiB. */
  AUDIO_CHUNK_MAX_BYTES: z.coerce.number().int().min(16_384).max(26_214_400).default(25_165_824),
  /** Largest source file downloaded at all (a direct media URL, or yt-dlp's --max-filesize). Default 500 MiB. */
  MEDIA_MAX_DOWNLOAD_BYTES: z.coerce.number().int().min(1).default(524_288_000),
  /**
   * Let media downloads reach private and loopback addresses (the simulators on 127.0.0.1). Default false:
   * a competitor's media URL must not make our workers fetch from our own network.
   */
  MEDIA_ALLOW_PRIVATE_HOSTS: z
    .enum(['true', 'false'])
    .default('false')
    .transform((v) => v === 'true'),

  /** How a reel's segments are rendered (src/config/reel.ts; docs/operations.md "Reels"). Default chained. */
  REELFLOW_REEL_MODE: z.enum(REEL_MODES).default('chained'),
  /** Target length of a reel in seconds, "min-max" or one figure; segments are 8 s each. Default 24-32 (3 to 4 segments). */
  REELFLOW_REEL_SECONDS: z
    .string()
    .default('24-32')
    .transform((raw, ctx) => {
      const m = /^\s*(\d+)\s*(?:-\s*(\d+)\s*)?$/.exec(raw);
      const min = Number(m?.[1]);
      const max = Number(m?.[2] ?? m?.[1]);
      const top = MAX_SEGMENTS * VEO3_CLIP_SECONDS;
      if (!m || min < VEO3_CLIP_SECONDS || max > top || min > max) {
        ctx.addIssue({
          code: z.ZodIssueCode.custom,
          message: `must be "min-max" or one number of seconds between ${VEO3_CLIP_SECONDS} and ${top} (e.g. 24-32)`,
        });
        return z.NEVER;
      }
      return { min, max };
    }),
  /**
   * Where finished reels live, one directory per recommendation (final.mp4, cover.jpg, the segments):
   * the assembly workers write it and whatever serves REELFLOW_MEDIA_BASE_URL reads it (the API's /media/).
   */
  REELFLOW_MEDIA_DIR: z.string().min(1).default('.data/media'),
  /** The public URL of REELFLOW_MEDIA_DIR: what Instagram and TikTok download the reel from. */
  REELFLOW_MEDIA_BASE_URL: url.default('http://127.0.0.1:8080/media'),
  /** x264 preset of the final cut: slower presets give smaller files for the same quality. Default veryfast. */
  REELFLOW_ASSEMBLY_PRESET: z.enum(['ultrafast', 'superfast', 'veryfast', 'faster', 'fast', 'medium', 'slow']).default('veryfast'),
  /** Our logo (PNG with transparency), top right of every reel. */
  REELFLOW_LOGO_PATH: z.string().min(1).default('assets/logo.png'),
  /** Font (a fontconfig family name) of subtitles and data cards. */
  REELFLOW_REEL_FONT: z.string().min(1).default('DejaVu Sans'),

  /** Where paid videos are kept (src/archive/store.ts): fs (REELFLOW_ARCHIVE_DIR, the default) or s3 (any S3-compatible store). */
  REELFLOW_STORAGE: z.enum(['fs', 's3']).default('fs'),
  /** The fs store's directory (and, for both stores, where a download in progress is staged: .partial/). */
  REELFLOW_ARCHIVE_DIR: z.string().min(1).default('.data/archive'),
  /**
   * HMAC key of the fs store's signed URLs (served at REELFLOW_MEDIA_BASE_URL/archive/), shared by the workers that sign
   * and the API that checks. The default is for local runs only: a non-local REELFLOW_MEDIA_BASE_URL refuses it.
   */
  REELFLOW_MEDIA_SIGNING_KEY: z
    .string()
    .min(32, 'must be at least 32 random characters (e.g. `openssl rand -hex 32`)')
    .default(DEV_SIGNING_KEY),
  /** How long a signed URL to our copy stays valid: long enough for a platform to fetch it (TikTok pulls minutes later). */
  REELFLOW_SIGNED_URL_SECONDS: z.coerce.number().int().min(60).max(604_800).default(3_600),
  /** S3: the endpoint of a non-AWS store (MinIO, R2, s3rver), e.g. http://127.0.0.1:9000. Unset: AWS. */
  REELFLOW_S3_ENDPOINT: url.optional(),
  /** S3: the bucket (required with REELFLOW_STORAGE=s3). */
  REELFLOW_S3_BUCKET: z.string().min(3).max(63).optional(),
  REELFLOW_S3_REGION: z.string().min(1).default('us-east-1'),
  /** S3 credentials; unset: the AWS SDK's own chain (instance role, AWS_* variables, profile). */
  REELFLOW_S3_ACCESS_KEY_ID: z.string().min(1).optional(),
  REELFLOW_S3_SECRET_ACCESS_KEY: z.string().min(1).optional(),
  /** S3: bucket in the path (http://host/bucket/key), as MinIO and s3rver need. Default false (virtual-hosted). */
  REELFLOW_S3_FORCE_PATH_STYLE: z
    .enum(['true', 'false'])
    .default('false')
    .transform((v) => v === 'true'),
});

export type Env = z.infer<typeof envSchema>;

/** Parses one process's variables; the first bad one becomes a ConfigError naming it. */
export function parseEnv<S extends z.ZodTypeAny>(
  schema: S,
  source: Readonly<Record<string, string | undefined>> = process.env,
): z.output<S> {
  const result = schema.safeParse(withoutBlankNumbers(schema, source));
  if (!result.success) {
    const issue = result.error.issues[0]!;
    throw new ConfigError(`environment variable ${issue.path.join('.')} ${issue.message}`);
  }
  return result.data;
}

/**
 * A number left blank (`KIE_CREDITS_PER_VIDEO=` in a .env or compose file) is unset: its default applies, or the
 * variable is named as missing. z.coerce.number() read "" as 0: renders costing 0 credits, which no spend budget
 * counts, an API on a random port, no pause after API-Football's 429.
 */
function withoutBlankNumbers(schema: z.ZodTypeAny, source: Readonly<Record<string, string | undefined>>) {
  if (!(schema instanceof z.ZodObject)) return source;
  const out = { ...source };
  for (const [key, field] of Object.entries(schema.shape as Record<string, z.ZodTypeAny>)) {
    if (isNumber(field) && out[key]?.trim() === '') delete out[key];
  }
  return out;
}

function isNumber(t: z.ZodTypeAny): boolean {
  if (t instanceof z.ZodNumber) return true;
  if (t instanceof z.ZodDefault || t instanceof z.ZodOptional) return isNumber(t._def.innerType as z.ZodTypeAny);
  return false;
}

/** What every process (workers, CLI, API, demo) reads. */
export function loadEnv(source: NodeJS.ProcessEnv = process.env): Env {
  const env = parseEnv(envSchema, source);
  if (env.REELFLOW_STORAGE === 's3' && !env.REELFLOW_S3_BUCKET) {
    throw new ConfigError('environment variable REELFLOW_S3_BUCKET is required when REELFLOW_STORAGE=s3');
  }
  return env;
}

type EnvKey = keyof z.input<typeof envSchema> & keyof Env;

/** Each provider's base URLs and the credentials sent to them, with each credential's placeholder. */
const PROVIDER_CREDENTIALS: ReadonlyArray<{ urls: readonly EnvKey[]; secrets: ReadonlyArray<readonly [EnvKey, string]> }> = [
  { urls: ['KIE_BASE_URL'], secrets: [['KIE_API_KEY', PLACEHOLDER_KEY]] },
  { urls: ['OPENAI_BASE_URL'], secrets: [['OPENAI_API_KEY', PLACEHOLDER_KEY]] },
  {
    urls: ['INSTAGRAM_BASE_URL'],
    secrets: [
      ['INSTAGRAM_ACCESS_TOKEN', PLACEHOLDER_TOKEN],
      ['INSTAGRAM_USER_ID', PLACEHOLDER_INSTAGRAM_USER_ID],
    ],
  },
  { urls: ['TIKTOK_BASE_URL'], secrets: [['TIKTOK_ACCESS_TOKEN', PLACEHOLDER_TOKEN]] },
  { urls: ['YOUTUBE_UPLOAD_BASE_URL', 'YOUTUBE_API_BASE_URL'], secrets: [['YOUTUBE_ACCESS_TOKEN', PLACEHOLDER_TOKEN]] },
  { urls: ['API_FOOTBALL_BASE_URL'], secrets: [['API_FOOTBALL_KEY', PLACEHOLDER_KEY]] },
];

/**
 * Whether a base URL's host is this machine or a private name on its network,
 * where only our simulators answer: loopback (127.0.0.0/8, ::1, localhost and
 * *.localhost) or a single-label name such as docker-compose's `simulators`
 * service. Public DNS has no dotless names (ICANN bars them), so a single
 * label cannot be a real provider reached by mistake. Private 10/8 or
 * 192.168/16 addresses are not local: a proxy there may forward to the real API.
 */
export function isLocalHost(hostname: string): boolean {
  const host = hostname.toLowerCase().replace(/^\[|\]$/g, '');
  if (host === 'localhost' || host.endsWith('.localhost') || host === '::1') return true;
  if (/^127\.\d{1,3}\.\d{1,3}\.\d{1,3}$/.test(host)) return true;
  return !host.includes('.') && !host.includes(':');
}

/**
 * Every reason this environment would fail provider calls: a missing or
 * placeholder credential for a base URL on a non-local host (each job would
 * end in a 401 after the worker started "fine"), or plain http to one (the
 * key would cross the internet in clear). Empty when the providers can work.
 */
export function providerCredentialProblems(env: Env): string[] {
  const problems: string[] = [];
  for (const { urls, secrets } of PROVIDER_CREDENTIALS) {
    const remote = urls.map((key) => ({ key, url: new URL(String(env[key])) })).filter(({ url }) => !isLocalHost(url.hostname));
    for (const { key, url } of remote) {
      if (url.protocol !== 'https:') problems.push(`${key} must use https for a non-local host (got ${env[key]})`);
    }
    const first = remote[0];
    if (!first) continue;
    for (const [secret, placeholder] of secrets) {
      const value = String(env[secret] ?? '').trim();
      if (value === '' || value === placeholder) {
        problems.push(`${secret} is required when ${first.key} points at ${env[first.key]} (a non-local host)`);
      }
    }
  }
  // Anyone can read the default key in this repository: signed URLs to our videos would be anyone's to make.
  const mediaHost = new URL(env.REELFLOW_MEDIA_BASE_URL).hostname;
  if (env.REELFLOW_MEDIA_SIGNING_KEY === DEV_SIGNING_KEY && !isLocalHost(mediaHost)) {
    problems.push(`REELFLOW_MEDIA_SIGNING_KEY must be set when REELFLOW_MEDIA_BASE_URL is not local (${mediaHost})`);
  }
  // The readings keep their nominal ages (+24 h), which only a simulator's clock compressed the same makes true.
  if (env.REELFLOW_METRICS_HOUR_MS !== METRICS_HOUR_MS) {
    const real = METRICS_READ_URLS.find((key) => !isLocalHost(new URL(String(env[key])).hostname));
    if (real) {
      problems.push(
        'REELFLOW_METRICS_HOUR_MS compresses the post-metrics clock, for the simulators only: ' +
          `${real} points at ${env[real]} (a non-local host)`,
      );
    }
  }
  return problems;
}

/** Where each published post's metrics are read. */
const METRICS_READ_URLS: readonly EnvKey[] = ['INSTAGRAM_BASE_URL', 'TIKTOK_BASE_URL', 'YOUTUBE_API_BASE_URL'];

/**
 * Run by every process that builds provider clients (createProviders, so the
 * workers, the demo and the bench): refuses to start with every problem named.
 */
export function assertProviderCredentials(env: Env): void {
  const problems = providerCredentialProblems(env);
  if (problems.length) throw new ConfigError(problems.join('; '));
}

/** The API process's own variables, on top of loadEnv's. */
export const apiEnvSchema = z.object({
  API_PORT: z.coerce.number().int().min(0).max(65_535).default(8080),
  /**
   * Local only by default: the API speaks plain HTTP, so anything wider belongs behind a
   * TLS-terminating proxy. Containers set 0.0.0.0 so their port mapping works.
   */
  API_HOST: z.string().min(1).default('127.0.0.1'),
  /** Failed authentications one source IP may make per window before it gets 429s. */
  API_AUTH_FAILURE_LIMIT: z.coerce.number().int().min(1).max(100_000).default(20),
  /** KIE hook calls one source IP may make per window (KIE sends one per finished render). */
  API_HOOK_RATE_LIMIT: z.coerce.number().int().min(1).max(1_000_000).default(600),
  /** The rate limits' window. */
  API_RATE_WINDOW_MS: z.coerce.number().int().min(1_000).max(86_400_000).default(60_000),
  /**
   * Proxies in front of the API whose X-Forwarded-For it believes (1 behind one TLS terminator).
   * Without it, every client behind the proxy shares the proxy's address, so one token guesser
   * gets everyone 429s. Only when the API port is reachable through the proxies alone: a direct
   * caller could otherwise claim any address. Default 0.
   */
  API_TRUSTED_PROXY_HOPS: z.coerce.number().int().min(0).max(10).default(0),
});

/** Where `npm run simulators` (and the demo) serve each provider simulator. */
export const DEFAULT_SIMULATOR_PORTS = {
  veo3: 7301,
  openai: 7302,
  instagram: 7303,
  tiktok: 7304,
  youtube: 7305,
  api_football: 7306,
} as const;

const port = z.coerce.number().int().min(0).max(65_535);
/** The simulators process's variables (src/simulators/main.ts says what each does). */
export const simulatorEnvSchema = z.object({
  SIMULATOR_VEO3_PORT: port.default(DEFAULT_SIMULATOR_PORTS.veo3),
  SIMULATOR_OPENAI_PORT: port.default(DEFAULT_SIMULATOR_PORTS.openai),
  SIMULATOR_INSTAGRAM_PORT: port.default(DEFAULT_SIMULATOR_PORTS.instagram),
  SIMULATOR_TIKTOK_PORT: port.default(DEFAULT_SIMULATOR_PORTS.tiktok),
  SIMULATOR_YOUTUBE_PORT: port.default(DEFAULT_SIMULATOR_PORTS.youtube),
  SIMULATOR_API_FOOTBALL_PORT: port.default(DEFAULT_SIMULATOR_PORTS.api_football),
  SIMULATOR_HOST: z.string().min(1).default('127.0.0.1'),
  SIMULATOR_PUBLIC_HOST: z.string().min(1).optional(),
  SIMULATOR_TASK_DURATION_MS: z.coerce.number().int().min(0).optional(),
  /** Real milliseconds one hour of a post's age takes in the metrics simulators (default 3,600,000: real time). */
  SIMULATOR_METRICS_HOUR_MS: z.coerce.number().positive().optional(),
  /** stand-in: realistic briefs and competitor analyses (as the demo); schema: the generic sampler's placeholders. */
  SIMULATOR_OPENAI_ANSWERS: z.enum(['stand-in', 'schema']).default('stand-in'),
  /** Where provider state (renders, uploads, publish ids) is kept across restarts; empty keeps it in memory only. */
  SIMULATOR_STATE_DIR: z.string().default('.data/simulators'),
});

/** The limits table with this deployment's overrides applied. */
export function effectiveLimits(env: Pick<Env, 'REELFLOW_LIMITS'>): Record<Provider, ProviderLimits> {
  const out = { ...PROVIDER_LIMITS };
  for (const provider of PROVIDERS) {
    out[provider] = { ...PROVIDER_LIMITS[provider], ...(env.REELFLOW_LIMITS?.[provider] ?? {}) };
  }
  return out;
}

type CreditSettings = Pick<Env, 'KIE_MODEL' | 'KIE_CREDITS_PER_VIDEO' | 'KIE_CREDITS_PER_VIDEO_QUALITY'>;

/**
 * What one render costs in KIE credits: the quality model's price or veo3_fast's, by the render's model (an idea's
 * jobConfig.model) or the deployment's (KIE_MODEL). Every render recorded 60 whatever its model: a deployment on
 * veo3 spent about four times what its budgets counted.
 */
export function renderCredits(env: CreditSettings, model?: string | null): number {
  return (model ?? env.KIE_MODEL) === 'veo3' ? env.KIE_CREDITS_PER_VIDEO_QUALITY : env.KIE_CREDITS_PER_VIDEO;
}

/**
 * The quotas with this deployment's changes applied. A render's budget cost is its price on the deployment's model
 * (renderCredits: what each job records as its cost) unless a quota sets its own. A render asking for the other model
 * carries its own price from enqueue (job_config.credits, queue-sync's enqueueOne) and is granted at it.
 */
export function effectiveQuotas(
  env: Partial<Pick<Env, 'REELFLOW_QUOTAS' | 'YOUTUBE_DATA_API_KEY'> & CreditSettings>,
): Record<string, QuotaDefinition> {
  const out: Record<string, QuotaDefinition> = {};
  const credits =
    env.KIE_CREDITS_PER_VIDEO === undefined
      ? undefined
      : renderCredits({
          KIE_MODEL: env.KIE_MODEL ?? 'veo3_fast',
          KIE_CREDITS_PER_VIDEO: env.KIE_CREDITS_PER_VIDEO,
          KIE_CREDITS_PER_VIDEO_QUALITY: env.KIE_CREDITS_PER_VIDEO_QUALITY ?? env.KIE_CREDITS_PER_VIDEO,
        });
  for (const [name, quota] of Object.entries(PROVIDER_QUOTAS) as Array<[string, QuotaDefinition]>) {
    const costs = { ...quota.costs };
    if (quota.unit === 'credits' && credits !== undefined) {
      for (const jobType of Object.keys(costs) as JobType[]) costs[jobType] = credits;
    }
    // Keyless, a channel check reads the public feed: counted at the Data API's price, a channel checked every 15 minutes
    // (the schedule's default) took 96 of the day's 10,000 units, fifty channels nearly half, which posts (1,650 each) needed.
    if (costs.youtube_discovery !== undefined && !env.YOUTUBE_DATA_API_KEY) costs.youtube_discovery = 0;
    out[name] = { ...quota, costs };
  }
  for (const [name, change] of Object.entries(env.REELFLOW_QUOTAS ?? {})) {
    const merged = { ...out[name], ...change };
    const parsed = quotaDefinition.safeParse(merged);
    if (!parsed.success) {
      const issue = parsed.error.issues[0]!;
      const field = ['REELFLOW_QUOTAS', name, ...issue.path].join('.');
      throw new ConfigError(`${field}: ${out[name] ? issue.message : `a new quota needs every field (${issue.message})`}`);
    }
    out[name] = parsed.data as QuotaDefinition;
  }
  return out;
}
