/**
 * The recommendation workflow takes its patch decisions at its start (src/workflows/patches.ts): a patch its code
 * asked wf.patched() for would be decided where the code meets it, and a replay after a query-split workflow task
 * would diverge there again.
 */
import fs from 'node:fs';
import path from 'node:path';
import { expect, it } from 'vitest';
import { PATCHES } from '../../src/workflows/patches';

const read = (file: string) => fs.readFileSync(path.resolve(__dirname, '../../src/workflows', file), 'utf8');

it('asks the decisions taken at the start for every patch of the recommendation workflow, its line and its approval step', () => {
  for (const file of ['recommendation.ts', 'line.ts', 'approval-step.ts']) {
    const calls = read(file).match(/wf\.patched[(;]/g) ?? [];
    // The approval step falls back on wf.patched for the republish workflow, which runs no local activity.
    expect(calls, file).toEqual(file === 'approval-step.ts' ? ['wf.patched;'] : []);
  }
});

it('decides them before anything else the workflow does', () => {
  const body = read('recommendation.ts').split('export async function recommendationWorkflow(')[1]!;
  const firstStatement = body
    .split('\n')
    .slice(1)
    .find((line) => line.trim() && !line.trim().startsWith('//'));
  expect(firstStatement?.trim()).toBe('const patched = patchesAtStart();');
});

it('folds no patch added later into the marker runs were recorded under', () => {
  // A run recorded under 'patches-folded-at-start' never ran without these; one added here would be taken on its
  // replay. A new patch gets a marker of its own, decided at the start (patchesAtStart).
  expect(Object.values(PATCHES)).toEqual([
    'close-failure-uncancellable',
    'plan-and-in-production-in-one-transaction',
    'reel-segments',
    'waiting-phase-and-provider-cleared',
    'durable-line',
    'approval-policy-before-render',
    'approval-policy-before-publish',
    'archive-before-publish',
    'posts-past-deadline',
    'close-rejected-publish-jobs',
    'partially-published-status',
    'approval-answers-a-dropped-decision',
  ]);
});

it("reads no value of the workflow task after a local activity in the capacity workflow's new runs", () => {
  // Temporal's suggestion to continue as new belongs to the workflow task: read after a query's split, a replay saw
  // the earlier task's. Runs with the patch count their reads; only runs recorded before ask the suggestion.
  const body = read('capacity-snapshot.ts').split('export async function capacityWorkflow(')[1]!;
  const statements = body.split('\n').filter((line) => line.trim() && !line.trim().startsWith('//'));
  expect(statements[1]?.trim()).toBe("const readsOnly = wf.patched('capacity-continues-by-reads');");
  expect(body.match(/.*continueAsNewSuggested.*/g)?.map((l) => l.trim())).toEqual([
    'const more = round < roundsPerRun && (readsOnly || !wf.workflowInfo().continueAsNewSuggested);',
  ]);
});
