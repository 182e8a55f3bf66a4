/**
 * Names nobody could resolve are kept and listed; an editor teaches one with
 * `reelflow names alias`, it is used from then on and the stored videos that
 * flagged it are resolved again. Real PostgreSQL, the CLI as a real process.
 */
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadRosterFile } from '../../src/recommendations/roster';
import { loadNameResolver } from '../../src/recommendations/name-directory';
import { runCli, startHarness, type Harness } from '../helpers/harness';

let h: Harness;
beforeAll(async () => {
  h = await startHarness({ workers: false });
  await loadRosterFile(h.db.database.db, path.resolve(__dirname, '../../data/sample/players.json'));
});
afterAll(async () => h?.stop());

const q = async (text: string, params: unknown[] = []) => (await h.db.database.pool.query(text, params)).rows;

async function storeVideo(url: string, names: Array<{ name: string; team: string | null; reason: string; candidates: string[] }>) {
  const analysis = {
    topic: 'chollos',
    sentiment: 'positive',
    viralPotential: 5,
    players: names.map((n) => ({
      name: n.name,
      team: n.team,
      claims: [{ text: `${n.name} está regalado`, stance: 'strong_buy', round: null }],
      playerId: null,
    })),
  };
  await q(
    `INSERT INTO competitive_videos (channel, url, title, views, transcript, analysis, ambiguous_names, processed_at)
     VALUES ('Canal', $1, 't', 1000, 'x', $2, $3, now())`,
    [url, JSON.stringify(analysis), JSON.stringify(names)],
  );
}

describe('reelflow names', () => {
  it('lists unknown and ambiguous mentions across videos, teaches an alias, and re-resolves the stored videos', async () => {
    await storeVideo('https://example.com/a', [{ name: 'El Mago del Ciutat', team: 'Levante', reason: 'unknown', candidates: [] }]);
    await storeVideo('https://example.com/b', [
      { name: 'el mago del ciutat', team: null, reason: 'unknown', candidates: [] },
      { name: 'Carlos', team: null, reason: 'ambiguous', candidates: ['carlos-alvarez', 'carlos-vicente'] },
    ]);

    const listed = await runCli(h, ['names', 'unknown', '--json']);
    expect(listed.code).toBe(0);
    const mentions = JSON.parse(listed.stdout) as Array<{ mention: string; reason: string; videos: number; candidates: string[] }>;
    expect(mentions[0]).toMatchObject({ reason: 'unknown', videos: 2 });
    expect(mentions.find((m) => m.reason === 'ambiguous')).toMatchObject({ videos: 1, candidates: ['carlos-alvarez', 'carlos-vicente'] });

    const taught = await runCli(h, ['names', 'alias', 'El Mago del Ciutat', 'carlos-alvarez', '--json']);
    expect(taught.code).toBe(0);
    expect(JSON.parse(taught.stdout)).toMatchObject({ playerId: 'carlos-alvarez', videosUpdated: 2 });

    const videos = await q(`SELECT url, players_mentioned, ambiguous_names, analysis FROM competitive_videos ORDER BY url`);
    expect(videos[0]).toMatchObject({ players_mentioned: ['carlos-alvarez'], ambiguous_names: [] });
    expect(videos[0].analysis.players[0].playerId).toBe('carlos-alvarez');
    // The other flagged name of video b is still flagged: only what the alias settles changes.
    expect(videos[1].ambiguous_names.map((f: { name: string }) => f.name)).toEqual(['Carlos']);

    const { resolver } = await loadNameResolver(h.db.database.db);
    expect(resolver.resolve('EL MAGO DEL CIUTAT')).toEqual({ status: 'resolved', playerId: 'carlos-alvarez' });
    expect(await q(`SELECT action FROM audit_log WHERE action = 'names.alias'`)).toHaveLength(1);
  }, 60_000);

  it('refuses an unknown player or an empty mention with exit 2, and stores nothing', async () => {
    const before = await q('SELECT count(*)::int AS n FROM name_aliases');
    const nobody = await runCli(h, ['names', 'alias', 'Zarpazo', 'no-such-player']);
    expect(nobody.code).toBe(2);
    expect(nobody.stderr).toMatch(/no player "no-such-player" on the roster/);
    const empty = await runCli(h, ['names', 'alias', '¡¡!!', 'carlos-alvarez']);
    expect(empty.code).toBe(2);
    expect(empty.stderr).toMatch(/mention must contain letters or digits/);
    expect(await q('SELECT count(*)::int AS n FROM name_aliases')).toEqual(before);
  }, 60_000);
});
