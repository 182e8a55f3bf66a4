/** What a scenario is to the runner: a name to select it by and a run that records figures. */
import type { Figure } from './report';
import type { Bench } from './setup';

export interface Recorder {
  figure(f: Omit<Figure, 'scenario'>): void;
  /** Context for the notes section (breakdowns, configuration). */
  note(text: string): void;
  /** Progress on the terminal only. */
  log(text: string): void;
}

export interface Scenario {
  /** Selects it: `npm run bench -- --only <name>`. */
  name: string;
  summary: string;
  /**
   * The dev server is replaced after it (a fresh bench: server, database, simulators, workers) before the next
   * scenario. That server keeps every workflow in memory: in a complete run on 2026-12-05 the backlog's 10,000
   * cancelled ideas kept it at a core for the rest of the run (52 still closing 600 s later), which the scenarios after
   * it measured (reel utilisation 0.765 against 0.935 alone, discovery 116 s). Only where needed: a cold server and cold
   * workers are not what the others measure (overhead's enqueue -> first activity: 601 ms cold, 259 ms warm).
   */
  leavesServerBusy?: boolean;
  run(bench: Bench, rec: Recorder): Promise<void>;
}

/** Target check helpers: a figure that could not be measured (NaN) never meets its target. */
export const atLeast = (value: number, target: number) => Number.isFinite(value) && value >= target;
export const atMost = (value: number, target: number) => Number.isFinite(value) && value <= target;
export const below = (value: number, target: number) => Number.isFinite(value) && value < target;
