/** The CLI's one flag parser: each command takes its declared flags and nothing else. */
import { describe, expect, it } from 'vitest';
import { extraCommands } from '../../src/cli/extra-commands';
import { COMMAND_FLAGS, parseCommandLine } from '../../src/cli/flags';
import { BadInputError } from '../../src/shared/errors';

describe('parseCommandLine', () => {
  it('gives the command, its arguments and its flags', () => {
    expect(parseCommandLine(['list', '--jobs', '--provider', 'veo3', '--json'])).toEqual({
      command: 'list',
      args: [],
      values: { jobs: true, provider: 'veo3', json: true },
    });
    // A string flag's value is never taken for the command or an argument.
    expect(parseCommandLine(['--json', 'cancel', 'abc', '--reason', 'status'])).toEqual({
      command: 'cancel',
      args: ['abc'],
      values: { json: true, reason: 'status' },
    });
    expect(parseCommandLine(['recommendations', 'generate', '--limit', '3']).values).toEqual({ limit: '3' });
  });

  it('rejects a flag of another command, naming the ones it takes', () => {
    expect(() => parseCommandLine(['enqueue', '--title', 'x', '--provider', 'sora'])).toThrow(
      new BadInputError(
        'enqueue: unknown flag --provider (takes: --title, --type, --priority, --player, --platforms, --schedule-after, --deadline, ' +
          '--config, --our-data, --source, --recommendation, --json, --help)',
      ),
    );
    expect(() => parseCommandLine(['recommendations', 'stats', '--limit', '3'])).toThrow(
      'recommendations stats: unknown flag --limit (takes: --json, --help)',
    );
    expect(() => parseCommandLine(['workers', '-x'])).toThrow('workers: unknown flag --x');
  });

  it('still checks values: a string flag without one, a value given to a boolean', () => {
    expect(() => parseCommandLine(['enqueue', '--title'])).toThrow(/--title/);
    expect(() => parseCommandLine(['capacity', '--workflow=yes'])).toThrow(/--workflow/);
  });

  it('names an unknown command before its flags', () => {
    expect(() => parseCommandLine(['frobnicate', '--provider', 'x'])).toThrow(/^unknown command "frobnicate"; one of enqueue, list/);
  });

  it('declares flags for every command the CLI runs', () => {
    const builtIn = [
      'enqueue',
      'list',
      'status',
      'cancel',
      'approve',
      'reject',
      'reprioritise',
      'republish',
      'retry',
      'capacity',
      'workers',
    ];
    const commands = [...builtIn, ...Object.keys(extraCommands)];
    expect(commands.filter((c) => !(c in COMMAND_FLAGS))).toEqual([]);
    expect(Object.keys(COMMAND_FLAGS).filter((c) => !c.includes(' ') && !commands.includes(c))).toEqual([]);
  });
});
