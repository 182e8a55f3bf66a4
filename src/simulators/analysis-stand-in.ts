/**
 * A deterministic stand-in for GPT's competitor analysis (analysisResponder),
 * which the local OpenAI simulator plugs in so the demo, `npm run simulators`
 * and the tests get realistic answers for our colloquial sample transcripts
 * without a model. It reads the prompt buildAnalysisPrompt writes, so the two
 * change together.
 */
import { MAX_ROUND, type CompetitorAnalysis, type Stance } from '../recommendations/analysis';
import { LALIGA_TEAMS, normalizeName } from '../recommendations/names';

/** Ordered so the longer phrase wins ("ni regalado" is not "regalado"; "no fichéis" is not "fichad"). */
const STANCE_LEXICON: ReadonlyArray<readonly [phrase: string, stance: Stance]> = (
  [
    ['ni regalado', 'strong_sell'],
    ['ni se os ocurra', 'strong_sell'],
    ['vendedlo ya', 'strong_sell'],
    ['vended ya', 'strong_sell'],
    ['huid', 'strong_sell'],
    ['trampa', 'strong_sell'],
    ['ruina', 'strong_sell'],
    ['no es un chollo', 'sell'],
    ['no es chollo', 'sell'],
    ['no ficheis', 'sell'],
    ['no lo ficheis', 'sell'],
    ['no pujeis', 'sell'],
    ['no compreis', 'sell'],
    ['vended', 'sell'],
    ['vendedlo', 'sell'],
    ['venderia', 'sell'],
    ['lo venderia', 'sell'],
    ['evitad', 'sell'],
    ['acabado', 'sell'],
    ['no vendais', 'hold'],
    ['no lo vendais', 'hold'],
    ['mantened', 'hold'],
    ['mantenedlo', 'hold'],
    ['aguantad', 'hold'],
    ['aguantadlo', 'hold'],
    ['paciencia', 'hold'],
    ['fichadlo ya', 'strong_buy'],
    ['fichad ya', 'strong_buy'],
    ['regalado', 'strong_buy'],
    ['regalo', 'strong_buy'],
    ['chollazo', 'strong_buy'],
    ['imprescindible', 'strong_buy'],
    ['obligatorio', 'strong_buy'],
    ['a muerte', 'strong_buy'],
    ['chollo', 'buy'],
    ['fichad', 'buy'],
    ['fichadlo', 'buy'],
    ['ficharia', 'buy'],
    ['comprad', 'buy'],
    ['pujad', 'buy'],
    ['pujadle', 'buy'],
    ['buena compra', 'buy'],
    ['merece la pena', 'buy'],
    ['apostad', 'buy'],
    // English videos: the model reads any language, so the stand-in does too.
    ['must buy', 'strong_buy'],
    ['must have', 'strong_buy'],
    ['a steal', 'strong_buy'],
    ['bargain', 'buy'],
    ['buy him', 'buy'],
    ['buy', 'buy'],
    ['keep him', 'hold'],
    ['keep', 'hold'],
    ['hold', 'hold'],
    ['sell him', 'sell'],
    ['sell', 'sell'],
    ['avoid', 'sell'],
    ['he is done', 'sell'],
    ['trap', 'strong_sell'],
    ['stay away', 'strong_sell'],
  ] as const
)
  .slice()
  .sort((a, b) => b[0].length - a[0].length);

const STANCE_WEIGHT: Record<Stance, number> = { strong_buy: 2, buy: 1, hold: 0, sell: -1, strong_sell: -2 };

/**
 * Capitalised words that are not footballers: sentence openers, YouTuber
 * filler and shouted hype ("REGALADO", "BOMBAZO").
 */
const NOT_NAMES = new Set(
  (
    'a al ahora amigos atencion atentos ayer bombazo brutal buenas bueno buenos caro chavales chollo chollazo chollos ' +
    'como comentarios con cracks cuidado cuando dadle de del donde dos el ella ellos empezamos en esa ese eso esta este ' +
    'es esto familia fantasy fichad fichadlo gente hablamos hola hostia hoy jornada la laliga las liga like lo locura los ' +
    'madre manana mantened mantenedlo mas me merece mi mira mirad mister muy nada no nos o ojo ojito os otro otra para ' +
    'pero por porque que regalado si sin suscribete tambien todo todos top tres u ultima un una uno urgente vale vamos vended ' +
    'vendedlo venga y ya yo ' +
    // English openers and verbs a sentence starts with
    'a an and avoid buy but he hello hey hi his hold is it keep let lets must my no now ok our sell she so steal that ' +
    'the their there these they this today we what when who why yes you'
  ).split(' '),
);

/** Shouted or breathless words that travel well; each distinct one adds a little to viral potential. */
const HYPE_WORDS = ['bombazo', 'locura', 'urgente', 'ultima hora', 'regalado', 'brutal', 'increible'];

const NAME_PARTICLES = new Set(['de', 'del']);

/** Same length as the input, so offsets found in it index the original text. */
function foldForMatching(text: string): string {
  let out = '';
  for (const ch of text) {
    const base = ch.normalize('NFD').charAt(0).toLowerCase();
    out += base.length === ch.length ? base : ch;
  }
  return out;
}

interface Token {
  text: string;
  norm: string;
  start: number;
  end: number;
}

function tokenize(sentence: string): Token[] {
  const out: Token[] = [];
  for (const m of sentence.matchAll(/\p{Lu}\.(?=\s+\p{Lu})|[\p{L}\p{M}][\p{L}\p{M}'’-]*|\d+/gu)) {
    out.push({ text: m[0], norm: normalizeName(m[0]), start: m.index, end: m.index + m[0].length });
  }
  return out;
}

function splitSentences(text: string): string[] {
  // "C. Álvarez" keeps its initial: a single capital before the full stop is not a sentence end.
  return text
    .split(/(?<!(?:^|[\s(¡¿"«])\p{Lu}\.)(?<=[.!?…])\s+|\n+/u)
    .map((s) => s.trim())
    .filter(Boolean);
}

const TEAM_SPELLINGS: Array<{ tokens: string[]; canonical: string }> = [
  ...LALIGA_TEAMS.flatMap(([canonical, ...aliases]) =>
    [canonical, ...aliases].map((spelling) => ({ tokens: normalizeName(spelling).split(' '), canonical })),
  ),
  // "el Madrid" could be either Madrid club: a place name, never a player.
  { tokens: ['madrid'], canonical: 'Madrid' },
].sort((a, b) => b.tokens.length - a.tokens.length);

interface Span {
  first: number;
  last: number;
  text: string;
}

function isCapitalised(token: Token): boolean {
  return /^\p{Lu}/u.test(token.text);
}

function findTeams(tokens: Token[]): Map<number, Span & { canonical: string }> {
  const teams = new Map<number, Span & { canonical: string }>();
  for (let i = 0; i < tokens.length; i++) {
    for (const { tokens: spelling, canonical } of TEAM_SPELLINGS) {
      const window = tokens.slice(i, i + spelling.length);
      if (window.length !== spelling.length || !window.every((t, k) => t.norm === spelling[k])) continue;
      if (!window.some(isCapitalised)) continue;
      teams.set(i, { first: i, last: i + spelling.length - 1, text: window.map((t) => t.text).join(' '), canonical });
      i += spelling.length - 1;
      break;
    }
  }
  return teams;
}

function findNames(sentence: string, tokens: Token[], teamAt: Map<number, Span>): Span[] {
  const inTeam = new Set<number>();
  for (const team of teamAt.values()) for (let k = team.first; k <= team.last; k++) inTeam.add(k);
  const adjacent = (a: Token, b: Token) => /^\s+$/.test(sentence.slice(a.end, b.start));
  const nameWord = (i: number) => {
    const t = tokens[i];
    return !!t && !inTeam.has(i) && isCapitalised(t) && !NOT_NAMES.has(t.norm) && !NAME_PARTICLES.has(t.norm);
  };
  const initial = (i: number) => !!tokens[i] && /^\p{Lu}\.$/u.test(tokens[i]!.text);
  const spans: Span[] = [];
  for (let i = 0; i < tokens.length; i++) {
    const t = tokens[i]!;
    // "De Frutos": a capitalised particle opens a name only when a name word follows.
    const particleStart = isCapitalised(t) && NAME_PARTICLES.has(t.norm) && nameWord(i + 1) && adjacent(t, tokens[i + 1]!);
    if (!nameWord(i) && !initial(i) && !particleStart) continue;
    let last = i;
    for (;;) {
      const next = tokens[last + 1];
      if (next && adjacent(tokens[last]!, next) && nameWord(last + 1)) {
        last += 1;
        continue;
      }
      const after = tokens[last + 2];
      if (next && after && NAME_PARTICLES.has(next.text) && adjacent(tokens[last]!, next) && adjacent(next, after) && nameWord(last + 2)) {
        last += 2;
        continue;
      }
      break;
    }
    if (initial(last)) continue; // a lone "A." is not a name
    spans.push({ first: i, last, text: sentence.slice(t.start, tokens[last]!.end) });
    i = last;
  }
  return spans;
}

/** "Carlos Álvarez, del Levante" / "Budimir (Osasuna)". */
function teamAfter(sentence: string, tokens: Token[], span: Span, teamAt: Map<number, Span & { canonical: string }>): string | null {
  for (let i = span.last + 1; i <= span.last + 3 && i < tokens.length; i++) {
    const gap = sentence.slice(tokens[i - 1]!.end, tokens[i]!.start);
    if (!/^[\s,(]*$/.test(gap)) return null;
    const team = teamAt.get(i);
    if (team) return team.canonical === 'Madrid' ? team.text : team.canonical;
    if (!['del', 'de', 'el', 'la'].includes(tokens[i]!.norm)) return null;
  }
  return null;
}

interface Entry {
  name: string;
  tokens: string[];
  team: string | null;
  claims: Array<{ text: string; stance: Stance; round: number | null }>;
}

/** A later "Álvarez" or "C. Álvarez" in the same video is the "Carlos Álvarez" said before, if only one fits. */
function findEarlier(entries: Entry[], tokens: string[]): Entry | undefined {
  const same = entries.find((e) => e.tokens.join(' ') === tokens.join(' '));
  if (same) return same;
  const [first, ...rest] = tokens;
  let fits: Entry[] = [];
  if (tokens.length === 1) fits = entries.filter((e) => e.tokens.length > 1 && e.tokens.includes(first!));
  else if (first!.length === 1) {
    const surname = rest.join(' ');
    fits = entries.filter((e) => e.tokens.length > 1 && e.tokens[0]!.startsWith(first!) && e.tokens.slice(1).join(' ').endsWith(surname));
  }
  return fits.length === 1 ? fits[0] : undefined;
}

function roundIn(folded: string): number | null {
  const m = /(?<![a-z0-9])(?:jornada\s+|j)(\d{1,2})(?![0-9])/.exec(folded);
  const round = m ? Number(m[1]) : NaN;
  return round >= 1 && round <= MAX_ROUND ? round : null;
}

function stanceOf(stances: Stance[]): Stance {
  const sum = stances.reduce((acc, s) => acc + STANCE_WEIGHT[s], 0);
  if (sum > 0) return stances.includes('strong_buy') ? 'strong_buy' : 'buy';
  if (sum < 0) return stances.includes('strong_sell') ? 'strong_sell' : 'sell';
  return 'hold';
}

function clauseBoundaries(folded: string): number[] {
  const cuts = [0];
  for (const m of folded.matchAll(/[,;:]|\s(?:y|pero|aunque)\s/g)) cuts.push(m.index);
  return cuts;
}

function viralPotentialOf(views: number, title: string, transcript: string): number {
  // log-scaled reach: ~10k views -> 4.9, 100k -> 6.5, 650k -> 7.8 before hype.
  const reach = views > 0 ? Math.min(8, Math.max(0, 1.6 * Math.log10(views) - 1.5)) : 3;
  const text = `${title} ${transcript}`;
  const folded = foldForMatching(text);
  let hype = 0;
  if ((text.match(/!/g) ?? []).length >= 3) hype += 0.5;
  if (/\b[A-ZÁÉÍÓÚÑ]{4,}\b/u.test(text)) hype += 0.5;
  hype += 0.5 * HYPE_WORDS.filter((w) => folded.includes(w)).length;
  return Math.round(Math.min(10, reach + Math.min(2, hype)) * 10) / 10;
}

function textOf(content: unknown): string {
  if (typeof content === 'string') return content;
  if (Array.isArray(content)) {
    return content.map((part) => (part && typeof part === 'object' && 'text' in part ? String(part.text) : '')).join('\n');
  }
  return '';
}

/**
 * A deterministic "model" for the simulator: reads the transcript in the user
 * message (as built by buildAnalysisPrompt) and answers like GPT would for
 * our colloquial sample videos: capitalised names, keyword stances, the round
 * from "jornada N", viral potential from views and hype.
 */
export function analysisResponder(messages: ReadonlyArray<{ role: string; content?: unknown }>): CompetitorAnalysis {
  const user = textOf([...messages].reverse().find((m) => m.role === 'user')?.content);
  const title = /^Título: (.*)$/m.exec(user)?.[1] ?? '';
  const views = Number(/^Visualizaciones: (\d+)$/m.exec(user)?.[1] ?? 0);
  const transcript = /<transcript>\n?([\s\S]*?)\n?<\/transcript>/.exec(user)?.[1] ?? '';

  const entries: Entry[] = [];
  const defaultRound = roundIn(foldForMatching(transcript));
  let lastMentioned: Entry | undefined;

  for (const sentence of splitSentences(transcript)) {
    const tokens = tokenize(sentence);
    const teams = findTeams(tokens);
    const mentions = findNames(sentence, tokens, teams).map((span) => {
      const normTokens = tokens
        .slice(span.first, span.last + 1)
        .map((t) => t.norm)
        .filter(Boolean);
      let entry = findEarlier(entries, normTokens);
      if (!entry) {
        entry = { name: span.text, tokens: normTokens, team: null, claims: [] };
        entries.push(entry);
      }
      entry.team ??= teamAfter(sentence, tokens, span, teams);
      return { entry, start: tokens[span.first]!.start, end: tokens[span.last]!.end };
    });

    const folded = foldForMatching(sentence);
    let masked = folded;
    const found: Array<{ at: number; stance: Stance }> = [];
    for (const [phrase, stance] of STANCE_LEXICON) {
      const re = new RegExp(`(?<![a-z0-9])${phrase.replace(/ /g, '\\s+')}(?![a-z0-9])`, 'g');
      for (const m of masked.matchAll(re)) {
        found.push({ at: m.index, stance });
        masked = masked.slice(0, m.index) + ' '.repeat(m[0].length) + masked.slice(m.index + m[0].length);
      }
    }

    const cuts = clauseBoundaries(folded);
    const clauseOf = (pos: number) => cuts.filter((c) => c <= pos).length - 1;
    const byEntry = new Map<Entry, Stance[]>();
    for (const { at, stance } of found) {
      const clause = clauseOf(at);
      const distance = (m: { start: number; end: number }) => (at < m.start ? m.start - at : Math.max(0, at - m.end));
      // Nearest name in the same clause; else the last one said before it ("Carlos Álvarez, del
      // Levante, está REGALADO"); else the next one; else whoever the previous sentences were about.
      const sameClause = mentions.filter((m) => clauseOf(m.start) === clause).sort((a, b) => distance(a) - distance(b))[0];
      const before = mentions.filter((m) => m.end <= at).at(-1);
      const target = sameClause?.entry ?? before?.entry ?? mentions[0]?.entry ?? lastMentioned;
      if (!target) continue;
      byEntry.set(target, [...(byEntry.get(target) ?? []), stance]);
    }
    for (const [entry, stances] of byEntry) {
      entry.claims.push({ text: sentence, stance: stanceOf(stances), round: roundIn(folded) ?? defaultRound });
    }
    lastMentioned = mentions.at(-1)?.entry ?? lastMentioned;
  }

  const claims = entries.flatMap((e) => e.claims);
  const buys = claims.filter((c) => STANCE_WEIGHT[c.stance] > 0).length;
  const sells = claims.filter((c) => STANCE_WEIGHT[c.stance] < 0).length;
  const roundSuffix = defaultRound ? ` de la jornada ${defaultRound}` : '';
  return {
    topic: buys === 0 && sells === 0 ? 'Actualidad Fantasy' : buys >= sells ? `Chollos${roundSuffix}` : `Jugadores a vender${roundSuffix}`,
    sentiment: buys > sells ? 'positive' : sells > buys ? 'negative' : 'neutral',
    viralPotential: viralPotentialOf(views, title, transcript),
    // Strict structured output holds a model to the schema's caps (50 claims a player, 60 players), as here.
    players: entries.slice(0, 60).map(({ name, team, claims: c }) => ({ name, team, claims: c.slice(0, 50) })),
  };
}
