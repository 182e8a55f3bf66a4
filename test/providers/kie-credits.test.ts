/**
 * KIE's credits (issue 14): the VEO3 simulator's balance read through getCredits(), spent per render by model,
 * refused with KIE's 402 once it cannot cover a render (quota_exhausted, nothing paid), and kept across a restart.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { KieVideoClient } from '../../src/providers/veo3/client';
import { Veo3Simulator } from '../../src/simulators/veo3';
import { expectProviderError, TASK_MS } from './support';

describe('KIE credits', () => {
  const sim = new Veo3Simulator({ taskDurationMs: TASK_MS });
  const client = () => new KieVideoClient({ baseUrl: sim.url, apiKey: 'key', timeoutMs: 2_000 });
  const render = (model: 'veo3' | 'veo3_fast' = 'veo3_fast') => client().submit({ prompt: 'a save', aspectRatio: '9:16', model });
  const setQuotas = (body: unknown) =>
    fetch(`${sim.url}/__sim/quotas`, { method: 'POST', headers: { 'Content-Type': 'application/json' }, body: JSON.stringify(body) });

  beforeAll(() => sim.start());
  afterEach(() => {
    sim.reset();
    sim.envelopeErrors = false;
  });
  afterAll(() => sim.stop());

  it('getCredits() reads the balance; each render spends its model cost', async () => {
    expect(await client().getCredits()).toBe(10_000_000);
    await render('veo3_fast');
    expect(await client().getCredits()).toBe(10_000_000 - 60);
    expect((await setQuotas({ generateCost: { veo3: 300 } })).status).toBe(200);
    await render('veo3');
    expect(await client().getCredits()).toBe(10_000_000 - 60 - 300);
    const bad = await setQuotas({ credits: -5 });
    expect(bad.status).toBe(400);
    expect(JSON.stringify(await bad.json())).toMatch(/credits/);
  });

  it('a render the balance cannot cover is 402: quota_exhausted, not paid, no reset until a top-up', async () => {
    await setQuotas({ credits: 100 });
    await render();
    expect(await client().getCredits()).toBe(40);
    const err = await expectProviderError(render(), 'quota_exhausted');
    expect(err.details).toMatchObject({ status: 402, code: 402, account: 'default' });
    expect(err.details.resetAt).toBeUndefined();
    expect(err.retryable).toBe(false);
    // Errors inside HTTP 200 (KIE's envelope habit) read the same.
    sim.envelopeErrors = true;
    expect((await expectProviderError(render(), 'quota_exhausted')).details).toMatchObject({ status: 200, code: 402 });
    expect(sim.stats()).toMatchObject({ submissions: 1, quotaRefusals: 2 });
    expect(await client().getCredits()).toBe(40);
    // A top-up lets renders through again.
    await setQuotas({ credits: 60 });
    await render();
    expect(await client().getCredits()).toBe(0);
  });

  it('the balance outlives a restart (state file)', async () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'reelflow-kie-state-'));
    try {
      const stateFile = path.join(dir, 'veo3.json');
      const first = await new Veo3Simulator({ stateFile, credits: 1_000 }).start();
      await new KieVideoClient({ baseUrl: first.url, apiKey: 'k' }).submit({ prompt: 'x', aspectRatio: '9:16' });
      await first.stop();
      const second = await new Veo3Simulator({ stateFile, credits: 1_000 }).start();
      try {
        expect(await new KieVideoClient({ baseUrl: second.url, apiKey: 'k' }).getCredits()).toBe(940);
      } finally {
        await second.stop();
      }
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
