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
  run(bench: Bench, rec: Recorder): Promise<void>;
}

/** Target check helpers: a figure that could not be measured (NaN) never meets its target. */
export const atLeast = (value: number, target: number) => Number.isFinite(value) && value >= target;
export const atMost = (value: number, target: number) => Number.isFinite(value) && value <= target;
export const below = (value: number, target: number) => Number.isFinite(value) && value < target;
