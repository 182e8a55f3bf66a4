import path from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import {
  createNameResolver,
  editDistance,
  phoneticKey,
  teamMatches,
  type NameResolution,
  type NameResolver,
} from '../../src/recommendations/names';
import { readRosterFile } from '../../src/recommendations/roster';

const SAMPLE_ROSTER = path.resolve(__dirname, '../../data/sample/players.json');

let resolver: NameResolver;
beforeAll(async () => {
  resolver = createNameResolver(await readRosterFile(SAMPLE_ROSTER));
});

const resolved = (playerId: string): NameResolution => ({ status: 'resolved', playerId });
const ambiguous = (...candidates: string[]): NameResolution => ({ status: 'ambiguous', candidates });
const unknown: NameResolution = { status: 'unknown' };

// [what the competitor said, team the model attached, expected]
const TRICKY: Array<[string, string | null, NameResolution]> = [
  // accents and case
  ['Carlos Alvarez', null, resolved('carlos-alvarez')],
  ['CARLOS ÁLVAREZ', null, resolved('carlos-alvarez')],
  ['carlos álvarez', null, resolved('carlos-alvarez')],
  ['Inaki Williams', null, resolved('inaki-williams')],
  // initial + surname
  ['C. Álvarez', null, resolved('carlos-alvarez')],
  ['C Alvarez', null, resolved('carlos-alvarez')],
  ['J. Álvarez', null, resolved('julian-alvarez')],
  ['N. Williams', null, resolved('nico-williams')],
  ['I. Romero', null, ambiguous('isaac-romero', 'ivan-romero')],
  ['I. Romero', 'Sevilla', resolved('isaac-romero')],
  // surname only: unique, or unique within the team
  ['Budimir', null, resolved('ante-budimir')],
  ['Álvarez', null, ambiguous('carlos-alvarez', 'julian-alvarez')],
  ['Álvarez', 'Levante', resolved('carlos-alvarez')],
  ['Álvarez', 'Levante UD', resolved('carlos-alvarez')],
  ['Álvarez', 'Atleti', resolved('julian-alvarez')],
  ['Alvarez', 'Madrid', resolved('julian-alvarez')],
  ['Williams', null, ambiguous('inaki-williams', 'nico-williams')],
  ['Williams', 'Athletic', ambiguous('inaki-williams', 'nico-williams')],
  ['Romero', null, ambiguous('isaac-romero', 'ivan-romero')],
  ['Frutos', null, resolved('jorge-de-frutos')],
  ['De Frutos', null, resolved('jorge-de-frutos')],
  ['de frutos', 'Rayo', resolved('jorge-de-frutos')],
  // nicknames and short forms from the aliases
  ['Vini', null, resolved('vinicius-junior')],
  ['Vini Jr', null, resolved('vinicius-junior')],
  ['Lewy', null, resolved('robert-lewandowski')],
  ['la Araña', null, resolved('julian-alvarez')],
  ['Araña', null, resolved('julian-alvarez')],
  ['Take', null, resolved('takefusa-kubo')],
  ['El Panda', null, resolved('borja-iglesias')],
  ['Iñaki', null, resolved('inaki-williams')],
  // transcription errors (same sound) and small misspellings
  ['Carlos Albarez', null, resolved('carlos-alvarez')],
  ['Mbapé', null, resolved('kylian-mbappe')],
  ['Vinisius', null, resolved('vinicius-junior')],
  ['Oyarsabal', null, resolved('mikel-oyarzabal')],
  ['Raphina', null, resolved('raphinha')],
  ['Pedry', null, resolved('pedri')],
  ['Lewandoski', null, resolved('robert-lewandowski')],
  ['Lewandowsky', null, resolved('robert-lewandowski')],
  ['Grisman', null, resolved('antoine-griezmann')],
  ['Mikautadse', null, resolved('georges-mikautadze')],
  // a typo that fits two players is flagged, never guessed
  ['Alvares', null, ambiguous('carlos-alvarez', 'julian-alvarez')],
  ['Wiliams', null, ambiguous('inaki-williams', 'nico-williams')],
  // short names get no typo tolerance: another footballer is likelier than a typo
  ['Pedro', null, unknown],
  ['Romeo', null, unknown],
  // the full name wins over a stale team; a weak match on another club is flagged
  ['Carlos Álvarez', 'Sevilla', resolved('carlos-alvarez')],
  ['Budimir', 'Getafe', ambiguous('ante-budimir')],
  // not ours
  ['Messi', null, unknown],
  ['Íñigo Pérez', null, unknown],
  ['', null, unknown],
  ['  ...  ', null, unknown],
];

describe('name resolver on the sample roster', () => {
  it.each(TRICKY)('%j (team %s)', (raw, team, expected) => {
    expect(resolver.resolve(raw, { team })).toEqual(expected);
  });

  it('is conservative on a roster built to collide', () => {
    const twins = createNameResolver([
      { id: 'a', name: 'Sergio Gómez', team: 'Real Sociedad' },
      { id: 'b', name: 'Sergio Gomez', team: 'Real Sociedad' },
      { id: 'c', name: 'Dani Rodríguez', team: 'Mallorca', aliases: ['Dani'] },
      { id: 'd', name: 'Dani Parejo', team: 'Villarreal', aliases: ['Dani'] },
    ]);
    expect(twins.resolve('Sergio Gómez')).toEqual(ambiguous('a', 'b'));
    expect(twins.resolve('Dani')).toEqual(ambiguous('c', 'd'));
    expect(twins.resolve('Dani', { team: 'Villarreal' })).toEqual(resolved('d'));
  });
});

describe('building blocks', () => {
  it('phonetic keys merge what Whisper cannot hear', () => {
    expect(phoneticKey('alvarez')).toBe(phoneticKey('albares'));
    expect(phoneticKey('mbappe')).toBe(phoneticKey('mbape'));
    expect(phoneticKey('vinicius')).toBe(phoneticKey('vinisius'));
    expect(phoneticKey('guler')).not.toBe(phoneticKey('jer'));
  });

  it('edit distance counts a swapped pair once', () => {
    expect(editDistance('budimir', 'budimir')).toBe(0);
    expect(editDistance('budimir', 'bduimir')).toBe(1);
    expect(editDistance('kubo', 'kuba')).toBe(1);
    expect(editDistance('', 'abc')).toBe(3);
  });

  it('team hints match clubs by nickname and by shared words', () => {
    expect(teamMatches('Atleti', 'Atlético de Madrid')).toBe(true);
    expect(teamMatches('Madrid', 'Atlético de Madrid')).toBe(true);
    expect(teamMatches('Madrid', 'Real Madrid')).toBe(true);
    expect(teamMatches('Real Madrid', 'Atlético de Madrid')).toBe(false);
    expect(teamMatches('la Real', 'Real Sociedad')).toBe(true);
    expect(teamMatches('la Real', 'Real Betis')).toBe(false);
    expect(teamMatches('Barça', 'Barcelona')).toBe(true);
  });
});

describe('a roster the project has never seen: no aliases of its own', () => {
  // As a roster export or an API-Football sync brings it: names and clubs only.
  const bare = createNameResolver([
    { id: 'griezmann', name: 'Antoine Griezmann', team: 'Atlético de Madrid' },
    { id: 'yamal', name: 'Lamine Yamal', team: 'FC Barcelona' },
    { id: 'vini', name: 'Vinícius Júnior', team: 'Real Madrid CF' },
    { id: 'alvarez', name: 'Carlos Álvarez', team: 'Levante UD' },
    { id: 'vicente', name: 'Carlos Vicente', team: 'Alavés' },
    { id: 'romero', name: 'Iván Romero', team: 'Levante UD' },
    { id: 'sorloth', name: 'Alexander Sørloth', team: 'Atlético de Madrid' },
  ]);

  it('knows the shipped nicknames, accent-less forms and common misspellings', () => {
    expect(bare.resolve('Grizi')).toEqual(resolved('griezmann'));
    expect(bare.resolve('Principito')).toEqual(resolved('griezmann'));
    expect(bare.resolve('Lamine')).toEqual(resolved('yamal'));
    expect(bare.resolve('Vinisius')).toEqual(resolved('vini'));
    expect(bare.resolve('Vini Jr')).toEqual(resolved('vini'));
    expect(bare.resolve('Sorloth')).toEqual(resolved('sorloth'));
  });

  it('a first name two players share is ambiguous with both, unless the club said picks one', () => {
    expect(bare.resolve('Carlos')).toEqual(ambiguous('alvarez', 'vicente'));
    expect(bare.resolve('CARLOS')).toEqual(ambiguous('alvarez', 'vicente'));
    expect(bare.resolve('Carlos', { team: 'Levante' })).toEqual(resolved('alvarez'));
  });

  it('a first name only one player has, and no nickname says so, is flagged with that candidate, not resolved', () => {
    expect(bare.resolve('Iván')).toEqual(ambiguous('romero'));
  });

  it('skips clubs and capitalised words that are nobody, in Spanish and English', () => {
    for (const word of ['Jornada', 'Hoy', 'Fantasy', 'Mister', 'Today', 'The', 'Captain', 'Última']) {
      expect(bare.resolve(word), word).toEqual({ status: 'not_a_name', reason: 'stop_word' });
    }
    for (const club of ['Atleti', 'Betis', 'Barça']) expect(bare.resolve(club), club).toEqual({ status: 'not_a_name', reason: 'team' });
  });

  it('an alias an editor taught wins over every guess, and one for a player not on the roster is ignored', () => {
    const taught = createNameResolver([{ id: 'alvarez', name: 'Carlos Álvarez', team: 'Levante' }], {
      learned: [
        { mention: 'El Mago de Levante', playerId: 'alvarez' },
        { mention: 'Zarpazo', playerId: 'gone' },
      ],
    });
    expect(taught.resolve('el mago de levante')).toEqual(resolved('alvarez'));
    expect(taught.resolve('Zarpazo')).toEqual(unknown);
  });
});
