/** creditGuard: KIE's balance read at most once a minute, counted down by each render, refusing what it cannot cover. */
import { describe, expect, it } from 'vitest';
import { creditGuard, QUOTA_RECHECK_MS } from '../../src/gate/quotas';
import { ProviderError } from '../../src/providers/errors';

describe('creditGuard', () => {
  it('reads the balance once a minute, counts renders down, and refuses one the balance cannot cover', async () => {
    let reads = 0;
    let balance = 150;
    const guard = creditGuard('veo3', async () => {
      reads++;
      return balance;
    });
    const t0 = 1_000_000;
    await guard(60, t0);
    await guard(60, t0 + 1_000);
    expect(reads).toBe(1);
    // 30 left by our count: the third render is refused before KIE is asked, with a re-check time.
    const refused = await guard(60, t0 + 2_000).catch((e: unknown) => e);
    expect(refused).toBeInstanceOf(ProviderError);
    expect((refused as ProviderError).kind).toBe('quota_exhausted');
    expect((refused as ProviderError).details.resetAt).toBe(new Date(t0 + 2_000 + QUOTA_RECHECK_MS).toISOString());
    // After a refusal the next check reads again (a top-up shows at once).
    balance = 1_000;
    await guard(60, t0 + 3_000);
    expect(reads).toBe(2);
    // A minute on, the balance is read again.
    await guard(60, t0 + 3_000 + 60_000);
    expect(reads).toBe(3);
  });
});
