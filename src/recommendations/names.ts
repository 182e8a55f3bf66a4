/**
 * Player-name normalisation: turns the name a competitor said (as the model
 * copied it from a Whisper transcript) into one roster id, or says why it
 * cannot. The rule throughout: a wrong id is worse than no id, because a
 * counter-argument about the wrong player is published under our brand. So
 * every step that finds two players stops and reports them as ambiguous.
 *
 * Pure: no database, no Node built-ins.
 */
import { LALIGA_NICKNAMES, type NicknameEntry } from './nicknames';

export interface RosterEntry {
  id: string;
  name: string;
  team: string;
  aliases?: readonly string[];
}

export type NameResolution =
  | { status: 'resolved'; playerId: string }
  | { status: 'ambiguous'; candidates: string[] }
  | { status: 'unknown' }
  /** A word that is not a player's name (a club, "Jornada", "Today"): skipped and counted, never flagged. */
  | { status: 'not_a_name'; reason: 'stop_word' | 'team' };

export interface ResolverOptions {
  /** Nicknames merged into the roster's aliases (default: the shipped La Liga table). */
  nicknames?: readonly NicknameEntry[];
  /** Aliases an editor taught (`reelflow names alias`): exact, and stronger than any guess. */
  learned?: ReadonlyArray<{ mention: string; playerId: string }>;
}

export interface NameResolver {
  /** `team` is the club the speaker tied the name to, if any ("Álvarez, del Levante"). */
  resolve(rawName: string, opts?: { team?: string | null }): NameResolution;
}

/**
 * La Liga clubs as people say them. The canonical spelling comes first; the
 * analysis responder also uses this list to tell a club from a player in a
 * transcript.
 */
export const LALIGA_TEAMS: ReadonlyArray<readonly [canonical: string, ...aliases: string[]]> = [
  ['Real Madrid', 'Real Madrid CF'],
  ['Barcelona', 'Barça', 'Barsa', 'FC Barcelona', 'Barca'],
  ['Atlético de Madrid', 'Atlético', 'Atleti', 'Atlético Madrid'],
  ['Athletic Club', 'Athletic', 'Athletic de Bilbao', 'Athletic Bilbao', 'Bilbao'],
  ['Real Sociedad', 'la Real', 'Sociedad'],
  ['Real Betis', 'Betis'],
  ['Sevilla', 'Sevilla FC'],
  ['Villarreal', 'Submarino Amarillo'],
  ['Valencia', 'Valencia CF'],
  ['Celta', 'Celta de Vigo', 'Celta Vigo'],
  ['Osasuna', 'CA Osasuna'],
  ['Rayo Vallecano', 'Rayo'],
  ['Espanyol', 'RCD Espanyol'],
  ['Mallorca', 'RCD Mallorca'],
  ['Getafe', 'Getafe CF'],
  ['Alavés', 'Deportivo Alavés'],
  ['Girona', 'Girona FC'],
  ['Levante', 'Levante UD'],
  ['Elche', 'Elche CF'],
  ['Real Oviedo', 'Oviedo'],
];

/** Lowercase, no accents, letters/digits/spaces only. "C. Álvarez" -> "c alvarez". */
export function normalizeName(raw: string): string {
  return raw
    .normalize('NFD')
    .replace(/\p{M}+/gu, '')
    .toLowerCase()
    .replace(/[^a-z0-9]+/g, ' ')
    .trim();
}

/** Particles that do not identify anyone on their own ("Jorge de Frutos" is also "Frutos"). */
const PARTICLES = new Set(['de', 'del', 'la', 'las', 'los', 'el', 'da', 'do', 'dos', 'van', 'der', 'ter', 'y']);

function stripLeadingParticles(n: string): string {
  const tokens = n.split(' ');
  while (tokens.length > 1 && PARTICLES.has(tokens[0]!)) tokens.shift();
  return tokens.join(' ');
}

/**
 * A Spanish sound key: what a listener (or Whisper) cannot tell apart is
 * merged, so "Albarez", "Alvares" and "Álvarez" meet, as do "Mbapé"/"Mbappé"
 * and "Vinisius"/"Vinícius".
 */
export function phoneticKey(normalized: string): string {
  // \u0001 and \u0002 hold "ch" and "gu" aside while the c/g rules run; no normalized name contains them.
  return normalized
    .replace(/ch/g, '\u0001')
    .replace(/ph/g, 'f')
    .replace(/qu([ei])/g, 'k$1')
    .replace(/c([ei])/g, 's$1')
    .replace(/c/g, 'k')
    .replace(/gu([ei])/g, '\u0002$1')
    .replace(/g([ei])/g, 'j$1')
    .replaceAll('\u0002', 'g')
    .replace(/z/g, 's')
    .replace(/[vw]/g, 'b')
    .replace(/ll/g, 'y')
    .replace(/y(?![aeiou])/g, 'i')
    .replace(/h/g, '')
    .replaceAll('\u0001', 'ch')
    .replace(/(.)\1+/g, '$1');
}

/** Optimal string alignment distance (a swapped pair of letters counts once). */
export function editDistance(a: string, b: string): number {
  if (a === b) return 0;
  const rows = a.length + 1;
  const cols = b.length + 1;
  const d: number[] = new Array<number>(rows * cols).fill(0);
  for (let i = 0; i < rows; i++) d[i * cols] = i;
  for (let j = 0; j < cols; j++) d[j] = j;
  for (let i = 1; i < rows; i++) {
    for (let j = 1; j < cols; j++) {
      const cost = a[i - 1] === b[j - 1] ? 0 : 1;
      let best = Math.min(d[(i - 1) * cols + j]! + 1, d[i * cols + j - 1]! + 1, d[(i - 1) * cols + j - 1]! + cost);
      if (i > 1 && j > 1 && a[i - 1] === b[j - 2] && a[i - 2] === b[j - 1]) best = Math.min(best, d[(i - 2) * cols + j - 2]! + 1);
      d[i * cols + j] = best;
    }
  }
  return d[rows * cols - 1]!;
}

/**
 * Typos tolerated per key length. Short names get none: "Pedro" is another
 * footballer far more often than a misspelt "Pedri".
 */
function allowedTypos(length: number): number {
  if (length < 6) return 0;
  if (length < 9) return 1;
  return 2;
}

const TEAM_NOISE = new Set(['fc', 'cf', 'ud', 'cd', 'sd', 'rcd', 'rc', 'ca', 'club', 'de', 'del', 'la', 'el']);

function teamTokens(raw: string): string[] {
  return normalizeName(raw)
    .split(' ')
    .filter((t) => t && !TEAM_NOISE.has(t));
}

const TEAM_ALIAS_TO_CANONICAL = new Map<string, string>();
for (const [canonical, ...aliases] of LALIGA_TEAMS) {
  for (const spelling of [canonical, ...aliases]) TEAM_ALIAS_TO_CANONICAL.set(normalizeName(spelling), canonical);
}

/** "Atleti" and "Atlético de Madrid" are one club; "Madrid" alone matches both Madrid clubs. */
export function teamMatches(hint: string, rosterTeam: string): boolean {
  const hinted = TEAM_ALIAS_TO_CANONICAL.get(normalizeName(hint));
  const actual = TEAM_ALIAS_TO_CANONICAL.get(normalizeName(rosterTeam));
  if (hinted && actual) return hinted === actual;
  const wanted = teamTokens(hinted ?? hint);
  const have = new Set(teamTokens(actual ?? rosterTeam));
  return wanted.length > 0 && wanted.every((t) => have.has(t));
}

/**
 * Capitalised words a transcript (or a model reading one) may offer as a name
 * that are nobody's name: fantasy vocabulary, greetings, Spanish and English
 * sentence openers. Normalised forms (lowercase, no accents).
 */
const STOP_WORDS = new Set(
  [
    // Fantasy and football vocabulary
    'fantasy',
    'laliga',
    'liga',
    'la liga',
    'jornada',
    'chollo',
    'chollos',
    'mister',
    'fichaje',
    'fichajes',
    'equipo',
    'once',
    'partido',
    'gol',
    'goles',
    'capitan',
    'capitania',
    'portero',
    'defensa',
    'delantero',
    'centrocampista',
    'mercado',
    'puja',
    'pujas',
    'clausula',
    'puntos',
    'biwenger',
    'comunio',
    'futbol',
    'var',
    'champions',
    'copa',
    'supercopa',
    'ultima',
    'hora',
    'europa',
    'derbi',
    'clasico',
    'penalti',
    'titular',
    'suplente',
    'lesion',
    'regalado',
    'ojo',
    // Spanish openers and fillers
    'hola',
    'hoy',
    'buenas',
    'bueno',
    'vamos',
    'familia',
    'amigos',
    'atencion',
    'cuidado',
    'dale',
    'venga',
    'fichadlo',
    'vendedlo',
    'fichalo',
    'vendelo',
    'mirad',
    'oye',
    'esta',
    'este',
    'esto',
    'pero',
    'porque',
    'ademas',
    'tambien',
    'nada',
    'nadie',
    'todo',
    'todos',
    'si',
    'no',
    'muy',
    'mas',
    'que',
    'como',
    'donde',
    'cuando',
    'ya',
    'aqui',
    'alli',
    'lunes',
    'martes',
    'miercoles',
    'jueves',
    'viernes',
    'sabado',
    'domingo',
    'dios',
    'madre',
    'mia',
    // English
    'the',
    'this',
    'that',
    'today',
    'hello',
    'hi',
    'guys',
    'and',
    'but',
    'so',
    'what',
    'when',
    'here',
    'there',
    'captain',
    'goal',
    'goals',
    'team',
    'league',
    'week',
    'gameweek',
    'buy',
    'sell',
    'must',
    'wow',
    'yes',
    'okay',
    'ok',
  ].map((w) => w),
);

/** A mention that names no player: a stop word, or a club (clubs are resolved by teamMatches, not here). */
function notAName(normalized: string): NameResolution | null {
  if (STOP_WORDS.has(normalized)) return { status: 'not_a_name', reason: 'stop_word' };
  if (TEAM_ALIAS_TO_CANONICAL.has(normalized)) return { status: 'not_a_name', reason: 'team' };
  return null;
}

interface Surname {
  initial: string;
  surname: string;
}

/** "Jorge de Frutos" -> de frutos, frutos; "Vinícius Júnior" -> junior. */
function surnameKeys(normalizedName: string): Surname[] {
  const tokens = normalizedName.split(' ');
  if (tokens.length < 2) return [];
  const initial = tokens[0]!.charAt(0);
  const out: Surname[] = [];
  for (let i = 1; i < tokens.length; i++) {
    const tail = tokens.slice(i).join(' ');
    if (!PARTICLES.has(tokens[i]!) || i === tokens.length - 1) out.push({ initial, surname: tail });
    const bare = stripLeadingParticles(tail);
    if (bare !== tail) out.push({ initial, surname: bare });
  }
  return out;
}

class KeyIndex {
  private readonly map = new Map<string, Set<string>>();
  add(key: string, id: string): void {
    if (!key) return;
    let ids = this.map.get(key);
    if (!ids) this.map.set(key, (ids = new Set()));
    ids.add(id);
  }
  get(key: string): ReadonlySet<string> | undefined {
    return this.map.get(key);
  }
  entries(): IterableIterator<[string, Set<string>]> {
    return this.map.entries();
  }
}

/** The shipped nicknames of each roster player: same name (accents and case aside) at the same club. */
function nicknamesOf(p: RosterEntry, table: readonly NicknameEntry[]): string[] {
  const name = normalizeName(p.name);
  // A nickname that is just the surname ("Budimír") stays a surname: weak evidence a club hint can overrule.
  const surnamesOfName = new Set(surnameKeys(name).map((k) => k.surname));
  return table
    .filter((e) => normalizeName(e.name) === name && teamMatches(e.team, p.team))
    .flatMap((e) => e.nicknames)
    .filter((n) => !surnamesOfName.has(normalizeName(n)));
}

export function createNameResolver(players: readonly RosterEntry[], options: ResolverOptions = {}): NameResolver {
  const teamOf = new Map(players.map((p) => [p.id, p.team]));
  const known = new Set(players.map((p) => p.id));
  const full = new KeyIndex();
  const fullSound = new KeyIndex();
  const surnames = new KeyIndex();
  const surnameSound = new KeyIndex();
  const initials = new KeyIndex();
  /** First names of multi-word names: "Carlos" alone is any Carlos, so never one of them. */
  const givenNames = new KeyIndex();
  const learned = new Map<string, string>();
  for (const l of options.learned ?? []) if (known.has(l.playerId)) learned.set(normalizeName(l.mention), l.playerId);
  const table = options.nicknames ?? LALIGA_NICKNAMES;

  for (const p of players) {
    const name = normalizeName(p.name);
    const tokens = name.split(' ');
    if (tokens.length > 1 && !PARTICLES.has(tokens[0]!)) givenNames.add(tokens[0]!, p.id);
    for (const spelling of [name, ...[...(p.aliases ?? []), ...nicknamesOf(p, table)].map(normalizeName)]) {
      for (const key of new Set([spelling, stripLeadingParticles(spelling)])) {
        full.add(key, p.id);
        fullSound.add(phoneticKey(key), p.id);
      }
    }
    for (const { initial, surname } of surnameKeys(name)) {
      surnames.add(surname, p.id);
      surnameSound.add(phoneticKey(surname), p.id);
      initials.add(`${initial} ${phoneticKey(surname)}`, p.id);
    }
  }

  function decide(found: ReadonlySet<string> | undefined, team: string | null | undefined, strong: boolean): NameResolution | null {
    if (!found || found.size === 0) return null;
    let ids = [...found];
    if (team) {
      const inTeam = ids.filter((id) => teamMatches(team, teamOf.get(id) ?? ''));
      if (inTeam.length > 0) ids = inTeam;
      // A weak match (surname, initial, typo) on a player of another club is
      // more likely a different person we do not have: flag it, even if unique.
      else if (!strong) return { status: 'ambiguous', candidates: ids.sort() };
    }
    if (ids.length === 1) return { status: 'resolved', playerId: ids[0]! };
    return { status: 'ambiguous', candidates: ids.sort() };
  }

  /**
   * A bare first name: every roster player who has it (as a first name or as
   * an alias) is a candidate. One of several is never picked, unless the club
   * said alongside narrows them to one; a first name only one player has is
   * still flagged unless it is that player's known alias ("Lamine").
   */
  function sharedGivenName(normalized: string, team: string | null | undefined): NameResolution | null {
    const byGiven = givenNames.get(normalized);
    if (!byGiven) return null;
    const byAlias = full.get(normalized) ?? new Set<string>();
    const all = new Set([...byGiven, ...byAlias]);
    if (all.size === 1 && byAlias.size === 1) return null;
    let ids = [...all];
    if (team) {
      const inTeam = ids.filter((id) => teamMatches(team, teamOf.get(id) ?? ''));
      if (inTeam.length === 1) return { status: 'resolved', playerId: inTeam[0]! };
      if (inTeam.length > 1) ids = inTeam;
    }
    return { status: 'ambiguous', candidates: ids.sort() };
  }

  /** All ids at the smallest tolerated distance, over full names and surnames together. */
  function fuzzy(key: string): Set<string> | undefined {
    let best = Infinity;
    let ids = new Set<string>();
    for (const [candidate, owners] of [...fullSound.entries(), ...surnameSound.entries()]) {
      const limit = allowedTypos(Math.min(candidate.length, key.length));
      if (limit === 0 || Math.abs(candidate.length - key.length) > limit) continue;
      const distance = editDistance(key, candidate);
      if (distance > limit || distance > best) continue;
      if (distance < best) {
        best = distance;
        ids = new Set();
      }
      for (const id of owners) ids.add(id);
    }
    return ids.size ? ids : undefined;
  }

  return {
    resolve(rawName, opts = {}) {
      const normalized = normalizeName(rawName);
      if (!normalized) return { status: 'unknown' };
      const taught = learned.get(normalized);
      if (taught) return { status: 'resolved', playerId: taught };
      const skipped = notAName(normalized);
      if (skipped) return skipped;
      const team = opts.team;
      const variants = [...new Set([normalized, stripLeadingParticles(normalized)])];
      const initialForm = /^([a-z]) (.+)$/.exec(normalized);

      // Ordered from the most to the least certain evidence; the first step
      // that finds anyone decides, so a typo match never overrides an exact one.
      const steps: Array<() => NameResolution | null> = [
        () => sharedGivenName(normalized, team),
        ...variants.map((v) => () => decide(full.get(v), team, true)),
        () => (initialForm ? decide(initials.get(`${initialForm[1]} ${phoneticKey(initialForm[2]!)}`), team, false) : null),
        ...variants.map((v) => () => decide(surnames.get(v), team, false)),
        ...variants.map((v) => () => decide(fullSound.get(phoneticKey(v)), team, false)),
        ...variants.map((v) => () => decide(surnameSound.get(phoneticKey(v)), team, false)),
        ...variants.map((v) => () => decide(fuzzy(phoneticKey(v)), team, false)),
      ];
      for (const step of steps) {
        const result = step();
        if (result) return result;
      }
      return { status: 'unknown' };
    },
  };
}
