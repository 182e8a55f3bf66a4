/**
 * Commands beyond the queue basics (schedule, roster, tokens...). Each gets
 * the parsed flags and a database; it returns the exit code.
 */
import type { Env } from '../config/env';
import type { Database } from '../db/client';

export interface ExtraCommandContext {
  env: Env;
  database: Database;
  args: string[];
  values: Record<string, unknown>;
  out: (data: unknown, human: () => void) => void;
}

export const extraCommands: Record<string, (ctx: ExtraCommandContext) => Promise<number>> = {};
