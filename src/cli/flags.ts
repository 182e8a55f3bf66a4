/**
 * Which flags each CLI command takes, declared once, and the one parser that
 * holds every command to its list. A flag a command does not take is an error
 * before anything is written or started: `enqueue --provider sora` used to
 * start a paid render with the flag silently ignored.
 */
import { parseArgs } from 'node:util';
import { BadInputError } from '../shared/errors';

/** Every flag any command takes; a command's list below picks from these. */
export const FLAG_TYPES = {
  json: { type: 'boolean' },
  help: { type: 'boolean', short: 'h' },
  title: { type: 'string' },
  type: { type: 'string' },
  priority: { type: 'string' },
  player: { type: 'string' },
  platforms: { type: 'string' },
  'schedule-after': { type: 'string' },
  deadline: { type: 'string' },
  config: { type: 'string' },
  'our-data': { type: 'string' },
  source: { type: 'string' },
  recommendation: { type: 'string' },
  jobs: { type: 'boolean' },
  status: { type: 'string' },
  provider: { type: 'string' },
  reason: { type: 'string' },
  name: { type: 'string' },
  role: { type: 'string' },
  'expires-in': { type: 'string' },
  limit: { type: 'string' },
  workflow: { type: 'boolean' },
  season: { type: 'string' },
  force: { type: 'boolean' },
  note: { type: 'string' },
  stage: { type: 'string' },
  review: { type: 'string' },
  since: { type: 'string' },
  platform: { type: 'string' },
  task: { type: 'string' },
  post: { type: 'string' },
  resubmit: { type: 'boolean' },
  again: { type: 'boolean' },
} as const;

export type FlagName = keyof typeof FLAG_TYPES;
/** Parsed flags; only the ones the command takes can be set. */
export type FlagValues = { [K in FlagName]?: (typeof FLAG_TYPES)[K]['type'] extends 'boolean' ? boolean : string };

/** Taken by every command. */
const COMMON: readonly FlagName[] = ['json', 'help'];

/**
 * Flags per command, or per "command subcommand" where subcommands differ
 * (looked up first). A command missing here takes only --json and --help.
 */
export const COMMAND_FLAGS: Record<string, readonly FlagName[]> = {
  enqueue: [
    'title',
    'type',
    'priority',
    'player',
    'platforms',
    'schedule-after',
    'deadline',
    'config',
    'our-data',
    'source',
    'recommendation',
  ],
  list: ['jobs', 'status', 'priority', 'provider', 'limit'],
  status: [],
  cancel: ['reason'],
  reprioritise: [],
  republish: ['platform', 'post', 'again'],
  retry: ['task', 'resubmit'],
  approve: ['note', 'stage', 'review'],
  reject: ['note', 'stage', 'review'],
  capacity: ['workflow'],
  workers: [],
  bargains: ['limit'],
  breaking: ['title', 'player', 'platforms'],
  schedule: [],
  roster: [],
  'players sync': ['season', 'force'],
  players: [],
  'names unknown': ['limit'],
  names: [],
  competitor: [],
  'competitor add': ['name'],
  'competitor add-video': ['name'],
  'recommendations generate': ['limit'],
  'recommendations stats': [],
  recommendations: [],
  'token:create': ['name', 'role', 'expires-in'],
  'token create': ['name', 'role', 'expires-in'],
  token: [],
  'token:revoke': [],
  'token:list': [],
  performance: ['since', 'type', 'platform'],
};

export interface CommandLine {
  command: string | undefined;
  args: string[];
  values: FlagValues;
}

/** The declared flags of a command (with its subcommand when it has its own list). */
function flagsOf(command: string, sub?: string): readonly FlagName[] {
  return [...COMMON, ...(COMMAND_FLAGS[`${command} ${sub}`] ?? COMMAND_FLAGS[command] ?? [])];
}

/**
 * The error for a flag outside `allowed`, e.g.
 * `enqueue: unknown flag --provider (takes: --title, --type, ...)`. Exported
 * so a command that checks its own flags words it the same way.
 */
function rejectUnknownFlags(label: string, given: readonly string[], allowed: readonly string[]): void {
  const unknown = given.find((f) => !allowed.includes(f));
  if (unknown === undefined) return;
  const takes = allowed.filter((f) => !(COMMON as readonly string[]).includes(f));
  throw new BadInputError(`${label}: unknown flag --${unknown} (takes: ${[...takes, ...COMMON].map((f) => `--${f}`).join(', ')})`);
}

/**
 * Parses argv for whichever command it names. The first pass knows every
 * flag, so a string flag's value is never mistaken for the command; the
 * second is strict with the command's own flags, so a missing value or a
 * value given to a boolean is an error too.
 */
export function parseCommandLine(argv: readonly string[]): CommandLine {
  const loose = parseArgs({ args: [...argv], options: FLAG_TYPES, allowPositionals: true, strict: false, tokens: true });
  const [command, sub] = loose.positionals;
  if (command === undefined) return { command, args: [], values: loose.values as FlagValues };
  const commands = Object.keys(COMMAND_FLAGS).filter((c) => !c.includes(' '));
  if (!commands.includes(command)) throw new BadInputError(`unknown command "${command}"; one of ${commands.join(', ')}`);
  const allowed = flagsOf(command, sub);
  const given = loose.tokens.filter((t) => t.kind === 'option').map((t) => (t as { name: string }).name);
  rejectUnknownFlags(COMMAND_FLAGS[`${command} ${sub}`] ? `${command} ${sub}` : command, given, allowed);
  const options = Object.fromEntries(allowed.map((f) => [f, FLAG_TYPES[f]]));
  const { values, positionals } = parseArgs({ args: [...argv], options, allowPositionals: true, strict: true });
  return { command, args: positionals.slice(1), values: values as FlagValues };
}
