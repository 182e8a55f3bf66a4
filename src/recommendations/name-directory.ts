/**
 * The names the engine knows, from the database: the roster (with its
 * aliases), the shipped nickname table and the aliases editors taught. Also
 * what it does not know: every mention left unknown or ambiguous, so an editor
 * can teach it (`reelflow names unknown`, `reelflow names alias`), after which
 * the stored videos that mentioned it are resolved again.
 */
import { eq, sql } from 'drizzle-orm';
import type { Db } from '../db/client';
import { competitiveVideos, nameAliases, players } from '../db/schema';
import { BadInputError, NotFoundError } from '../shared/errors';
import { parseCompetitorAnalysis, storedAnalysisSchema, type FlaggedName } from './analysis';
import { createNameResolver, normalizeName, type NameResolver } from './names';
import { annotateAnalysis, resolveAnalysisPlayers } from './save-video';

/** The resolver every step uses: today's roster, the nickname table and the taught aliases. */
export async function loadNameResolver(db: Db): Promise<{ resolver: NameResolver; rosterSize: number }> {
  const roster = await db.select({ id: players.id, name: players.name, team: players.team, aliases: players.aliases }).from(players);
  const learned = await db.select({ mention: nameAliases.mention, playerId: nameAliases.playerId }).from(nameAliases);
  return { resolver: createNameResolver(roster, { learned }), rosterSize: roster.length };
}

export interface UnresolvedMention {
  /** As said in the most recent video that had it. */
  mention: string;
  reason: 'unknown' | 'ambiguous';
  /** Roster ids it could be (ambiguous), over every video. */
  candidates: string[];
  videos: number;
  lastSeen: Date | null;
  /** The most recent video's URL, to go and listen. */
  example: string;
}

/** Mentions no video could turn into one player, most frequent first (accents and case aside). */
export async function listUnresolvedMentions(db: Db, limit = 50): Promise<UnresolvedMention[]> {
  const rows = await db
    .select({ url: competitiveVideos.url, seen: competitiveVideos.processedAt, flagged: competitiveVideos.ambiguousNames })
    .from(competitiveVideos)
    .where(sql`jsonb_array_length(${competitiveVideos.ambiguousNames}) > 0`)
    .orderBy(sql`${competitiveVideos.processedAt} DESC NULLS LAST`);
  const byKey = new Map<string, UnresolvedMention & { urls: Set<string> }>();
  for (const row of rows) {
    for (const f of row.flagged as FlaggedName[]) {
      const key = normalizeName(f.name);
      if (!key) continue;
      let entry = byKey.get(key);
      if (!entry) {
        entry = { mention: f.name, reason: f.reason, candidates: [], videos: 0, lastSeen: row.seen, example: row.url, urls: new Set() };
        byKey.set(key, entry);
      }
      entry.urls.add(row.url);
      entry.videos = entry.urls.size;
      entry.candidates = [...new Set([...entry.candidates, ...f.candidates])].sort();
      if (f.reason === 'ambiguous') entry.reason = 'ambiguous';
    }
  }
  return [...byKey.values()]
    .sort((a, b) => b.videos - a.videos || (b.lastSeen?.getTime() ?? 0) - (a.lastSeen?.getTime() ?? 0))
    .slice(0, limit)
    .map(({ urls: _urls, ...m }) => m);
}

export interface TaughtAlias {
  mention: string;
  playerId: string;
  playerName: string;
  /** Stored videos that flagged the mention and were resolved again. */
  videosUpdated: number;
  /** Stored videos that flagged it but whose analysis no longer parses (left as they were, and counted). */
  videosUnreadable: number;
}

/**
 * Teaches "<mention> is <player>" and re-resolves the stored videos that had
 * the mention flagged. `player` is a roster id or a player's exact name.
 * One transaction: the alias and the videos change together or not at all.
 */
export async function teachAlias(db: Db, input: { mention: string; player: string; by: string }): Promise<TaughtAlias> {
  const mention = normalizeName(input.mention);
  if (!mention) throw new BadInputError('mention must contain letters or digits (e.g. "Grizi")');
  const wanted = input.player.trim();
  if (!wanted) throw new BadInputError('player must be a roster id or a player name');
  const found = await db
    .select({ id: players.id, name: players.name })
    .from(players)
    .where(sql`${players.id} = ${wanted} OR lower(${players.name}) = lower(${wanted})`);
  if (found.length === 0)
    throw new NotFoundError(`no player "${wanted}" on the roster (use an id from \`reelflow names unknown\` candidates)`);
  if (found.length > 1)
    throw new BadInputError(`"${wanted}" names ${found.length} players (${found.map((p) => p.id).join(', ')}): use the id`);
  const player = found[0]!;

  return db.transaction(async (tx) => {
    await tx
      .insert(nameAliases)
      .values({ mention, playerId: player.id, createdBy: input.by })
      .onConflictDoUpdate({ target: nameAliases.mention, set: { playerId: player.id, createdBy: input.by, createdAt: sql`now()` } });
    const { resolver } = await loadNameResolver(tx as unknown as Db);
    const affected = await tx
      .select({ id: competitiveVideos.id, analysis: competitiveVideos.analysis, flagged: competitiveVideos.ambiguousNames })
      .from(competitiveVideos)
      .where(sql`jsonb_array_length(${competitiveVideos.ambiguousNames}) > 0`);
    let videosUpdated = 0;
    let videosUnreadable = 0;
    for (const video of affected) {
      if (!(video.flagged as FlaggedName[]).some((f) => normalizeName(f.name) === mention)) continue;
      const stored = storedAnalysisSchema.safeParse(video.analysis);
      if (!stored.success) {
        videosUnreadable += 1;
        continue;
      }
      const analysis = parseCompetitorAnalysis({ ...stored.data, players: stored.data.players.map(({ playerId: _id, ...p }) => p) });
      const {
        stored: annotated,
        playersMentioned,
        ambiguousNames,
      } = annotateAnalysis(analysis, resolveAnalysisPlayers(resolver, analysis));
      await tx
        .update(competitiveVideos)
        .set({
          // Keep what the analysis counted as skipped; only the players' resolution changes.
          analysis: { ...stored.data, players: annotated.players },
          playersMentioned,
          ambiguousNames,
          updatedAt: sql`now()`,
        })
        .where(eq(competitiveVideos.id, video.id));
      videosUpdated += 1;
    }
    return { mention: input.mention.trim(), playerId: player.id, playerName: player.name, videosUpdated, videosUnreadable };
  });
}
