/**
 * Every external input is validated here, once, with messages that name the
 * field and the allowed values (CLI flags, API bodies, job_config rows).
 */
import { readFile } from 'node:fs/promises';
import { MAX_SEGMENTS, REEL_MODES, VEO3_CLIP_SECONDS } from '../config/reel';
import { z } from 'zod';
import { UNSTORABLE, unstorableText } from '../shared/storable-text';
import { RECOMMENDATION_SOURCES } from '../config/approval';
import { PRIORITIES } from '../config/priorities';
import { PROVIDERS, PUBLISH_PLATFORMS } from '../config/providers';
import { BadInputError } from '../shared/errors';
import { JOB_STATUSES, RECOMMENDATION_STATUSES } from '../shared/statuses';

export const RECOMMENDATION_TYPES = [
  'counter_argument',
  'trend_jump',
  'player_spotlight',
  'viral_response',
  'bargain',
  'breaking_news',
] as const;
export type RecommendationType = (typeof RECOMMENDATION_TYPES)[number];

export { RECOMMENDATION_SOURCES };

const enumMessage = (allowed: readonly string[]) => ({
  errorMap: () => ({ message: `must be one of ${allowed.join(', ')}` }),
});

export const prioritySchema = z.enum(PRIORITIES, enumMessage(PRIORITIES));

/** A web address: file:, ftp:, data: and javascript: are refused (the providers and yt-dlp would fail on them, late). */
export const httpUrlSchema = z
  .string()
  .url()
  // Not a URL at all: .url() says so.
  .refine((u) => !URL.canParse(u) || /^https?:$/.test(new URL(u).protocol), 'must be an http(s) URL');

const platformList = z.array(z.enum(PUBLISH_PLATFORMS, enumMessage(PUBLISH_PLATFORMS)));
const noRepeats = (list: readonly string[]) => new Set(list).size === list.length;
/** One platform twice would be two publish steps on one job: two posts of the same video. */
const REPEATED_PLATFORM = 'lists a platform twice (each platform gets one post)';

/** Settings of a recommendation's video and where it is published. Unknown keys are an error. */
export const jobConfigSchema = z
  .object({
    /** Video provider; only VEO3 today, named so a typo fails loudly instead of silently using VEO3. */
    provider: z.enum(['veo3'], enumMessage(['veo3'])).default('veo3'),
    platforms: platformList
      .min(1, 'must list at least one platform')
      .refine(noRepeats, REPEATED_PLATFORM)
      .default([...PUBLISH_PLATFORMS]),
    aspectRatio: z.enum(['9:16', '16:9', 'Auto'], enumMessage(['9:16', '16:9', 'Auto'])).default('9:16'),
    model: z.enum(['veo3', 'veo3_fast'], enumMessage(['veo3', 'veo3_fast'])).optional(),
    // KIE fetches it: a file:, ftp: or data: URL would fail only at the render, after the brief was paid for.
    imageUrl: httpUrlSchema.optional(),
    caption: z.string().max(2200).optional(),
    /** A ready script skips nothing (analysis still writes the brief) but steers it. */
    notes: z.string().max(4000).optional(),
    /** This idea's reel, beside REELFLOW_REEL_MODE / REELFLOW_REEL_SECONDS: e.g. a single clip for breaking news. */
    reel: z
      .object({
        mode: z.enum(REEL_MODES, enumMessage(REEL_MODES)).optional(),
        /** Exact length in seconds, a multiple of the 8 s segment. */
        seconds: z
          .number()
          .int()
          .min(VEO3_CLIP_SECONDS)
          .max(MAX_SEGMENTS * VEO3_CLIP_SECONDS)
          .refine((n) => n % VEO3_CLIP_SECONDS === 0, `must be a multiple of ${VEO3_CLIP_SECONDS} (segments are ${VEO3_CLIP_SECONDS} s)`)
          .optional(),
      })
      .strict()
      .optional(),
    /** Approval this recommendation needs beyond the policy's (REELFLOW_APPROVAL_POLICY); it can only add steps. */
    approval: z
      .object({
        beforeRender: z.boolean().optional(),
        beforePublish: platformList.refine(noRepeats, REPEATED_PLATFORM).optional(),
      })
      .strict()
      .optional(),
  })
  .strict();
export type JobConfig = z.infer<typeof jobConfigSchema>;

const isoDate = z
  .string()
  .datetime({ offset: true, message: 'must be an ISO-8601 date-time, e.g. 2026-11-25T18:00:00Z' })
  .transform((s) => new Date(s));

/**
 * ourData is free-form (the engine's figures, an operator's notes) and is copied into the
 * database, the workflow's input and every prompt: without bounds one request could put
 * megabytes into Temporal's history (whose payloads are capped at 2 MiB) or nest deep enough
 * to make JSON handling recurse for ages.
 */
/** A rule's figures are a few hundred bytes; 64 KiB leaves room for notes and stays far under Temporal's payload cap. */
export const OUR_DATA_MAX_BYTES = 64 * 1024;
/** The engine's own figures nest a few levels (ourData.player.…); 8 allows hand-written structure, not abuse. */
export const OUR_DATA_MAX_DEPTH = 8;

/** Depth of a JSON value (a scalar is 0, {} or [] is 1); stops counting past `limit`. */
function jsonDepth(value: unknown, limit: number, depth = 0): number {
  if (value === null || typeof value !== 'object' || depth > limit) return depth;
  let deepest = depth + 1;
  for (const child of Object.values(value as Record<string, unknown>)) {
    deepest = Math.max(deepest, jsonDepth(child, limit, depth + 1));
    if (deepest > limit) break;
  }
  return deepest;
}

const ourDataSchema = z.record(z.unknown()).superRefine((value, ctx) => {
  if (jsonDepth(value, OUR_DATA_MAX_DEPTH) > OUR_DATA_MAX_DEPTH) {
    ctx.addIssue({ code: z.ZodIssueCode.custom, message: `must nest at most ${OUR_DATA_MAX_DEPTH} levels deep` });
    return;
  }
  const bytes = Buffer.byteLength(JSON.stringify(value), 'utf8');
  if (bytes > OUR_DATA_MAX_BYTES) {
    ctx.addIssue({
      code: z.ZodIssueCode.custom,
      message: `must be at most ${OUR_DATA_MAX_BYTES / 1024} KiB as JSON (got ${Math.ceil(bytes / 1024)} KiB)`,
    });
  }
});

export const enqueueRecommendationSchema = z
  .object({
    title: z.string().trim().min(3, 'must be at least 3 characters').max(200),
    type: z.enum(RECOMMENDATION_TYPES, enumMessage(RECOMMENDATION_TYPES)),
    priority: prioritySchema,
    targetPlayer: z.string().trim().min(1).max(120).optional(),
    ourData: ourDataSchema.default({}),
    jobConfig: jobConfigSchema.default({}),
    scheduleAfter: isoDate.optional(),
    /** Defaults to the priority's window (P0 24 h, P1 48 h, P2 1 week, P3 none). */
    deadline: isoDate.optional(),
    source: z.enum(RECOMMENDATION_SOURCES, enumMessage(RECOMMENDATION_SOURCES)).default('manual'),
    sourceVideoId: z.string().uuid().optional(),
    dedupeKey: z.string().min(1).max(300).optional(),
  })
  .strict();
export type EnqueueRecommendationInput = z.input<typeof enqueueRecommendationSchema>;

export const providerSchema = z.enum(PROVIDERS, enumMessage(PROVIDERS));

const limitSchema = z.coerce
  .number({ invalid_type_error: 'must be a number' })
  .int('must be an integer')
  .min(1, 'must be at least 1')
  .max(1000, 'must be at most 1000');

/** Filters of a job listing, as strings (API query string, CLI flags); status is comma-separated. */
export const listJobsQuerySchema = z
  .object({
    status: z
      .string()
      .transform((s) =>
        s
          .split(',')
          .map((x) => x.trim())
          .filter(Boolean),
      )
      .pipe(z.array(z.enum(JOB_STATUSES, enumMessage(JOB_STATUSES))))
      .optional(),
    provider: providerSchema.optional(),
    priority: prioritySchema.optional(),
    since: isoDate.optional(),
    limit: limitSchema.optional(),
  })
  .strict();

/** Filters of a recommendation listing, as strings. */
export const listRecommendationsQuerySchema = z
  .object({
    status: z.enum(RECOMMENDATION_STATUSES, enumMessage(RECOMMENDATION_STATUSES)).optional(),
    priority: prioritySchema.optional(),
    limit: limitSchema.optional(),
  })
  .strict();

/**
 * How far back a performance report looks: an age (`7d`, `48h`, `90m`) or a date/time (`2026-11-01`,
 * ISO-8601). Resolved against the clock when parsed. Default: 30 days.
 */
const sinceSchema = z
  .string()
  .trim()
  .transform((raw, ctx) => {
    const age = /^(\d+)\s*([dhm])$/.exec(raw);
    const at = age
      ? new Date(Date.now() - Number(age[1]) * { d: 86_400_000, h: 3_600_000, m: 60_000 }[age[2] as 'd' | 'h' | 'm'])
      : /^\d{4}-\d{2}-\d{2}/.test(raw)
        ? new Date(raw)
        : new Date(Number.NaN);
    if (Number.isNaN(at.getTime())) {
      ctx.addIssue({ code: z.ZodIssueCode.custom, message: 'must be an age (7d, 48h, 90m) or a date (2026-11-01, ISO-8601)' });
      return z.NEVER;
    }
    // 99999999d is 271,000 years ago, where PostgreSQL's timestamps stop (a 500): any time before our first post is all of it.
    return at.getTime() < 0 ? new Date(0) : at;
  });

/** Filters of a performance report (CLI flags, API query), as strings. */
export const performanceQuerySchema = z
  .object({
    since: sinceSchema.optional(),
    type: z.enum(RECOMMENDATION_TYPES, enumMessage(RECOMMENDATION_TYPES)).optional(),
    platform: z.enum(PUBLISH_PLATFORMS, enumMessage(PUBLISH_PLATFORMS)).optional(),
  })
  .strict();

/** The audit trail listing (API ?limit=). */
export const auditQuerySchema = z.object({ limit: limitSchema.optional() }).strict();
export const uuidSchema = z.string().uuid({ message: 'must be a UUID' });
/** What the commands on one idea accept (the workflow id's prefix already taken off): any of its names. */
export const ideaRefSchema = z
  .string()
  .uuid({ message: 'must be a recommendation or job id (a UUID) or a workflow id (recommendation-<UUID>)' });

/** A provider task id an operator types (`reelflow retry --task`), as the provider's dashboard shows it. */
export const providerTaskIdSchema = z
  .string()
  .trim()
  .min(1, 'must not be empty')
  .max(200, 'must be at most 200 characters')
  .regex(/^[A-Za-z0-9_.:-]+$/, 'must be a task id as the provider shows it (letters, digits, _ - . :)');

/** At most this many wrong fields are named in one error; the rest are counted. */
const NAMED_ISSUES = 5;

/**
 * Parses or throws one BadInputError naming every wrong field (up to NAMED_ISSUES): "enqueue: priority must be one
 * of …; title is required". A whole form fixed in one go, not one field a try.
 */
export function parseInput<T extends z.ZodTypeAny>(schema: T, value: unknown, what: string, fieldName?: FieldName): z.output<T> {
  const result = schema.safeParse(value);
  if (!result.success) throw new BadInputError(zodErrorMessage(result.error, what, fieldName));
  const unstorable = unstorableText(result.data);
  if (unstorable) {
    const at = unstorable.length ? (fieldName ?? ((path) => path.join('.')))(unstorable) : '';
    throw new BadInputError(`${what}${at ? `: ${at}` : ''} ${UNSTORABLE}`);
  }
  return result.data;
}

/** How a field is named to whoever typed it (the CLI: by its flag); default: its path, `jobConfig.platforms.1`. */
export type FieldName = (path: ReadonlyArray<string | number>) => string;

/** A ZodError in words: each wrong field and what it must be, after `what` (the input's name) when given. */
export function zodErrorMessage(error: z.ZodError, what?: string, fieldName: FieldName = (path) => path.join('.')): string {
  const described = error.issues.map((issue) => describeIssue(issue, fieldName));
  const named = described.slice(0, NAMED_ISSUES).map((d) => (d.at ? `${d.at} ${d.message}` : d.message));
  if (described.length > NAMED_ISSUES) named.push(`and ${described.length - NAMED_ISSUES} more`);
  if (!what) return named.join('; ') || 'input is invalid';
  // "enqueue: priority must be one of …" for fields; "id must be a UUID" for the value itself.
  const whole = described.length === 1 && !described[0]!.at && !described[0]!.unknownKeys;
  return whole ? `${what} ${named[0]}` : `${what}: ${named.join('; ')}`;
}

function describeIssue(issue: z.ZodIssue, fieldName: FieldName): { at: string; message: string; unknownKeys?: true } {
  const at = issue.path.length ? fieldName(issue.path) : '';
  if (issue.code === z.ZodIssueCode.unrecognized_keys) {
    const keys = issue.keys.map((k) => `"${fieldName([...issue.path, k])}"`).join(', ');
    return { at: '', message: `unknown field${issue.keys.length > 1 ? 's' : ''} ${keys}`, unknownKeys: true };
  }
  let message = issue.message;
  // zod's own wording ("Required", "Expected object, received string", "String must contain at least 1
  // character(s)") reads badly after a field name.
  if (issue.code === z.ZodIssueCode.invalid_type && (message === 'Required' || message.startsWith('Expected '))) {
    message = issue.received === 'undefined' ? 'is required' : `must be ${article(issue.expected)}, not ${article(issue.received)}`;
  }
  if (issue.code === z.ZodIssueCode.too_small && issue.type === 'string' && message.startsWith('String must contain')) {
    message = issue.minimum === 1 ? 'must not be empty' : `must be at least ${issue.minimum} characters`;
  }
  if (issue.code === z.ZodIssueCode.too_big && issue.type === 'string' && message.startsWith('String must contain')) {
    message = `must be at most ${issue.maximum} characters`;
  }
  return { at, message };
}

const article = (type: string) => (type === 'null' ? 'null' : /^[aeiou]/.test(type) ? `an ${type}` : `a ${type}`);

/** Reads an operator-named file (roster, competitor videos); a missing or unreadable one is bad input, named. */
export async function readInputFile(file: string): Promise<string> {
  try {
    return await readFile(file, 'utf8');
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    const why =
      code === 'ENOENT'
        ? 'no such file'
        : code === 'EISDIR'
          ? 'is a directory'
          : code === 'EACCES'
            ? 'permission denied'
            : (err as Error).message;
    throw new BadInputError(`${file}: ${why}`);
  }
}

/** JSON.parse whose failure is bad input naming the source. */
export function parseJsonText(text: string, source: string): unknown {
  try {
    return JSON.parse(text) as unknown;
  } catch (err) {
    // The parser quotes the text around the error, which may span lines: the message stays one line.
    throw new BadInputError(`${source}: not valid JSON (${(err as Error).message.replace(/\s+/g, ' ')})`);
  }
}
