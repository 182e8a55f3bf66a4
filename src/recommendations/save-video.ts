/**
 * Competitor videos in and out of competitive_videos. One row per video: the
 * URL (canonicalised, so youtu.be and watch?v= forms meet) is the key, and
 * re-processing a video updates its row.
 */
import { sql } from 'drizzle-orm';
import { z } from 'zod';
import type { Db } from '../db/client';
import { competitiveVideos, type CompetitiveVideo } from '../db/schema';
import { parseInput, parseJsonText, readInputFile } from '../validation';
import { parseCompetitorAnalysis, type FlaggedName, type StoredAnalysis } from './analysis';
import type { NameResolution, NameResolver } from './names';
import { InvalidVideoError } from '../shared/errors';

/** https://youtu.be/ID, /shorts/ID, m.youtube.com and tracking parameters all become https://www.youtube.com/watch?v=ID. */
export function canonicalVideoUrl(raw: string): string {
  let url: URL;
  try {
    url = new URL(raw.trim());
  } catch {
    throw new InvalidVideoError(`url "${raw}" is not a valid URL`);
  }
  const host = url.hostname.toLowerCase().replace(/^(www\.|m\.)/, '');
  let id: string | null | undefined;
  if (host === 'youtu.be') id = url.pathname.split('/')[1];
  else if (host === 'youtube.com') {
    id = url.pathname === '/watch' ? url.searchParams.get('v') : /^\/(?:shorts|embed|live)\/([^/]+)/.exec(url.pathname)?.[1];
  }
  if (id && /^[A-Za-z0-9_-]{6,20}$/.test(id)) return `https://www.youtube.com/watch?v=${id}`;
  url.hash = '';
  return url.toString();
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

export interface SaveCompetitorVideoInput extends z.input<typeof competitorVideoSchema> {
  /** The model's answer; validated again here because activity payloads are untyped JSON. */
  analysis: unknown;
  /** One resolution per analysis.players entry, in the same order (see resolveAnalysisPlayers). */
  resolution: readonly NameResolution[];
}

export function resolveAnalysisPlayers(
  resolver: NameResolver,
  analysis: { players: ReadonlyArray<{ name: string; team: string | null }> },
): NameResolution[] {
  return analysis.players.map((p) => resolver.resolve(p.name, { team: p.team }));
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

  const stored: StoredAnalysis = {
    ...analysis,
    players: analysis.players.map((p, i) => {
      const r = input.resolution[i]!;
      return { ...p, playerId: r.status === 'resolved' ? r.playerId : null };
    }),
  };
  const playersMentioned = [...new Set(stored.players.flatMap((p) => (p.playerId ? [p.playerId] : [])))];
  const ambiguousNames: FlaggedName[] = analysis.players.flatMap((p, i) => {
    const r = input.resolution[i]!;
    // A club or a word like "Jornada" is nobody: it stays in the stored analysis (playerId null), no human needs to look.
    if (r.status === 'resolved' || r.status === 'not_a_name') return [];
    return [{ name: p.name, team: p.team, reason: r.status, candidates: r.status === 'ambiguous' ? r.candidates : [] }];
  });

  const values = {
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
