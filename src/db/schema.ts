/**
 * The whole database schema, one file. Row types are inferred from it.
 * SQL functions and views live in the custom migration beside the generated
 * ones (drizzle/0001_queue_functions.sql) because SQL is the better language
 * for them and reporting tools read them directly.
 */
import { sql } from 'drizzle-orm';
import {
  bigint,
  bigserial,
  boolean,
  check,
  index,
  integer,
  jsonb,
  numeric,
  pgTable,
  primaryKey,
  real,
  smallint,
  text,
  timestamp,
  uniqueIndex,
  uuid,
} from 'drizzle-orm/pg-core';
import { PROVIDERS } from '../config/providers';
import { CHANNEL_PLATFORMS, COMPETITOR_VIDEO_STATUSES, JOB_STATUSES, RECOMMENDATION_STATUSES } from '../shared/statuses';

const ts = (name: string) => timestamp(name, { withTimezone: true, mode: 'date' });
const createdAt = () => ts('created_at').notNull().defaultNow();
const updatedAt = () => ts('updated_at').notNull().defaultNow();
/**
 * A CHECK's IN list from one of the shared value lists, so a value added there reaches the
 * database through `npm run db:generate`. Written as drizzle-kit wrote the literal lists, so
 * an unchanged list generates no migration.
 */
const inList = (values: readonly string[]) => sql.raw(values.map((v) => `'${v.replace(/'/g, "''")}'`).join(','));

/** Competitor channels we watch: the `competitors` Schedule checks every active one for new videos. */
export const competitorChannels = pgTable(
  'competitor_channels',
  {
    id: uuid('id').primaryKey().defaultRandom(),
    platform: text('platform').notNull(),
    /** YouTube channel id (UC...), Instagram username, or a free label for manual channels. */
    externalId: text('external_id').notNull(),
    /** What the operator typed (e.g. @Handle), kept for display. */
    handle: text('handle'),
    displayName: text('display_name').notNull(),
    active: boolean('active').notNull().default(true),
    lastCheckedAt: ts('last_checked_at'),
    /** Why the last check failed (null after a good one). */
    lastError: text('last_error'),
    lastErrorAt: ts('last_error_at'),
    /** Platform id and publish time of the newest video seen: the change detector's watermark. */
    newestVideoId: text('newest_video_id'),
    newestVideoAt: ts('newest_video_at'),
    videosFound: integer('videos_found').notNull().default(0),
    createdAt: createdAt(),
    updatedAt: updatedAt(),
  },
  (t) => [
    uniqueIndex('competitor_channels_platform_external_key').on(t.platform, t.externalId),
    check('competitor_channels_platform_check', sql`${t.platform} IN (${inList(CHANNEL_PLATFORMS)})`),
  ],
);

export const competitiveVideos = pgTable(
  'competitive_videos',
  {
    id: uuid('id').primaryKey().defaultRandom(),
    /** analysed, or why it never will be (unavailable, too_long): a found video is paid for at most once. */
    status: text('status').notNull().default('analysed'),
    /** yt-dlp's or the platform's reason for unavailable / too_long, with the figure. */
    statusReason: text('status_reason'),
    /** youtube, instagram, tiktok or web (a one-off URL). */
    platform: text('platform'),
    /** The platform's video id where it has one. */
    externalId: text('external_id'),
    channelId: uuid('channel_id').references(() => competitorChannels.id, { onDelete: 'set null' }),
    durationSeconds: real('duration_seconds'),
    /** sha256 of the audio that was transcribed. */
    audioSha256: text('audio_sha256'),
    /** Whisper segments ({start, end, text}), kept for quotes with timestamps. */
    transcriptSegments: jsonb('transcript_segments'),
    /** Views read after discovery ([{at, views}], oldest first): the velocity's evidence. */
    viewHistory: jsonb('view_history')
      .notNull()
      .default(sql`'[]'::jsonb`),
    /** Views gained per hour between the last two reads (null until read twice). */
    viewVelocity: real('view_velocity'),
    channel: text('channel').notNull(),
    url: text('url').notNull(),
    title: text('title').notNull(),
    views: integer('views').notNull().default(0),
    viralPotential: real('viral_potential'),
    transcript: text('transcript'),
    analysis: jsonb('analysis'),
    /** Roster player ids resolved from the transcript. */
    playersMentioned: text('players_mentioned')
      .array()
      .notNull()
      .default(sql`'{}'::text[]`),
    /** Names the normaliser could not resolve to one player: flagged for a human, never guessed. */
    ambiguousNames: jsonb('ambiguous_names')
      .notNull()
      .default(sql`'[]'::jsonb`),
    publishedAt: ts('published_at'),
    processedAt: ts('processed_at'),
    createdAt: createdAt(),
    updatedAt: updatedAt(),
  },
  (t) => [
    uniqueIndex('competitive_videos_url_key').on(t.url),
    index('competitive_videos_channel_idx').on(t.channelId),
    check('competitive_videos_status_check', sql`${t.status} IN (${inList(COMPETITOR_VIDEO_STATUSES)})`),
    check('competitive_videos_viral_range', sql`${t.viralPotential} IS NULL OR (${t.viralPotential} >= 0 AND ${t.viralPotential} <= 10)`),
  ],
);

export const competitiveRecommendations = pgTable(
  'competitive_recommendations',
  {
    id: uuid('id').primaryKey().defaultRandom(),
    priority: text('priority').notNull(),
    status: text('status').notNull().default('pending'),
    recommendationType: text('recommendation_type').notNull(),
    /** Where the idea came from: competitor analysis, bargain feed, breaking news, an operator. */
    source: text('source').notNull().default('manual'),
    title: text('title').notNull(),
    targetPlayer: text('target_player'),
    ourData: jsonb('our_data')
      .notNull()
      .default(sql`'{}'::jsonb`),
    /** Video settings and publishing targets, validated by jobConfigSchema before insert. */
    jobConfig: jsonb('job_config')
      .notNull()
      .default(sql`'{}'::jsonb`),
    sourceVideoId: uuid('source_video_id').references(() => competitiveVideos.id, { onDelete: 'set null' }),
    urgencyDeadline: ts('urgency_deadline'),
    scheduleAfter: ts('schedule_after'),
    /** (player, type, window) key: the engine never produces the same idea twice. */
    dedupeKey: text('dedupe_key'),
    workflowId: text('workflow_id'),
    error: text('error'),
    /**
     * The approval step: what waits for a decision (stage, what to review, since when) and every
     * decision taken ({stage, decision, by, note, at}). Null when no approval was ever asked.
     */
    approval: jsonb('approval'),
    publishedAt: ts('published_at'),
    createdAt: createdAt(),
    updatedAt: updatedAt(),
  },
  (t) => [
    uniqueIndex('competitive_recommendations_dedupe_key').on(t.dedupeKey),
    index('competitive_recommendations_status_idx').on(t.status, t.priority),
    check('competitive_recommendations_priority_check', sql`${t.priority} IN ('P0','P1','P2','P3')`),
    check('competitive_recommendations_status_check', sql`${t.status} IN (${inList(RECOMMENDATION_STATUSES)})`),
    check(
      'competitive_recommendations_type_check',
      sql`${t.recommendationType} IN ('counter_argument','trend_jump','player_spotlight','viral_response','bargain','breaking_news')`,
    ),
  ],
);

export const automationQueue = pgTable(
  'automation_queue',
  {
    id: uuid('id').primaryKey().defaultRandom(),
    priority: text('priority').notNull(),
    status: text('status').notNull().default('queued'),
    jobType: text('job_type').notNull(),
    jobConfig: jsonb('job_config')
      .notNull()
      .default(sql`'{}'::jsonb`),
    apiProvider: text('api_provider').notNull(),
    scheduleAfter: ts('schedule_after'),
    /** urgency_deadline of the recommendation: a job not started by then is never started. */
    deadline: ts('deadline'),
    estimatedDurationSeconds: integer('estimated_duration_seconds').notNull(),
    attempts: smallint('attempts').notNull().default(0),
    maxAttempts: smallint('max_attempts').notNull().default(3),
    startedAt: ts('started_at'),
    completedAt: ts('completed_at'),
    lastHeartbeatAt: ts('last_heartbeat_at'),
    /** Set while the job is in its provider's line (parked, or its activity waiting for a slot). */
    waitingSince: ts('waiting_since'),
    /** In line with no activity running: its workflow waits for the line courier's signal (drizzle/0016). */
    parked: boolean('parked').notNull().default(false),
    /** When the line courier last signalled the parked job's workflow to start its activity. */
    calledUpAt: ts('called_up_at'),
    /**
     * Its workflow takes the job back when its hot wait is passed by later, higher-priority jobs (drizzle/0021):
     * set by the workflow's park step, so a workflow of an older deploy is never handed a job it cannot take back.
     */
    returnable: boolean('returnable').notNull().default(false),
    /**
     * The worker process running the job's latest activity attempt (its presence lock, src/gate/presence.ts) and
     * that attempt's Temporal task token (base64): a process gone from PostgreSQL has its attempt failed at once,
     * so another process resumes the job within seconds instead of at the heartbeat timeout (drizzle/0018).
     */
    activityWorker: integer('activity_worker'),
    activityToken: text('activity_token'),
    /**
     * The attempt's paid submit is ready to leave with this callback key: when that attempt, waiting hot in its
     * process, is granted a slot, the grant claims its start in the same transaction (drizzle/0033), so the submit
     * leaves on the grant's NOTIFY without a claim_start round trip. Written with the attempt (SlotGate.markActivity).
     */
    armedSubmitKey: text('armed_submit_key'),
    /**
     * The provider's callback said the job's current task ended: its slot went to the next job at once, not when
     * the activity confirms the end; a retried attempt resumes the task without a slot (drizzle/0019).
     */
    taskEndedAt: ts('task_ended_at'),
    error: text('error'),
    cost: numeric('cost', { precision: 12, scale: 4, mode: 'number' }),
    /** Provider handle (VEO3 task id, IG container, TikTok publish id, YouTube video id): the pay-once key. */
    providerTaskId: text('provider_task_id'),
    /** Set just before a paid submit; left set with no task id only if the worker died mid-request. */
    submitAttemptedAt: ts('submit_attempted_at'),
    result: jsonb('result'),
    workflowId: text('workflow_id').notNull(),
    runId: text('run_id'),
    /** Step of the workflow this job is (analyze, generate, publish:instagram, ...): one row per step. */
    step: text('step').notNull(),
    recommendationId: uuid('recommendation_id').references(() => competitiveRecommendations.id, { onDelete: 'cascade' }),
    stuckSince: ts('stuck_since'),
    createdAt: createdAt(),
    updatedAt: updatedAt(),
  },
  (t) => [
    uniqueIndex('automation_queue_workflow_step_key').on(t.workflowId, t.step),
    index('automation_queue_line_idx').on(t.apiProvider, t.status, t.priority, t.createdAt),
    // The line in its order (drizzle/0017): readers of its head stop after the first few, however long it is.
    index('automation_queue_in_line_idx')
      .on(t.apiProvider, t.priority, t.createdAt, t.id)
      .where(sql`${t.status} = 'queued' AND ${t.waitingSince} IS NOT NULL`),
    index('automation_queue_recommendation_idx').on(t.recommendationId),
    // Only open jobs with an activity attempt on record: the presence check reads a handful of rows, not the line.
    index('automation_queue_activity_idx')
      .on(t.activityWorker)
      .where(sql`${t.activityToken} IS NOT NULL AND ${t.status} IN ('queued', 'processing')`),
    // The running jobs not yet marked stuck (drizzle/0023): mark_stuck_jobs reads these few, not the line.
    index('automation_queue_running_idx')
      .on(t.startedAt)
      .where(sql`${t.status} = 'processing' AND ${t.stuckSince} IS NULL`),
    // A provider's callback names its task (drizzle/0025): found through this, not by reading every job ever run.
    index('automation_queue_task_idx')
      .on(t.apiProvider, t.providerTaskId)
      .where(sql`${t.providerTaskId} IS NOT NULL`),
    // The dashboard's last 24 hours and the ETA's run times (drizzle/0026): the jobs that started or ended lately,
    // not every job the provider ever ran, on every poll.
    index('automation_queue_completed_idx').on(t.apiProvider, t.completedAt),
    index('automation_queue_started_idx').on(t.apiProvider, t.startedAt),
    // The ETA's walk of every provider's line in priority order (src/gate/eta.ts), open jobs only.
    index('automation_queue_queued_idx')
      .on(t.priority, t.createdAt, t.id)
      .where(sql`${t.status} = 'queued'`),
    // The open jobs, queued or running (drizzle/0032): the dashboard's job list and calendar read these few, not a year.
    index('automation_queue_open_idx')
      .on(t.status)
      .where(sql`${t.status} IN ('queued', 'processing')`),
    check('automation_queue_priority_check', sql`${t.priority} IN ('P0','P1','P2','P3')`),
    check('automation_queue_status_check', sql`${t.status} IN (${inList(JOB_STATUSES)})`),
    check('automation_queue_provider_check', sql`${t.apiProvider} IN (${inList(PROVIDERS)})`),
    check('automation_queue_attempts_check', sql`${t.attempts} >= 0 AND ${t.attempts} <= ${t.maxAttempts}`),
  ],
);

/** What happened to each job, in order: the history the API, CLI and dashboard show. */
export const jobEvents = pgTable(
  'job_events',
  {
    id: bigserial('id', { mode: 'number' }).primaryKey(),
    jobId: uuid('job_id').references(() => automationQueue.id, { onDelete: 'cascade' }),
    recommendationId: uuid('recommendation_id'),
    event: text('event').notNull(),
    detail: jsonb('detail')
      .notNull()
      .default(sql`'{}'::jsonb`),
    createdAt: createdAt(),
  },
  (t) => [index('job_events_job_idx').on(t.jobId, t.id), index('job_events_event_idx').on(t.event, t.createdAt)],
);

/**
 * The answers a job's attempt was paid for, one row a part (a long transcript's analysis piece): the next attempt
 * of the same job starts after them instead of paying for them again. Gone with the job.
 */
export const jobParts = pgTable(
  'job_parts',
  {
    jobId: uuid('job_id')
      .notNull()
      .references(() => automationQueue.id, { onDelete: 'cascade' }),
    /** What the part is, as its answer depends on it (a piece: the sha256 of its text). */
    part: text('part').notNull(),
    answer: jsonb('answer').notNull(),
    createdAt: createdAt(),
  },
  (t) => [primaryKey({ columns: [t.jobId, t.part] })],
);

/** The gate's configuration per provider (mirrors the limits table plus overrides) and its spacing clock. */
export const providerLimits = pgTable('provider_limits', {
  provider: text('provider').primaryKey(),
  maxConcurrent: integer('max_concurrent').notNull(),
  minStartIntervalMs: integer('min_start_interval_ms').notNull(),
  /** Added to the interval so the provider, one HTTP request later, still sees at least the interval. */
  startMarginMs: integer('start_margin_ms').notNull().default(100),
  /** From the limits table: a paid task can be stopped (else a cancelled job keeps its slot until the task ends). */
  cancellable: boolean('cancellable').notNull().default(true),
  /** From the limits table: a submit whose answer was lost may be sent again. */
  submitRepeatable: boolean('submit_repeatable').notNull().default(true),
  lastStartAt: ts('last_start_at'),
  /** The job whose start lastStartAt is: only that job may move it later (claim_start's refresh, drizzle/0020). */
  lastStartJob: uuid('last_start_job'),
  updatedAt: updatedAt(),
});

/** A held slot. Freed when the job ends or its lease (renewed by the running process) lapses. */
export const providerSlots = pgTable(
  'provider_slots',
  {
    jobId: uuid('job_id')
      .primaryKey()
      .references(() => automationQueue.id, { onDelete: 'cascade' }),
    provider: text('provider').notNull(),
    grantedAt: ts('granted_at').notNull().defaultNow(),
    leaseExpiresAt: ts('lease_expires_at').notNull(),
    /** A paid provider task still running on the provider's side keeps the slot until this time. */
    holdUntil: ts('hold_until'),
    /**
     * The holder's first start at the provider (claim_start): lower priorities granted after it wait for it (0027).
     * Cleared when the slot is handed to a reel's next segment, which has not started yet (0041).
     */
    calledAt: ts('called_at'),
    /** When the holder, before its first start, was first told to wait for the spacing: its place in turn (0038). */
    startWantedAt: ts('start_wanted_at'),
  },
  (t) => [index('provider_slots_provider_idx').on(t.provider)],
);

/**
 * A quota or spend budget (src/config/providers.ts PROVIDER_QUOTAS, written on
 * every migrate; editable live). The gate (grant_slots) grants a slot only when
 * the job's cost fits; parked_until stops a quota the provider itself said is spent.
 */
export const providerQuotas = pgTable(
  'provider_quotas',
  {
    name: text('name').primaryKey(),
    provider: text('provider')
      .notNull()
      .references(() => providerLimits.provider),
    account: text('account').notNull().default('default'),
    windowKind: text('window_kind').notNull(),
    /** Moving: the window's length; calendar: the slice from local midnight (null: a calendar month). */
    windowSeconds: integer('window_seconds'),
    timeZone: text('time_zone').notNull().default('UTC'),
    quotaLimit: numeric('quota_limit', { precision: 14, scale: 4, mode: 'number' }).notNull(),
    lowPriorityShare: real('low_priority_share').notNull().default(1),
    unit: text('unit').notNull(),
    reason: text('reason').notNull().default(''),
    /** The provider said the quota is spent (or a reading showed it): nothing starts before this. */
    parkedUntil: ts('parked_until'),
    parkedReason: text('parked_reason'),
    /** When this park began: kept while it is parked again within an hour of its end (drizzle/0060). */
    parkedSince: ts('parked_since'),
    /** When the team was told of the park (the quota watch); older than parked_since: not told yet. */
    parkTold: ts('park_told_at'),
    /** What the provider last reported as left in the window, and when (reconciliation). */
    reportedRemaining: numeric('reported_remaining', { precision: 14, scale: 4, mode: 'number' }),
    reportedLimit: numeric('reported_limit', { precision: 14, scale: 4, mode: 'number' }),
    reportedAt: ts('reported_at'),
    updatedAt: updatedAt(),
  },
  (t) => [
    check('provider_quotas_window_kind_check', sql`${t.windowKind} IN ('moving','calendar')`),
    check(
      'provider_quotas_window_seconds_check',
      sql`(${t.windowSeconds} IS NULL AND ${t.windowKind} = 'calendar') OR ${t.windowSeconds} > 0`,
    ),
    check('provider_quotas_quota_limit_check', sql`${t.quotaLimit} >= 0`),
    check('provider_quotas_low_priority_share_check', sql`${t.lowPriorityShare} > 0 AND ${t.lowPriorityShare} <= 1`),
  ],
);

/** Units a job type spends against a quota. */
export const quotaCosts = pgTable(
  'quota_costs',
  {
    quota: text('quota')
      .notNull()
      .references(() => providerQuotas.name, { onDelete: 'cascade', onUpdate: 'cascade' }),
    jobType: text('job_type').notNull(),
    units: numeric('units', { precision: 14, scale: 4, mode: 'number' }).notNull(),
  },
  (t) => [uniqueIndex('quota_costs_quota_job_type_idx').on(t.quota, t.jobType), check('quota_costs_units_check', sql`${t.units} >= 0`)],
);

/** Units spent: one row per job, quota and take, written when the gate grants the job its slot. */
export const quotaUsage = pgTable(
  'quota_usage',
  {
    id: bigserial('id', { mode: 'number' }).primaryKey(),
    quota: text('quota')
      .notNull()
      .references(() => providerQuotas.name, { onDelete: 'cascade', onUpdate: 'cascade' }),
    jobId: uuid('job_id').references(() => automationQueue.id, { onDelete: 'set null' }),
    units: numeric('units', { precision: 14, scale: 4, mode: 'number' }).notNull(),
    usedAt: ts('used_at').notNull().defaultNow(),
    /** 1, then 2, 3…: a quota charged per call (units, requests) is taken again by each attempt that calls anew (0045). */
    take: smallint('take').notNull().default(1),
    /** The job's newest job_events id when this take was made: a provider call (or a paid task discarded) after it spent it. */
    eventAtTake: bigint('event_at_take', { mode: 'number' }).notNull().default(0),
  },
  (t) => [
    uniqueIndex('quota_usage_quota_job_take_idx').on(t.quota, t.jobId, t.take),
    index('quota_usage_quota_used_at_idx').on(t.quota, t.usedAt),
  ],
);

/** Our roster and bargain data (BargainAnalyzer / API-Sports shape). */
export const players = pgTable(
  'players',
  {
    id: text('id').primaryKey(),
    name: text('name').notNull(),
    team: text('team').notNull(),
    position: text('position').notNull(),
    /** Fantasy market price in millions of euros. */
    price: numeric('price', { precision: 6, scale: 2, mode: 'number' }).notNull(),
    points: integer('points').notNull().default(0),
    /** Average fantasy points over the last 5 rounds. */
    recentForm: real('recent_form').notNull().default(0),
    minutes: integer('minutes').notNull().default(0),
    injuryStatus: text('injury_status').notNull().default('fit'),
    aliases: text('aliases')
      .array()
      .notNull()
      .default(sql`'{}'::text[]`),
    /** API-Football's player id once a sync matched the player (null for hand-loaded rows). */
    apiFootballId: integer('api_football_id'),
    /** API-Football's season rating (computed per position). */
    rating: real('rating'),
    appearances: integer('appearances'),
    goals: integer('goals'),
    assists: integer('assists'),
    /** Why the player is out or doubtful (API-Football injuries), e.g. "Knee Injury". */
    injuryReason: text('injury_reason'),
    photoUrl: text('photo_url'),
    /** When API-Football data last reached this row. */
    statsUpdatedAt: ts('stats_updated_at'),
    updatedAt: updatedAt(),
  },
  (t) => [
    check('players_position_check', sql`${t.position} IN ('GK','DEF','MID','FWD')`),
    uniqueIndex('players_api_football_id_key').on(t.apiFootballId),
  ],
);

export const apiTokens = pgTable(
  'api_tokens',
  {
    id: uuid('id').primaryKey().defaultRandom(),
    name: text('name').notNull(),
    /** sha256 of the token; the token itself is shown once at creation. */
    tokenHash: text('token_hash').notNull().unique(),
    role: text('role').notNull(),
    createdAt: createdAt(),
    lastUsedAt: ts('last_used_at'),
    revokedAt: ts('revoked_at'),
    /** Null: valid until revoked (drizzle/0003_security.sql). */
    expiresAt: ts('expires_at'),
  },
  (t) => [check('api_tokens_role_check', sql`${t.role} IN ('read','operator')`)],
);

export const auditLog = pgTable('audit_log', {
  id: bigserial('id', { mode: 'number' }).primaryKey(),
  tokenId: uuid('token_id'),
  actor: text('actor').notNull(),
  action: text('action').notNull(),
  target: text('target'),
  detail: jsonb('detail')
    .notNull()
    .default(sql`'{}'::jsonb`),
  createdAt: createdAt(),
});

/**
 * A task queue no live worker serves, from when it was first seen so (src/notifications/worker-watch.ts): one row per
 * queue while it lasts, shared by every API process, so the outage is announced once and its end once.
 */
export const unservedQueues = pgTable('unserved_queues', {
  taskQueue: text('task_queue').primaryKey(),
  since: ts('since').notNull().defaultNow(),
  announcedAt: ts('announced_at'),
});

/** One row per notification event key: a retried send never posts twice. */
export const notificationsSent = pgTable(
  'notifications_sent',
  {
    eventKey: text('event_key').primaryKey(),
    channel: text('channel').notNull(),
    delivered: boolean('delivered').notNull().default(false),
    createdAt: createdAt(),
    deliveredAt: ts('delivered_at'),
    /** The webhook refused the message (a revoked URL, a bad payload): shown on the dashboard until delivered (0061). */
    refusedAt: ts('refused_at'),
    refusedReason: text('refused_reason'),
    /** The refused message's text, for the dashboard to say what the team was not told. */
    message: text('message'),
  },
  (t) => [
    index('notifications_sent_refused_idx')
      .on(t.refusedAt)
      .where(sql`${t.refusedAt} IS NOT NULL AND NOT ${t.delivered}`),
    index('notifications_sent_channel_delivered_idx').on(t.channel, t.deliveredAt),
  ],
);

export type CompetitiveVideo = typeof competitiveVideos.$inferSelect;
export type Recommendation = typeof competitiveRecommendations.$inferSelect;
export type NewRecommendation = typeof competitiveRecommendations.$inferInsert;
export type Job = typeof automationQueue.$inferSelect;
export type JobEvent = typeof jobEvents.$inferSelect;
export type Player = typeof players.$inferSelect;

/** One API-Football sync: what it read, what it matched and the rows it could not place on the roster. */
export const playerSyncRuns = pgTable('player_sync_runs', {
  id: uuid('id').primaryKey().defaultRandom(),
  startedAt: ts('started_at').notNull().defaultNow(),
  finishedAt: ts('finished_at'),
  season: integer('season').notNull(),
  requests: integer('requests').notNull().default(0),
  playersRead: integer('players_read').notNull().default(0),
  matched: integer('matched').notNull().default(0),
  /** [{apiFootballId, name, team, reason}] */
  unmatched: jsonb('unmatched')
    .notNull()
    .default(sql`'[]'::jsonb`),
  error: text('error'),
});

/** Upcoming La Liga fixtures (API-Football), for rules that care who plays next. */
export const fixtures = pgTable('fixtures', {
  id: integer('id').primaryKey(),
  kickoffAt: ts('kickoff_at').notNull(),
  round: text('round'),
  homeTeam: text('home_team').notNull(),
  awayTeam: text('away_team').notNull(),
  status: text('status').notNull(),
  updatedAt: updatedAt(),
});

/**
 * Aliases an editor taught (`reelflow names alias`): a mention that resolves to one player
 * from then on. Kept apart from players.aliases, which a roster load or sync rewrites.
 */
export const nameAliases = pgTable('name_aliases', {
  /** normalizeName() of the mention: "Grizi", "grizi" and "GRIZI" are one alias. */
  mention: text('mention').primaryKey(),
  playerId: text('player_id')
    .notNull()
    .references(() => players.id, { onDelete: 'cascade' }),
  /** Who taught it (CLI user, API token name). */
  createdBy: text('created_by').notNull(),
  createdAt: createdAt(),
});

/**
 * Each published post's metrics, one row per read of the post-metrics workflow (+1 h, +6 h, +24 h, +72 h, +7 d
 * by default; REELFLOW_METRICS_READS): the platform's lifetime counts at that age. Null where the platform has no
 * such figure (reach and saves are Instagram's). The content_performance view (drizzle/0011) reads it.
 */
export const postMetrics = pgTable(
  'post_metrics',
  {
    id: bigserial('id', { mode: 'number' }).primaryKey(),
    recommendationId: uuid('recommendation_id')
      .notNull()
      .references(() => competitiveRecommendations.id, { onDelete: 'cascade' }),
    platform: text('platform').notNull(),
    postId: text('post_id').notNull(),
    publishedAt: ts('published_at').notNull(),
    readAt: ts('read_at').notNull(),
    /** The timer this read belongs to, in seconds after publishing (the schedule's offset, not the exact age). */
    ageSeconds: integer('age_seconds').notNull(),
    /** The same as a label: 1h, 6h, 24h, 3d, 7d (or 90s in a compressed test). */
    ageBucket: text('age_bucket').notNull(),
    views: bigint('views', { mode: 'number' }),
    reach: bigint('reach', { mode: 'number' }),
    likes: bigint('likes', { mode: 'number' }),
    comments: bigint('comments', { mode: 'number' }),
    shares: bigint('shares', { mode: 'number' }),
    saves: bigint('saves', { mode: 'number' }),
    interactions: bigint('interactions', { mode: 'number' }),
    /** The automation_queue job that read it. */
    jobId: uuid('job_id'),
    createdAt: createdAt(),
  },
  (t) => [
    // One row per post and timer: a retried record writes the same row again.
    uniqueIndex('post_metrics_post_age_key').on(t.platform, t.postId, t.ageSeconds),
    index('post_metrics_recommendation_idx').on(t.recommendationId),
    index('post_metrics_read_at_idx').on(t.readAt),
    check('post_metrics_platform_check', sql`${t.platform} IN ('instagram','tiktok','youtube')`),
  ],
);
export type PostMetricsRow = typeof postMetrics.$inferSelect;

/**
 * Each post's metrics series as it was started (one row per post, written before its workflow starts): the schedule
 * its timers follow, so a report knows when a post nobody has read yet will be read, on the clock the workers run
 * (the demo's hour is a second; the API that reports it does not know that). Posts published before drizzle/0042 have
 * none.
 */
export const postMetricSeries = pgTable(
  'post_metric_series',
  {
    platform: text('platform').notNull(),
    postId: text('post_id').notNull(),
    recommendationId: uuid('recommendation_id')
      .notNull()
      .references(() => competitiveRecommendations.id, { onDelete: 'cascade' }),
    /** The timers count from here (the publish job's completion). */
    publishedAt: ts('published_at').notNull(),
    /** REELFLOW_METRICS_READS as the series got it: seconds of the post's age, ascending. */
    readsSeconds: integer('reads_seconds').array().notNull(),
    /** REELFLOW_METRICS_HOUR_MS as the series got it: real ms an hour of the post's age takes. */
    hourMs: integer('hour_ms').notNull(),
    /** The missed reading (its age) last told to the team (src/workers/metrics-watch.ts, 0065). */
    behindToldSeconds: integer('behind_told_seconds'),
    createdAt: createdAt(),
  },
  (t) => [
    uniqueIndex('post_metric_series_post_key').on(t.platform, t.postId),
    index('post_metric_series_recommendation_idx').on(t.recommendationId),
    index('post_metric_series_published_idx').on(t.publishedAt),
  ],
);

/**
 * Our copy of each paid video (issue 15, "keep the video"): the clip VEO3 rendered, or a reel's final cut, streamed
 * into our storage (REELFLOW_STORAGE: a directory, or an S3-compatible bucket) before anything is published. One per
 * recommendation: publishing and `reelflow republish` read this copy, never KIE's result URL again.
 */
export const videoAssets = pgTable(
  'video_assets',
  {
    id: uuid('id').primaryKey().defaultRandom(),
    recommendationId: uuid('recommendation_id')
      .notNull()
      .references(() => competitiveRecommendations.id, { onDelete: 'cascade' }),
    /** fs or s3: where storage_key lives. */
    storage: text('storage').notNull(),
    storageKey: text('storage_key').notNull(),
    sha256: text('sha256').notNull(),
    bytes: bigint('bytes', { mode: 'number' }).notNull(),
    contentType: text('content_type').notNull(),
    /** ffprobe's figure for the stored file. */
    durationSeconds: real('duration_seconds').notNull(),
    /** The KIE task(s) paid for it: one render, or a reel's segments in order. */
    kieTaskIds: text('kie_task_ids').array().notNull(),
    /** Where it was downloaded from (KIE's result URL, or the assembled reel on our media server). */
    sourceUrl: text('source_url').notNull(),
    createdAt: createdAt(),
  },
  (t) => [
    uniqueIndex('video_assets_recommendation_key').on(t.recommendationId),
    check('video_assets_storage_check', sql`${t.storage} IN ('fs','s3')`),
    check('video_assets_bytes_check', sql`${t.bytes} > 0`),
  ],
);
export type VideoAsset = typeof videoAssets.$inferSelect;

/**
 * Reminders a review waiting for an editor has had (src/workers/approval-watch.ts), keyed by the review's id (its
 * `approval.waiting.id`, or `<idea>@<requestedAt>` for a review from before ids): a review decided, replaced or
 * closed drops its row.
 */
export const approvalReminders = pgTable(
  'approval_reminders',
  {
    reviewId: text('review_id').primaryKey(),
    recommendationId: uuid('recommendation_id')
      .notNull()
      .references(() => competitiveRecommendations.id, { onDelete: 'cascade' }),
    reminded: integer('reminded').notNull(),
    remindedAt: ts('reminded_at').notNull().defaultNow(),
  },
  (t) => [index('approval_reminders_recommendation_idx').on(t.recommendationId)],
);
