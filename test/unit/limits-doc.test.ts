import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { renderLimitsDoc } from '../../src/config/limits-doc';
import { PROVIDER_LIMITS } from '../../src/config/providers';

describe('docs/limits.md', () => {
  it('is what the limits table renders (run `npm run docs:limits` after changing src/config/providers.ts)', () => {
    const committed = fs.readFileSync(path.resolve(__dirname, '../../docs/limits.md'), 'utf8');
    expect(committed).toBe(renderLimitsDoc());
  });

  it('shows each provider row with its cap and reason', () => {
    const doc = renderLimitsDoc();
    expect(doc).toContain(`| veo3 | ${PROVIDER_LIMITS.veo3.maxConcurrent} | 10 s | 300 s |`);
    expect(doc).toContain(PROVIDER_LIMITS.tiktok.reason);
  });
});
