import { describe, expect, it } from 'vitest';
import { DEADLOCK, retryDeadlock } from '../../src/db/retry';

const pgError = (code: string) => Object.assign(new Error(`pg ${code}`), { code });

describe('retryDeadlock', () => {
  it("runs a deadlock's victim again and returns its answer", async () => {
    let calls = 0;
    const answer = await retryDeadlock(async () => {
      calls++;
      if (calls < 3) throw pgError(DEADLOCK);
      return 'done';
    });
    expect(answer).toBe('done');
    expect(calls).toBe(3);
  });

  it('throws any other error at once', async () => {
    let calls = 0;
    const failing = retryDeadlock(async () => {
      calls++;
      throw pgError('23505');
    });
    await expect(failing).rejects.toThrow('pg 23505');
    expect(calls).toBe(1);
  });

  it('gives up after its attempts, with the deadlock', async () => {
    let calls = 0;
    const failing = retryDeadlock(async () => {
      calls++;
      throw pgError(DEADLOCK);
    }, 3);
    await expect(failing).rejects.toMatchObject({ code: DEADLOCK });
    expect(calls).toBe(3);
  });
});
