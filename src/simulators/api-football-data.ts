/**
 * The La Liga the API-Football simulator serves: our sample roster's players
 * (data/sample/players.json) as API-Football writes them ("K. Mbappé",
 * "Vinicius Junior", "Atletico Madrid"), plus players we do not have, so a
 * sync spans five pages and lists unmatched rows. One player moved club
 * mid-season (two statistics entries); Santi Cazorla is missing, as a player
 * the feed dropped. Stats are derived from the id, so they are stable.
 * Plain data: no Node imports.
 */

/** API-Football team ids and names (the API's spelling, without accents). */
export const SIM_TEAMS = {
  rma: [541, 'Real Madrid'],
  fcb: [529, 'Barcelona'],
  atm: [530, 'Atletico Madrid'],
  ath: [531, 'Athletic Club'],
  rso: [548, 'Real Sociedad'],
  bet: [543, 'Real Betis'],
  sev: [536, 'Sevilla'],
  vil: [533, 'Villarreal'],
  val: [532, 'Valencia'],
  cel: [538, 'Celta Vigo'],
  osa: [727, 'Osasuna'],
  ray: [728, 'Rayo Vallecano'],
  esp: [540, 'Espanyol'],
  mll: [798, 'Mallorca'],
  get: [546, 'Getafe'],
  ala: [542, 'Alaves'],
  gir: [547, 'Girona'],
  lev: [539, 'Levante'],
  elc: [797, 'Elche'],
  ovi: [718, 'Oviedo'],
} as const satisfies Record<string, readonly [number, string]>;
export type SimTeamKey = keyof typeof SIM_TEAMS;

type Position = 'Goalkeeper' | 'Defender' | 'Midfielder' | 'Attacker';
const P: Record<'G' | 'D' | 'M' | 'A', Position> = { G: 'Goalkeeper', D: 'Defender', M: 'Midfielder', A: 'Attacker' };

export interface SimPlayerSpell {
  team: SimTeamKey;
  appearances: number;
  minutes: number;
  /** Average match rating, as the API sends it (a string with six decimals). */
  rating: number | null;
  goals: number;
  assists: number;
}

export interface SimPlayer {
  id: number;
  name: string;
  firstname: string;
  lastname: string;
  position: Position;
  /** One per club this season, in the order the API lists them. */
  spells: SimPlayerSpell[];
  /** The roster id in data/sample/players.json, when the player is on it. */
  rosterId?: string;
}

// [api id, name as the API writes it, firstname, lastname, team, position, roster id]
type Row = readonly [number, string, string, string, SimTeamKey, keyof typeof P, string?];

const ROWS: readonly Row[] = [
  [278, 'K. Mbappé', 'Kylian', 'Mbappé Lottin', 'rma', 'A', 'kylian-mbappe'],
  [762, 'Vinicius Junior', 'Vinícius', 'José Paixão de Oliveira Júnior', 'rma', 'A', 'vinicius-junior'],
  [129718, 'J. Bellingham', 'Jude', 'Bellingham', 'rma', 'M', 'jude-bellingham'],
  [291964, 'A. Güler', 'Arda', 'Güler', 'rma', 'M', 'arda-guler'],
  [730, 'T. Courtois', 'Thibaut', 'Courtois', 'rma', 'G', 'thibaut-courtois'],
  [756, 'F. Valverde', 'Federico', 'Valverde Dipetta', 'rma', 'M', 'federico-valverde'],
  [386828, 'Lamine Yamal', 'Lamine', 'Yamal Nasraoui Ebana', 'fcb', 'A', 'lamine-yamal'],
  [521, 'R. Lewandowski', 'Robert', 'Lewandowski', 'fcb', 'A', 'robert-lewandowski'],
  [133609, 'Pedri', 'Pedro', 'González López', 'fcb', 'M', 'pedri'],
  [1496, 'Raphinha', 'Raphael', 'Dias Belloli', 'fcb', 'A', 'raphinha'],
  [47380, 'Joan García', 'Joan', 'García Pons', 'fcb', 'G', 'joan-garcia'],
  [396623, 'Pau Cubarsi', 'Pau', 'Cubarsí Paredes', 'fcb', 'D', 'pau-cubarsi'],
  [282760, 'Fermin Lopez', 'Fermín', 'López Marín', 'fcb', 'M', 'fermin-lopez'],
  [6009, 'J. Álvarez', 'Julián', 'Álvarez', 'atm', 'A', 'julian-alvarez'],
  [84, 'A. Griezmann', 'Antoine', 'Griezmann', 'atm', 'A', 'antoine-griezmann'],
  [731, 'J. Oblak', 'Jan', 'Oblak', 'atm', 'G', 'jan-oblak'],
  [284797, 'G. Simeone', 'Giuliano', 'Simeone Baldini', 'atm', 'M', 'giuliano-simeone'],
  [47311, 'Koke', 'Jorge', 'Resurrección Merodio', 'atm', 'M', 'koke'],
  [47422, 'N. Williams', 'Nicholas', 'Williams Arthuer', 'ath', 'A', 'nico-williams'],
  [47419, 'I. Williams', 'Iñaki', 'Williams Arthuer', 'ath', 'A', 'inaki-williams'],
  [47440, 'O. Sancet', 'Oihan', 'Sancet Tirapu', 'ath', 'M', 'oihan-sancet'],
  [47417, 'Unai Simón', 'Unai', 'Simón Mendibil', 'ath', 'G', 'unai-simon'],
  [161948, 'Carlos Álvarez', 'Carlos', 'Álvarez Rivera', 'lev', 'M', 'carlos-alvarez'],
  [182239, 'I. Romero', 'Iván', 'Romero de Ávila Araque', 'lev', 'A', 'ivan-romero'],
  [47561, 'R. Brugué', 'Roger', 'Brugué Ayguadé', 'lev', 'A', 'roger-brugue'],
  [47491, 'A. Budimir', 'Ante', 'Budimir', 'osa', 'A', 'ante-budimir'],
  [47520, 'A. Oroz', 'Aimar', 'Oroz Huarte', 'osa', 'M', 'aimar-oroz'],
  [47568, 'J. de Frutos', 'Jorge', 'de Frutos Sebastián', 'ray', 'M', 'jorge-de-frutos'],
  [47578, 'Isi Palazón', 'Isaac', 'Palazón Camacho', 'ray', 'M', 'isi-palazon'],
  [161928, 'I. Romero', 'Isaac', 'Romero Bernal', 'sev', 'A', 'isaac-romero'],
  [47610, 'C. Vicente', 'Carlos', 'Vicente Robles', 'ala', 'M', 'carlos-vicente'],
  [47620, 'T. Martínez', 'Antonio', 'Martínez López', 'ala', 'A', 'toni-martinez'],
  [748, 'Isco', 'Francisco', 'Román Alarcón Suárez', 'bet', 'M', 'isco'],
  [10123, 'Antony', 'Antony', 'Matheus dos Santos', 'bet', 'A', 'antony'],
  [47638, 'P. Fornals', 'Pablo', 'Fornals Malla', 'bet', 'M', 'pablo-fornals'],
  [47645, 'M. Oyarzabal', 'Mikel', 'Oyarzabal Ugarte', 'rso', 'A', 'mikel-oyarzabal'],
  [47650, 'T. Kubo', 'Takefusa', 'Kubo', 'rso', 'A', 'takefusa-kubo'],
  [47660, 'Gerard Moreno', 'Gerard', 'Moreno Balagueró', 'vil', 'A', 'gerard-moreno'],
  [47665, 'G. Mikautadze', 'Georges', 'Mikautadze', 'vil', 'A', 'georges-mikautadze'],
  [47670, 'I. Aspas', 'Iago', 'Aspas Juncal', 'cel', 'A', 'iago-aspas'],
  [47675, 'B. Iglesias', 'Borja', 'Iglesias Quintas', 'cel', 'A', 'borja-iglesias'],
  [47680, 'André Silva', 'André Miguel', 'Valente da Silva', 'elc', 'A', 'andre-silva'],
  [47690, 'S. Rondón', 'José Salomón', 'Rondón Giménez', 'ovi', 'A', 'salomon-rondon'],
  [47695, 'V. Muriqi', 'Vedat', 'Muriqi', 'mll', 'A', 'vedat-muriqi'],
  [47700, 'J. Puado', 'Javier', 'Puado Díaz', 'esp', 'A', 'javi-puado'],
  // Not on our roster.
  [2285, 'A. Rüdiger', 'Antonio', 'Rüdiger', 'rma', 'D'],
  [47300, 'Éder Militão', 'Éder Gabriel', 'Militão', 'rma', 'D'],
  [10009, 'Rodrygo', 'Rodrygo', 'Silva de Goes', 'rma', 'A'],
  [2207, 'A. Tchouaméni', 'Aurélien', 'Tchouaméni', 'rma', 'M'],
  [733, 'D. Carvajal', 'Daniel', 'Carvajal Ramos', 'rma', 'D'],
  [538, 'F. de Jong', 'Frenkie', 'de Jong', 'fcb', 'M'],
  [1100, 'J. Koundé', 'Jules', 'Koundé', 'fcb', 'D'],
  [47301, 'Ferran Torres', 'Ferran', 'Torres García', 'fcb', 'A'],
  [321456, 'Gavi', 'Pablo Martín', 'Páez Gavira', 'fcb', 'M'],
  [47302, 'R. Araujo', 'Ronald', 'Araujo da Silva', 'fcb', 'D'],
  [47303, 'A. Sørloth', 'Alexander', 'Sørloth', 'atm', 'A'],
  [47304, 'M. Llorente', 'Marcos', 'Llorente Moreno', 'atm', 'D'],
  [47305, 'Pablo Barrios', 'Pablo', 'Barrios Rivas', 'atm', 'M'],
  [47306, 'J. Giménez', 'José María', 'Giménez de Vargas', 'atm', 'D'],
  [47307, 'D. Vivian', 'Daniel', 'Vivian Moreno', 'ath', 'D'],
  [47308, 'G. Guruzeta', 'Gorka', 'Guruzeta Rodríguez', 'ath', 'A'],
  [47309, 'A. Berenguer', 'Álex', 'Berenguer Remiro', 'ath', 'A'],
  [47310, 'Brais Méndez', 'Brais', 'Méndez Portela', 'rso', 'M'],
  [47312, 'Á. Remiro', 'Álex', 'Remiro Gargallo', 'rso', 'G'],
  [47313, 'Cucho Hernández', 'Juan Camilo', 'Hernández Suárez', 'bet', 'A'],
  [47314, 'Á. Valles', 'Álvaro', 'Valles Rosa', 'bet', 'G'],
  [47315, 'Djibril Sow', 'Djibril', 'Sow', 'sev', 'M'],
  [47316, 'Alexis Sánchez', 'Alexis Alejandro', 'Sánchez Sánchez', 'sev', 'A'],
  [47318, 'Pape Gueye', 'Pape Alassane', 'Gueye', 'vil', 'M'],
  [47319, 'A. Moleiro', 'Alberto', 'Moleiro González', 'vil', 'M'],
  [47320, 'Hugo Duro', 'Hugo', 'Duro Perales', 'val', 'A'],
  [47321, 'J. Gayà', 'José Luis', 'Gayà Peña', 'val', 'D'],
  [47322, 'J. Agirrezabala', 'Julen', 'Agirrezabala Astulez', 'val', 'G'],
  [47323, 'Ó. Mingueza', 'Óscar', 'Mingueza García', 'cel', 'D'],
  [47324, 'W. Swedberg', 'Williot', 'Swedberg', 'cel', 'A'],
  [47325, 'Moi Gómez', 'Moisés', 'Gómez Bordonado', 'osa', 'M'],
  [47326, 'S. Herrera', 'Sergio', 'Herrera Pirón', 'osa', 'G'],
  [47327, 'Á. García', 'Álvaro', 'García Rivera', 'ray', 'A'],
  [47328, 'A. Batalla', 'Augusto', 'Batalla', 'ray', 'G'],
  [47329, 'Roberto Fernández', 'Roberto', 'Fernández Jaén', 'esp', 'A'],
  [47330, 'Pol Lozano', 'Pol', 'Lozano Vizuete', 'esp', 'M'],
  [47331, 'S. Darder', 'Sergi', 'Darder Moll', 'mll', 'M'],
  [47332, 'Leo Román', 'Leonardo', 'Román Riquelme', 'mll', 'G'],
  [47333, 'M. Arambarri', 'Mauro', 'Arambarri Rosa', 'get', 'M'],
  [47334, 'D. Soria', 'David', 'Soria Solís', 'get', 'G'],
  [47335, 'A. Sivera', 'Antonio', 'Sivera Salvá', 'ala', 'G'],
  [47336, 'C. Stuani', 'Cristhian', 'Stuani', 'gir', 'A'],
  [47337, 'V. Tsygankov', 'Viktor', 'Tsygankov', 'gir', 'M'],
  [47338, 'U. Elgezabal', 'Unai', 'Elgezabal Udondo', 'lev', 'D'],
  [47339, 'Rafa Mir', 'Rafael', 'Mir Vicente', 'elc', 'A'],
  [47340, 'G. Valera', 'Germán', 'Valera Karabinaite', 'elc', 'M'],
  [47341, 'L. Ilić', 'Luka', 'Ilić', 'ovi', 'M'],
  [47342, 'A. Escandell', 'Aarón', 'Escandell Banacloche', 'ovi', 'G'],
];

/** The player who moved mid-season: Levante first, Getafe now (two statistics entries). */
export const SIM_MOVED_PLAYER_ID = 47561;

function spell(id: number, team: SimTeamKey, position: Position, share = 1): SimPlayerSpell {
  const appearances = Math.max(1, Math.round((6 + (id % 7)) * share));
  const minutes = appearances * (60 + (id % 31));
  const rating = 6.4 + ((id * 7) % 15) / 10;
  const scorer = position === 'Attacker' ? 3 : position === 'Midfielder' ? 6 : position === 'Defender' ? 20 : 0;
  const goals = scorer ? Math.floor(appearances / scorer) + (id % 2) : 0;
  const assists = position === 'Goalkeeper' ? 0 : Math.floor(appearances / 4) + (id % 3 === 0 ? 1 : 0);
  return { team, appearances, minutes, rating: Math.round(rating * 1e6) / 1e6, goals, assists };
}

export const SIM_PLAYERS: readonly SimPlayer[] = ROWS.map(([id, name, firstname, lastname, team, pos, rosterId]) => {
  const position = P[pos];
  const spells =
    id === SIM_MOVED_PLAYER_ID ? [spell(id, team, position, 0.6), spell(id + 1, 'get', position, 0.4)] : [spell(id, team, position)];
  return { id, name, firstname, lastname, position, spells, ...(rosterId ? { rosterId } : {}) };
});

/** On the sample roster but absent from the API's list (the feed dropped him). */
export const SIM_MISSING_ROSTER_ID = 'santi-cazorla';

/**
 * Injuries relative to "now": each fixture date is a day offset, so the
 * current ones point at the next round and one is from a round long past.
 */
export const SIM_INJURIES: ReadonlyArray<{
  playerId: number;
  type: 'Missing Fixture' | 'Questionable';
  reason: string;
  dayOffset: number;
}> = [
  { playerId: 47422, type: 'Missing Fixture', reason: 'Groin Injury', dayOffset: 2 },
  { playerId: 47491, type: 'Questionable', reason: 'Knock', dayOffset: 3 },
  { playerId: 762, type: 'Missing Fixture', reason: 'Suspended', dayOffset: 2 },
  // Healed: his last injury was two months ago.
  { playerId: 278, type: 'Missing Fixture', reason: 'Ankle Injury', dayOffset: -60 },
  // Not on our roster: ignored by the sync.
  { playerId: 2285, type: 'Missing Fixture', reason: 'Knee Injury', dayOffset: 2 },
];
