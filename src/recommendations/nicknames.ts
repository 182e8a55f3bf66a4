/**
 * How La Liga players are actually called in Spanish fantasy videos: short
 * forms, nicknames, first-name-only stars, accent-less spellings and the
 * misspellings Whisper and fans produce. Merged with the roster's own aliases
 * when a resolver is built (names.ts), for the players our roster has: an
 * entry applies to the roster player with the same name (accents and case
 * aside) at the same club, so a player who moved keeps none of it until the
 * entry is updated. Edit freely; `npm run eval` shows what a change does.
 *
 * A nickname only belongs here when it points at one person in La Liga.
 * Shared first names ("Nico", "Carlos", "Dani") are deliberately absent: the
 * resolver answers those `ambiguous` with every candidate.
 *
 * Pure data: no Node built-ins.
 */

export interface NicknameEntry {
  /** The player's usual full name, as a roster would spell it. */
  name: string;
  /** Club, in any spelling teamMatches() understands. */
  team: string;
  nicknames: readonly string[];
}

export const LALIGA_NICKNAMES: readonly NicknameEntry[] = [
  // Real Madrid
  { name: 'Kylian Mbappé', team: 'Real Madrid', nicknames: ['Mbappe', 'Mbapé', 'Mbape', 'Kylian', 'KM10'] },
  { name: 'Vinícius Júnior', team: 'Real Madrid', nicknames: ['Vini', 'Vini Jr', 'Vinicius', 'Vinisius', 'Vinicius Junior', 'Vinijr'] },
  { name: 'Jude Bellingham', team: 'Real Madrid', nicknames: ['Jude', 'Bellingam', 'Belingham'] },
  { name: 'Arda Güler', team: 'Real Madrid', nicknames: ['Arda', 'Guler', 'Gúler'] },
  { name: 'Thibaut Courtois', team: 'Real Madrid', nicknames: ['Tibu', 'Curtua', 'Courtua'] },
  { name: 'Federico Valverde', team: 'Real Madrid', nicknames: ['Fede Valverde', 'Pajarito', 'Halcón'] },
  { name: 'Aurélien Tchouaméni', team: 'Real Madrid', nicknames: ['Tchouameni', 'Chuameni', 'Chouameni'] },
  { name: 'Eduardo Camavinga', team: 'Real Madrid', nicknames: ['Cama', 'Camavinga'] },
  { name: 'Rodrygo Goes', team: 'Real Madrid', nicknames: ['Rodrygo', 'Rodrigo Goes'] },
  { name: 'Trent Alexander-Arnold', team: 'Real Madrid', nicknames: ['Trent', 'Alexander Arnold', 'TAA'] },
  { name: 'Dean Huijsen', team: 'Real Madrid', nicknames: ['Huijsen', 'Huisen', 'Jáusen'] },
  { name: 'Dani Carvajal', team: 'Real Madrid', nicknames: ['Carvajal', 'Carva'] },
  { name: 'Franco Mastantuono', team: 'Real Madrid', nicknames: ['Mastantuono', 'Mastan'] },
  // Barcelona
  { name: 'Lamine Yamal', team: 'Barcelona', nicknames: ['Lamine', 'Yamal', 'Lamin Yamal', 'Lamín'] },
  { name: 'Robert Lewandowski', team: 'Barcelona', nicknames: ['Lewy', 'Lewandoski', 'Lewan'] },
  { name: 'Pedri', team: 'Barcelona', nicknames: ['Pedri González', 'Pedro González'] },
  { name: 'Raphinha', team: 'Barcelona', nicknames: ['Rapha', 'Rafinha', 'Rafiña'] },
  { name: 'Pau Cubarsí', team: 'Barcelona', nicknames: ['Cubarsí', 'Cubarsi'] },
  { name: 'Fermín López', team: 'Barcelona', nicknames: ['Fermín', 'Fermin'] },
  { name: 'Frenkie de Jong', team: 'Barcelona', nicknames: ['Frenkie', 'De Jong'] },
  { name: 'Dani Olmo', team: 'Barcelona', nicknames: ['Olmo'] },
  { name: 'Ferran Torres', team: 'Barcelona', nicknames: ['Ferran', 'Ferrán', 'El Tiburón'] },
  { name: 'Alejandro Balde', team: 'Barcelona', nicknames: ['Balde'] },
  { name: 'Jules Koundé', team: 'Barcelona', nicknames: ['Koundé', 'Kounde'] },
  { name: 'Pablo Gavira', team: 'Barcelona', nicknames: ['Gavi'] },
  { name: 'Joan García', team: 'Barcelona', nicknames: ['Joan Garcia'] },
  { name: 'Marc-André ter Stegen', team: 'Barcelona', nicknames: ['Ter Stegen', 'Marc André'] },
  // Atlético de Madrid
  { name: 'Antoine Griezmann', team: 'Atlético de Madrid', nicknames: ['Grizi', 'Griezman', 'Grizman', 'Principito'] },
  { name: 'Julián Álvarez', team: 'Atlético de Madrid', nicknames: ['La Araña', 'Araña', 'Julián', 'Julian'] },
  { name: 'Jan Oblak', team: 'Atlético de Madrid', nicknames: ['Oblak'] },
  { name: 'Giuliano Simeone', team: 'Atlético de Madrid', nicknames: ['Giuliano', 'Cholito', 'Yuliano'] },
  { name: 'Koke', team: 'Atlético de Madrid', nicknames: ['Jorge Resurrección', 'Koke Resurrección'] },
  { name: 'Alexander Sørloth', team: 'Atlético de Madrid', nicknames: ['Sorloth', 'Sörloth', 'Sorlot'] },
  { name: 'Conor Gallagher', team: 'Atlético de Madrid', nicknames: ['Gallagher', 'Galager'] },
  { name: 'Marcos Llorente', team: 'Atlético de Madrid', nicknames: ['Llorente', 'Yorente'] },
  { name: 'Pablo Barrios', team: 'Atlético de Madrid', nicknames: ['Barrios'] },
  // Athletic Club
  { name: 'Nico Williams', team: 'Athletic Club', nicknames: ['Nico Williams Jr', 'N. Williams'] },
  { name: 'Iñaki Williams', team: 'Athletic Club', nicknames: ['Iñaki', 'Inaki'] },
  { name: 'Oihan Sancet', team: 'Athletic Club', nicknames: ['Sancet', 'Sanset'] },
  { name: 'Unai Simón', team: 'Athletic Club', nicknames: ['Unai Simon'] },
  // Real Sociedad
  { name: 'Mikel Oyarzabal', team: 'Real Sociedad', nicknames: ['Oyarzabal', 'Oyarsabal', 'Oyar'] },
  { name: 'Takefusa Kubo', team: 'Real Sociedad', nicknames: ['Take', 'Take Kubo', 'Kubo'] },
  { name: 'Brais Méndez', team: 'Real Sociedad', nicknames: ['Brais'] },
  // Sevilla, Betis
  { name: 'Isaac Romero', team: 'Sevilla', nicknames: ['Isaac'] },
  { name: 'Isco', team: 'Real Betis', nicknames: ['Isco Alarcón', 'Francisco Alarcón'] },
  { name: 'Antony', team: 'Real Betis', nicknames: ['Antony Santos'] },
  { name: 'Giovani Lo Celso', team: 'Real Betis', nicknames: ['Lo Celso', 'Gio Lo Celso'] },
  { name: 'Cucho Hernández', team: 'Real Betis', nicknames: ['Cucho', 'Cucho Hernandez'] },
  { name: 'Pablo Fornals', team: 'Real Betis', nicknames: ['Fornals'] },
  // Villarreal, Valencia, Celta
  { name: 'Gerard Moreno', team: 'Villarreal', nicknames: ['Gerard Moreno Balagueró'] },
  { name: 'Georges Mikautadze', team: 'Villarreal', nicknames: ['Mikautadze', 'Mikau'] },
  { name: 'Ayoze Pérez', team: 'Villarreal', nicknames: ['Ayoze'] },
  { name: 'Hugo Duro', team: 'Valencia', nicknames: ['Duro'] },
  { name: 'José Luis Gayà', team: 'Valencia', nicknames: ['Gayà', 'Gaya'] },
  { name: 'Iago Aspas', team: 'Celta', nicknames: ['Aspas', 'Príncipe de las Bateas'] },
  { name: 'Borja Iglesias', team: 'Celta', nicknames: ['El Panda', 'Panda'] },
  // Osasuna, Rayo, Levante, Alavés, Mallorca, Espanyol, Getafe, Girona, Elche, Oviedo
  { name: 'Ante Budimir', team: 'Osasuna', nicknames: ['Budi', 'Budimír'] },
  { name: 'Aimar Oroz', team: 'Osasuna', nicknames: ['Aimar'] },
  { name: 'Isi Palazón', team: 'Rayo Vallecano', nicknames: ['Isi', 'Isi Palazon'] },
  { name: 'Jorge de Frutos', team: 'Rayo Vallecano', nicknames: ['De Frutos'] },
  { name: 'Roger Brugué', team: 'Levante', nicknames: ['Brugué', 'Brugue'] },
  { name: 'Toni Martínez', team: 'Alavés', nicknames: ['Toni Martinez'] },
  { name: 'Vedat Muriqi', team: 'Mallorca', nicknames: ['Muriqi', 'Muriki'] },
  { name: 'Javi Puado', team: 'Espanyol', nicknames: ['Puado'] },
  { name: 'Borja Mayoral', team: 'Getafe', nicknames: ['Mayoral'] },
  { name: 'Cristhian Stuani', team: 'Girona', nicknames: ['Stuani'] },
  { name: 'André Silva', team: 'Elche', nicknames: ['Andre Silva'] },
  { name: 'Santi Cazorla', team: 'Real Oviedo', nicknames: ['Cazorla'] },
  { name: 'Salomón Rondón', team: 'Real Oviedo', nicknames: ['Rondón', 'Rondon'] },
];
