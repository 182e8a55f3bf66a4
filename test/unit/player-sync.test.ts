/** planPlayerSync: which roster row each API player is, and what the merge writes (pure, no database). */
import { describe, expect, it } from 'vitest';
import { canonicalTeam, injuryByPlayer, planPlayerSync, type ApiPlayerRow, type RosterRow } from '../../src/recommendations/player-sync';

const NOW = new Date('2026-11-29T12:00:00Z');
const DAY = 86_400_000;

const roster: RosterRow[] = [
  { id: 'ivan-romero', name: 'Iván Romero', team: 'Levante', aliases: [], apiFootballId: null },
  { id: 'isaac-romero', name: 'Isaac Romero', team: 'Sevilla', aliases: ['Isaac'], apiFootballId: null },
  { id: 'jan-oblak', name: 'Jan Oblak', team: 'Atlético de Madrid', aliases: [], apiFootballId: 731 },
  { id: 'pedri', name: 'Pedri', team: 'Barcelona', aliases: [], apiFootballId: null },
];

function api(id: number, name: string, spells: Array<Partial<ApiPlayerRow['spells'][number]> & { team: string }>): ApiPlayerRow {
  return {
    id,
    name,
    photo: null,
    spells: spells.map((s) => ({ position: 'Attacker', appearances: 10, minutes: 900, rating: 7, goals: 2, assists: 1, ...s })),
  };
}

describe('planPlayerSync', () => {
  it('matches by stored id first, then by name and club; the club tells two "I. Romero" apart', () => {
    const plan = planPlayerSync(
      roster,
      [
        api(731, 'Somebody Renamed', [{ team: 'Atletico Madrid', position: 'Goalkeeper' }]),
        api(1, 'I. Romero', [{ team: 'Levante' }]),
        api(2, 'I. Romero', [{ team: 'Sevilla' }]),
      ],
      [],
      NOW,
    );
    expect(plan.matchedById).toBe(1);
    expect(Object.fromEntries(plan.updates.map((u) => [u.id, u.apiFootballId]))).toEqual({
      'jan-oblak': 731,
      'ivan-romero': 1,
      'isaac-romero': 2,
    });
    expect(plan.updates.find((u) => u.id === 'jan-oblak')).toMatchObject({ team: 'Atlético de Madrid', position: 'GK' });
    expect(plan.unmatched).toEqual([]);
  });

  it('sums a mid-season move, keeps the club with the last appearance and weights the rating by minutes', () => {
    const plan = planPlayerSync(
      roster,
      [
        api(1, 'I. Romero', [
          { team: 'Levante', minutes: 300, rating: 6, appearances: 4, goals: 1 },
          { team: 'Getafe', minutes: 900, rating: 8, appearances: 10, goals: 3 },
        ]),
      ],
      [],
      NOW,
    );
    expect(plan.updates[0]).toMatchObject({ id: 'ivan-romero', team: 'Getafe', minutes: 1200, appearances: 14, goals: 4, rating: 7.5 });
  });

  it('never takes a guess: two API players on one row are both unmatched; a learned alias decides', () => {
    const twice = planPlayerSync(roster, [api(10, 'Pedri', [{ team: 'Barcelona' }]), api(11, 'Pedri', [{ team: 'Barca' }])], [], NOW);
    expect(twice.updates).toEqual([]);
    expect(twice.unmatched.map((u) => [u.apiFootballId, u.reason])).toEqual([
      [10, 'claimed_twice'],
      [11, 'claimed_twice'],
    ]);
    const unknown = planPlayerSync(roster, [api(12, 'Pedro González López', [{ team: 'Girona' }])], [], NOW);
    expect(unknown.unmatched[0]).toMatchObject({ apiFootballId: 12, team: 'Girona' });
    const taught = planPlayerSync(roster, [api(12, 'Pedro González López', [{ team: 'Girona' }])], [], NOW, [
      { mention: 'Pedro González López', playerId: 'pedri' },
    ]);
    expect(taught.updates.map((u) => u.id)).toEqual(['pedri']);
  });

  it('maps injuries of the next fixture (or the last 3 days): Missing Fixture injured, Questionable doubtful, old ones ignored', () => {
    const at = (days: number) => new Date(NOW.getTime() + days * DAY).toISOString();
    const map = injuryByPlayer(
      [
        { playerId: 1, name: 'a', type: 'Missing Fixture', reason: 'Knee Injury', fixtureAt: at(2) },
        { playerId: 1, name: 'a', type: 'Questionable', reason: 'Knock', fixtureAt: at(9) },
        { playerId: 2, name: 'b', type: 'Questionable', reason: 'Illness', fixtureAt: at(-1) },
        { playerId: 3, name: 'c', type: 'Missing Fixture', reason: 'Ankle', fixtureAt: at(-30) },
        { playerId: 4, name: 'd', type: 'Missing Fixture', reason: null, fixtureAt: null },
      ],
      NOW,
    );
    expect(Object.fromEntries(map)).toEqual({
      1: { status: 'injured', reason: 'Knee Injury' },
      2: { status: 'doubtful', reason: 'Illness' },
    });
  });

  it('writes clubs our way', () => {
    expect(canonicalTeam('Atletico Madrid')).toBe('Atlético de Madrid');
    expect(canonicalTeam('Alaves')).toBe('Alavés');
    expect(canonicalTeam('Celta Vigo')).toBe('Celta');
    expect(canonicalTeam('Leganes')).toBe('Leganes');
  });
});
