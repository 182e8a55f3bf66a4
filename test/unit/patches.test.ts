/**
 * The recommendation workflow takes its patch decisions at its start (src/workflows/patches.ts): a patch its code
 * names by a literal instead of PATCHES would be decided where the code meets it, and a replay after a query-split
 * workflow task would diverge there again.
 */
import fs from 'node:fs';
import path from 'node:path';
import { expect, it } from 'vitest';

const read = (file: string) => fs.readFileSync(path.resolve(__dirname, '../../src/workflows', file), 'utf8');

it('names every patch of the recommendation workflow, its line and its approval step through PATCHES', () => {
  for (const file of ['recommendation.ts', 'line.ts', 'approval-step.ts']) {
    const source = read(file);
    expect(source.match(/patched\(\s*(?!PATCHES\.)[^)]*\)/g) ?? [], file).toEqual(file === 'recommendation.ts' ? ['patched(patch)'] : []);
  }
});

it('decides them before anything else the workflow does', () => {
  const body = read('recommendation.ts').split('export async function recommendationWorkflow(')[1]!;
  const firstStatement = body
    .split('\n')
    .slice(1)
    .find((line) => line.trim() && !line.trim().startsWith('//'));
  expect(firstStatement?.trim()).toBe('decidePatchesAtStart();');
});
