/**
 * Competitor videos in and out of competitive_videos. One row per video: the
 * URL (canonicalised, so youtu.be and watch?v= forms meet) is the key, and
 * re-processing a video updates its row.
 */
import { eq, sql } from 'drizzle-orm';
import { z } from 'zod';
import type { Db } from '../db/client';
import { competitiveVideos, type CompetitiveVideo } from '../db/schema';
import { parseInput, parseJsonText, readInputFile } from '../validation';
import { parseCompetitorAnalysis, type FlaggedName, type MergedAnalysis, type StoredAnalysis } from './analysis';
import type { NameResolution, NameResolver } from './names';
import { InvalidVideoError } from '../shared/errors';
import { COMPETITOR_PLATFORMS, type CompetitorPlatform, type CompetitorVideoStatus } from '../shared/statuses';

/**
 * One key per video, whichever form a link takes: https://youtu.be/ID, /shorts/ID, m.youtube.com and tracking
 * parameters all become https://www.youtube.com/watch?v=ID; an Instagram post under /p/, /reel/, /reels/, /tv/ or
 * /<account>/reel/, with its share parameters (?igsh=, ?utm_source=), becomes https://www.instagram.com/reel/CODE/
 * (the form Instagram's API gives a reel's permalink); a TikTok video loses its query (?is_from_webapp=1…). Two
 * forms of one video would be two workflows, each downloading, transcribing and analysing it: paid twice.
 * drizzle/0049 moved the rows saved before to these forms.
 */
export function canonicalVideoUrl(raw: string): string {
  let url: URL;
  try {
    url = new URL(raw.trim());
  } catch {
    throw new InvalidVideoError(`url "${raw}" is not a valid URL`);
  }
  const host = hostOf(url);
  let id: string | null | undefined;
  if (host === 'youtu.be') id = url.pathname.split('/')[1];
  else if (host === 'youtube.com') {
    id = url.pathname === '/watch' ? url.searchParams.get('v') : /^\/(?:shorts|embed|live)\/([^/]+)/.exec(url.pathname)?.[1];
  }
  if (id && /^[A-Za-z0-9_-]{6,20}$/.test(id)) return `https://www.youtube.com/watch?v=${id}`;
  if (host === 'instagram.com') {
    const code = /^\/(?:[^/]+\/)?(?:p|reels?|tv)\/([A-Za-z0-9_-]+)\/?$/.exec(url.pathname)?.[1];
    if (code) return `https://www.instagram.com/reel/${code}/`;
  }
  if (host === 'tiktok.com') {
    const video = /^\/(@[^/]+)\/video\/(\d+)\/?$/.exec(url.pathname);
    if (video) return `https://www.tiktok.com/${video[1]}/video/${video[2]}`;
  }
  url.hash = '';
  return url.toString();
}

/** The platform a video URL belongs to, and its id there when the URL says (from its canonical form). */
export function videoPlatform(url: string): { platform: CompetitorPlatform; externalId: string | null } {
  const host = hostOf(url);
  const canonical = canonicalVideoUrl(url);
  if (host === 'youtube.com' || host === 'youtu.be' || host.endsWith('.youtube.com')) {
    return { platform: 'youtube', externalId: /[?&]v=([A-Za-z0-9_-]{6,20})$/.exec(canonical)?.[1] ?? null };
  }
  if (host === 'instagram.com') return { platform: 'instagram', externalId: /\/reel\/([^/]+)\/$/.exec(canonical)?.[1] ?? null };
  if (host === 'tiktok.com' || host.endsWith('.tiktok.com')) {
    const path = new URL(url).pathname;
    return { platform: 'tiktok', externalId: (/\/video\/(\d+)/.exec(path) ?? /^\/v\/(\d+)\.html$/.exec(path))?.[1] ?? null };
  }
  return { platform: 'web', externalId: null };
}

/**
 * Why a page of a platform names no video (a playlist, a channel, a profile), said of the link, or null: such a link is refused before
 * anything is fetched or paid, yt-dlp would read a playlist's entries into one audio, or nothing at all.
 */
export function nonVideoReason(url: string): string | null {
  if (!URL.canParse(url)) return null; // not a URL at all: what says so names it
  const { platform, externalId } = videoPlatform(url);
  if (externalId) return null;
  const watch = `\`reelflow competitor add ${platform} <channel>\` watches a channel`;
  if (platform === 'youtube') return `names no YouTube video (watch?v=…, /shorts/…, youtu.be/…); ${watch}`;
  if (platform === 'instagram') return `names no Instagram reel or post (/reel/…, /p/…); ${watch}`;
  // A share link (vm.tiktok.com/…, tiktok.com/t/…) names its video only once followed: yt-dlp follows it.
  if (platform === 'tiktok' && hostOf(url) === 'tiktok.com' && !new URL(url).pathname.startsWith('/t/'))
    return 'names no TikTok video (/@user/video/…, or a vm.tiktok.com share link)';
  return null;
}

function hostOf(url: string | URL): string {
  return new URL(url).hostname.toLowerCase().replace(/^(www\.|m\.)/, '');
}

export const competitorVideoSchema = z.object({
  url: z.string().trim().min(1),
  channel: z.string().trim().min(1).max(200),
  title: z.string().trim().min(1).max(500),
  views: z.number().int().min(0),
  /** Dates cross Temporal as ISO strings; both forms are accepted. */
  publishedAt: z
    .union([z.date(), z.string().datetime({ offset: true })])
    .transform((v) => new Date(v))
    .nullable(),
  transcript: z.string(),
});
export type CompetitorVideo = z.infer<typeof competitorVideoSchema>;

/** Where a video came from and what its audio was: optional, a row saved from a file has none of it. */
export const videoSourceSchema = z.object({
  platform: z.enum(COMPETITOR_PLATFORMS).nullish(),
  externalId: z.string().max(200).nullish(),
  channelId: z.string().uuid().nullish(),
  durationSeconds: z.number().min(0).nullish(),
  audioSha256: z
    .string()
    .regex(/^[0-9a-f]{64}$/)
    .nullish(),
  transcriptSegments: z.array(z.object({ start: z.number(), end: z.number(), text: z.string() })).nullish(),
});
export type VideoSource = z.input<typeof videoSourceSchema>;

export interface SaveCompetitorVideoInput extends z.input<typeof competitorVideoSchema>, VideoSource {
  /** The model's answer; validated again here because activity payloads are untyped JSON. */
  analysis: unknown;
  /** One resolution per analysis.players entry, in the same order (see resolveAnalysisPlayers). */
  resolution: readonly NameResolution[];
}

/**
 * The channel a video came from, while it exists: a channel removed while its video was analysed leaves the row's
 * channel null, as `competitor remove` leaves its other videos. Its id written as it was made the paid save fail
 * (foreign key) and retry for ever.
 */
function channelIfKept(id: string | null) {
  return id === null ? null : sql`(SELECT id FROM competitor_channels WHERE id = ${id}::uuid)`;
}

function parseSource(input: VideoSource) {
  const parsed = videoSourceSchema.safeParse(input);
  if (!parsed.success) {
    const issue = parsed.error.issues[0]!;
    throw new InvalidVideoError(`video field "${issue.path.join('.')}": ${issue.message}`);
  }
  const s = parsed.data;
  return {
    platform: s.platform ?? null,
    externalId: s.externalId ?? null,
    channelId: channelIfKept(s.channelId ?? null),
    durationSeconds: s.durationSeconds ?? null,
    audioSha256: s.audioSha256 ?? null,
    transcriptSegments: s.transcriptSegments ?? null,
  };
}

export function resolveAnalysisPlayers(
  resolver: NameResolver,
  analysis: { players: ReadonlyArray<{ name: string; team: string | null }> },
): NameResolution[] {
  return analysis.players.map((p) => resolver.resolve(p.name, { team: p.team }));
}

/**
 * An analysis with each player's resolution applied: the stored form (roster id or null per
 * player), the ids mentioned, and the names flagged for a human. Saving a video and teaching
 * an alias (name-directory.ts) both write these three from the same resolution.
 */
export function annotateAnalysis(
  analysis: MergedAnalysis,
  resolution: readonly NameResolution[],
): { stored: StoredAnalysis; playersMentioned: string[]; ambiguousNames: FlaggedName[] } {
  const stored: StoredAnalysis = {
    ...analysis,
    players: analysis.players.map((p, i) => {
      const r = resolution[i]!;
      return { ...p, playerId: r.status === 'resolved' ? r.playerId : null };
    }),
  };
  const playersMentioned = [...new Set(stored.players.flatMap((p) => (p.playerId ? [p.playerId] : [])))];
  const ambiguousNames: FlaggedName[] = analysis.players.flatMap((p, i) => {
    const r = resolution[i]!;
    // A club or a word like "Jornada" is nobody: it stays in the stored analysis (playerId null), no human needs to look.
    if (r.status === 'resolved' || r.status === 'not_a_name') return [];
    return [{ name: p.name, team: p.team, reason: r.status, candidates: r.status === 'ambiguous' ? r.candidates : [] }];
  });
  return { stored, playersMentioned, ambiguousNames };
}

export async function saveCompetitorVideo(db: Db, input: SaveCompetitorVideoInput, now = new Date()): Promise<CompetitiveVideo> {
  const videoParsed = competitorVideoSchema.safeParse(input);
  if (!videoParsed.success) {
    const issue = videoParsed.error.issues[0]!;
    throw new InvalidVideoError(`video field "${issue.path.join('.')}": ${issue.message}`);
  }
  const video = videoParsed.data;
  const analysis = parseCompetitorAnalysis(input.analysis);
  if (input.resolution.length !== analysis.players.length) {
    throw new InvalidVideoError(`resolution has ${input.resolution.length} entries for ${analysis.players.length} analysed players`);
  }

  // What a long transcript's merge left out rides along with the analysis (analyseLongTranscript).
  const { stored, playersMentioned, ambiguousNames } = annotateAnalysis(analysis, input.resolution);

  const values = {
    ...parseSource(input),
    status: 'analysed' as const,
    statusReason: null,
    url: canonicalVideoUrl(video.url),
    channel: video.channel,
    title: video.title,
    views: video.views,
    viralPotential: analysis.viralPotential,
    transcript: video.transcript,
    analysis: stored,
    playersMentioned,
    ambiguousNames,
    publishedAt: video.publishedAt,
    processedAt: now,
  };
  const [row] = await db
    .insert(competitiveVideos)
    .values(values)
    .onConflictDoUpdate({ target: competitiveVideos.url, set: { ...values, updatedAt: sql`now()` } })
    .returning();
  return row!;
}

export interface SaveUnprocessedVideoInput extends Omit<z.input<typeof competitorVideoSchema>, 'transcript'>, VideoSource {
  status: Exclude<CompetitorVideoStatus, 'analysed'>;
  /** yt-dlp's or the platform's reason, or the duration over the maximum. */
  statusReason: string;
}

/**
 * Records a video that will never be transcribed (unavailable, too_long), so
 * finding it again costs nothing. An analysed row for the same URL is kept.
 */
export async function saveUnprocessedVideo(db: Db, input: SaveUnprocessedVideoInput, now = new Date()): Promise<CompetitiveVideo> {
  const parsed = competitorVideoSchema.omit({ transcript: true }).safeParse(input);
  if (!parsed.success) {
    const issue = parsed.error.issues[0]!;
    throw new InvalidVideoError(`video field "${issue.path.join('.')}": ${issue.message}`);
  }
  const video = parsed.data;
  const values = {
    ...parseSource(input),
    status: input.status,
    statusReason: input.statusReason.slice(0, 1_000),
    url: canonicalVideoUrl(video.url),
    channel: video.channel,
    title: video.title,
    views: video.views,
    publishedAt: video.publishedAt,
    processedAt: now,
  };
  const [row] = await db
    .insert(competitiveVideos)
    .values(values)
    .onConflictDoUpdate({
      target: competitiveVideos.url,
      set: { ...values, updatedAt: sql`now()` },
      setWhere: sql`${competitiveVideos.status} <> 'analysed'`,
    })
    .returning();
  return row ?? (await findVideoByUrl(db, video.url))!;
}

/** The row of a video (any URL form), or null. */
export async function findVideoByUrl(db: Db, url: string): Promise<CompetitiveVideo | null> {
  const [row] = await db
    .select()
    .from(competitiveVideos)
    .where(eq(competitiveVideos.url, canonicalVideoUrl(url)));
  return row ?? null;
}

const sampleVideoSchema = competitorVideoSchema.omit({ publishedAt: true }).extend({
  /** Hours relative to "now" (negative = in the past), so the sample always falls inside the lookback window. */
  publishedAtOffsetHours: z.number(),
});

/** The shipped sample (data/sample/competitor-videos.json) with publish times anchored on `now`. */
export async function readSampleCompetitorVideos(file: string, now = new Date()): Promise<CompetitorVideo[]> {
  const list = parseInput(
    z.array(sampleVideoSchema, { invalid_type_error: 'must hold a JSON array of videos' }),
    parseJsonText(await readInputFile(file), file),
    file,
  );
  return list.map(({ publishedAtOffsetHours, ...video }) => ({
    ...video,
    publishedAt: new Date(now.getTime() + publishedAtOffsetHours * 3_600_000),
  }));
}
