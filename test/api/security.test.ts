/**
 * The API's and CLI's security properties against a real PostgreSQL: the KIE
 * secret never reaches a log line and is validated at start-up, failed
 * authentications and the hook are throttled (429) and audited once per
 * address per window, a failed audit write fails the call, the audit table is
 * append-only, tokens can expire, the API listens locally by default, and
 * prototype keys are unknown schedules.
 */
import { Writable } from 'node:stream';
import pino from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createToken, listTokens, parseDuration } from '../../src/api/auth';
import type { ScheduleController } from '../../src/api/server';
import { apiEnvSchema, loadEnv, parseEnv } from '../../src/config/env';
import { terminalSafe } from '../../src/cli/format';
import { runCli, type Harness } from '../helpers/harness';
import { createTestDatabase, type TestDatabase } from '../helpers/test-db';
import { dbOnlyService, startTestApi, type TestApi } from './support';

let db: TestDatabase;
beforeAll(async () => {
  db = await createTestDatabase();
});
afterAll(async () => {
  await db?.drop();
});

const q = async (text: string, params: unknown[] = []) => (await db.database.pool.query(text, params)).rows;
const SECRET = 'kie-secret-0123456789abcdef0123456789abcdef';
const schedule: ScheduleController = {
  pause: async () => {},
  unpause: async () => {},
  trigger: async () => {},
  describe: async () => ({ paused: false }),
};

/** A logger whose lines land in `lines`, parsed. */
function capturingLogger() {
  const lines: Array<Record<string, unknown>> = [];
  const text: string[] = [];
  const stream = new Writable({
    write(chunk, _enc, done) {
      for (const line of String(chunk).split('\n').filter(Boolean)) {
        text.push(line);
        lines.push(JSON.parse(line) as Record<string, unknown>);
      }
      done();
    },
  });
  return { log: pino({ level: 'trace' }, stream), lines, text };
}

describe('the KIE callback secret', () => {
  it('never reaches the log, whether the call is accepted, refused or unrouted', async () => {
    const { log, lines, text } = capturingLogger();
    const api = await startTestApi(db, {
      service: dbOnlyService(db),
      log,
      env: { TEMPORAL_UI_URL: 'http://127.0.0.1:8233', TEMPORAL_NAMESPACE: 'default', KIE_CALLBACK_SECRET: SECRET },
    });
    try {
      const ok = await api.app.inject({
        method: 'POST',
        url: `/hooks/kie/${SECRET}`,
        payload: { code: 200, data: { taskId: 'veo_task_x' } },
      });
      expect(ok.statusCode).toBe(200);
      expect((await api.app.inject({ method: 'POST', url: `/hooks/kie/${SECRET}`, payload: { code: 200, data: {} } })).statusCode).toBe(
        400,
      );
      expect(
        (
          await api.app.inject({
            method: 'POST',
            url: `/hooks/kie/${SECRET}?x=1`,
            payload: 'not json',
            headers: { 'content-type': 'application/json' },
          })
        ).statusCode,
      ).toBe(400);
      expect((await api.app.inject({ method: 'GET', url: `/hooks/kie/${SECRET}` })).statusCode).toBe(404);
      await api.app.close();
      // The calls were logged (one line each), with the path but not the secret.
      expect(lines.filter((l) => l.msg === 'api call').map((l) => l.url)).toEqual(
        expect.arrayContaining(['/hooks/kie/<redacted>', '/hooks/kie/<redacted>?x=1']),
      );
      expect(text.join('\n')).not.toContain(SECRET);
    } finally {
      await api.app.close();
    }
  });

  it('must be 32 to 100 URL-safe characters, checked at start-up naming the variable', () => {
    expect(() => loadEnv({ KIE_CALLBACK_SECRET: 'dev-callback-secret-change-me' })).toThrow(
      /^environment variable KIE_CALLBACK_SECRET must be at least 32 random characters/,
    );
    expect(() => loadEnv({ KIE_CALLBACK_SECRET: 'a'.repeat(101) })).toThrow(
      /^environment variable KIE_CALLBACK_SECRET must be at most 100 characters/,
    );
    expect(() => loadEnv({ KIE_CALLBACK_SECRET: `${'a'.repeat(40)}/x` })).toThrow(/KIE_CALLBACK_SECRET must use only letters, digits/);
    expect(loadEnv({ KIE_CALLBACK_SECRET: 'a'.repeat(100) }).KIE_CALLBACK_SECRET).toHaveLength(100);
  });

  it('at the longest allowed length still matches the route (Fastify refuses longer path parameters)', async () => {
    const longest = loadEnv({ KIE_CALLBACK_SECRET: 'b'.repeat(100) }).KIE_CALLBACK_SECRET!;
    const api = await startTestApi(db, {
      service: dbOnlyService(db),
      env: { TEMPORAL_UI_URL: 'http://127.0.0.1:8233', TEMPORAL_NAMESPACE: 'default', KIE_CALLBACK_SECRET: longest },
    });
    try {
      const res = await api.app.inject({
        method: 'POST',
        url: `/hooks/kie/${longest}`,
        payload: { code: 200, data: { taskId: 'veo_task_y' } },
      });
      expect(res.statusCode).toBe(200);
    } finally {
      await api.app.close();
    }
  });
});

describe('listening address', () => {
  it('is 127.0.0.1 unless API_HOST says otherwise', () => {
    expect(parseEnv(apiEnvSchema, {}).API_HOST).toBe('127.0.0.1');
    expect(parseEnv(apiEnvSchema, { API_HOST: '0.0.0.0' }).API_HOST).toBe('0.0.0.0');
  });
});

describe('rate limits', () => {
  let api: TestApi;
  beforeAll(async () => {
    api = await startTestApi(db, {
      service: dbOnlyService(db),
      schedules: { hourly: schedule },
      env: { TEMPORAL_UI_URL: 'http://127.0.0.1:8233', TEMPORAL_NAMESPACE: 'default', KIE_CALLBACK_SECRET: SECRET },
      rateLimits: { authFailures: 3, hookCalls: 2, windowMs: 60_000 },
    });
  });
  afterAll(async () => {
    await api?.app.close();
  });
  const from = (ip: string, authorization?: string) =>
    api.app.inject({ method: 'GET', url: '/api/jobs', remoteAddress: ip, headers: authorization ? { authorization } : {} });

  it('answers 429 to the failed authentication after the limit, from that address only, and audits one row per address', async () => {
    const before = (await q(`SELECT count(*)::int AS n FROM audit_log WHERE action = 'auth.failed'`))[0].n as number;
    for (let i = 0; i < 3; i++) expect((await from('10.1.1.1', 'Bearer rft_guess')).statusCode).toBe(401);
    const throttled = await from('10.1.1.1', 'Bearer rft_guess');
    expect(throttled.statusCode).toBe(429);
    expect(throttled.json()).toEqual({ ok: false, error: { message: expect.stringContaining('too many failed authentications') } });
    expect(throttled.headers['retry-after']).toBe('60');
    // Throttled means throttled: even a right token from that address waits out the window.
    expect((await from('10.1.1.1', `Bearer ${api.tokens.read}`)).statusCode).toBe(429);
    // Other addresses are unaffected, and good tokens never count.
    expect((await from('10.2.2.2', 'Bearer rft_guess')).statusCode).toBe(401);
    for (let i = 0; i < 5; i++) expect((await from('10.3.3.3', `Bearer ${api.tokens.read}`)).statusCode).toBe(200);

    const rows = await q(`SELECT actor, token_id, detail FROM audit_log WHERE action = 'auth.failed' ORDER BY id OFFSET $1`, [before]);
    expect(rows).toEqual([
      {
        actor: 'unauthenticated',
        token_id: null,
        detail: expect.objectContaining({ ip: '10.1.1.1', reason: 'invalid or revoked token', url: '/api/jobs' }),
      },
      { actor: 'unauthenticated', token_id: null, detail: expect.objectContaining({ ip: '10.2.2.2' }) },
    ]);
  });

  it('answers 429 on the KIE hook past its limit per address', async () => {
    const hook = (ip: string) =>
      api.app.inject({ method: 'POST', url: `/hooks/kie/${SECRET}`, remoteAddress: ip, payload: { code: 200, data: { taskId: 't' } } });
    expect((await hook('10.4.4.4')).statusCode).toBe(200);
    expect((await hook('10.4.4.4')).statusCode).toBe(200);
    const third = await hook('10.4.4.4');
    expect(third.statusCode).toBe(429);
    expect(third.json()).toEqual({ ok: false, error: { message: expect.stringContaining('too many requests') } });
    expect((await hook('10.5.5.5')).statusCode).toBe(200);
  });
});

describe('behind a TLS terminator (API_TRUSTED_PROXY_HOPS=1)', () => {
  let api: TestApi;
  beforeAll(async () => {
    api = await startTestApi(db, {
      service: dbOnlyService(db),
      rateLimits: { authFailures: 2, hookCalls: 2, windowMs: 60_000 },
      trustedProxyHops: 1,
    });
  });
  afterAll(async () => {
    await api?.app.close();
  });
  // Every call arrives from the proxy's address; X-Forwarded-For names the client (the proxy appends its peer last).
  const via = (forwardedFor: string, authorization: string) =>
    api.app.inject({
      method: 'GET',
      url: '/api/jobs',
      remoteAddress: '172.18.0.9',
      headers: { authorization, 'x-forwarded-for': forwardedFor },
    });

  it('throttles the guessing client, not everyone behind the proxy, and ignores addresses a client writes itself', async () => {
    for (let i = 0; i < 2; i++) expect((await via('203.0.113.7', 'Bearer rft_guess')).statusCode).toBe(401);
    expect((await via('203.0.113.7', 'Bearer rft_guess')).statusCode).toBe(429);
    // A forged first entry changes nothing: the proxy's own entry (the last) is the address.
    expect((await via('198.51.100.1, 203.0.113.7', 'Bearer rft_guess')).statusCode).toBe(429);
    expect((await via('198.51.100.20', `Bearer ${api.tokens.read}`)).statusCode).toBe(200);
    const [row] = await q(`SELECT detail FROM audit_log WHERE action = 'auth.failed' AND detail->>'ip' = '203.0.113.7'`);
    expect(row).toBeDefined();
  });

  it('is off by default: the socket peer is the address', () => {
    expect(parseEnv(apiEnvSchema, {}).API_TRUSTED_PROXY_HOPS).toBe(0);
    expect(parseEnv(apiEnvSchema, { API_TRUSTED_PROXY_HOPS: '1' }).API_TRUSTED_PROXY_HOPS).toBe(1);
    expect(() => parseEnv(apiEnvSchema, { API_TRUSTED_PROXY_HOPS: 'yes' })).toThrow(/API_TRUSTED_PROXY_HOPS/);
  });
});

describe('the audit trail', () => {
  it('fails the call with a 500 when its row cannot be written', async () => {
    const api = await startTestApi(db, { service: dbOnlyService(db), schedules: { hourly: schedule } });
    try {
      // Every new row now violates a constraint: the insert fails like a full disk or a lost connection would.
      await q(`ALTER TABLE audit_log ADD CONSTRAINT audit_refuses_all CHECK (false) NOT VALID`);
      const res = await api.call('operator', { method: 'POST', url: '/api/schedule/pause' });
      expect(res.statusCode).toBe(500);
      expect(res.json()).toEqual({ ok: false, error: { message: expect.stringContaining('audit trail could not be written') } });
    } finally {
      await q(`ALTER TABLE audit_log DROP CONSTRAINT IF EXISTS audit_refuses_all`);
      await api.app.close();
    }
    const ok = await startTestApi(db, { service: dbOnlyService(db), schedules: { hourly: schedule } });
    expect((await ok.call('operator', { method: 'POST', url: '/api/schedule/pause' })).statusCode).toBe(200);
    await ok.app.close();
  });

  it('is append-only for every role, the owner and superuser included', async () => {
    await q(`INSERT INTO audit_log (actor, action) VALUES ('test', 'test.row')`);
    await expect(q(`UPDATE audit_log SET actor = 'someone else' WHERE action = 'test.row'`)).rejects.toThrow(
      /audit_log is append-only: UPDATE/,
    );
    await expect(q(`DELETE FROM audit_log`)).rejects.toThrow(/audit_log is append-only: DELETE/);
    await expect(q(`TRUNCATE audit_log`)).rejects.toThrow(/audit_log is append-only: TRUNCATE/);
    expect(await q(`SELECT actor FROM audit_log WHERE action = 'test.row'`)).toEqual([{ actor: 'test' }]);
  });
});

describe('token expiry', () => {
  it('refuses an expired token with 401 "token expired", and lists the expiry', async () => {
    const api = await startTestApi(db, { service: dbOnlyService(db) });
    try {
      const shortLived = await createToken(db.database.db, 'contractor', 'read', { expiresInMs: 60_000 });
      expect(
        (await api.app.inject({ method: 'GET', url: '/api/jobs', headers: { authorization: `Bearer ${shortLived.token}` } })).statusCode,
      ).toBe(200);
      await q(`UPDATE api_tokens SET expires_at = now() - interval '1 second' WHERE id = $1`, [shortLived.tokenId]);
      const res = await api.app.inject({ method: 'GET', url: '/api/jobs', headers: { authorization: `Bearer ${shortLived.token}` } });
      expect(res.statusCode).toBe(401);
      expect(res.json()).toEqual({ ok: false, error: { message: 'token expired' } });
      const listed = (await listTokens(db.database.db)).find((t) => t.tokenId === shortLived.tokenId);
      expect(listed?.expiresAt).toBeInstanceOf(Date);
    } finally {
      await api.app.close();
    }
  });

  it('parses 12h, 30d, 90m, 2w and refuses anything else naming the flag', () => {
    expect(parseDuration('12h', '--expires-in')).toBe(12 * 3_600_000);
    expect(parseDuration('30d', '--expires-in')).toBe(30 * 86_400_000);
    expect(parseDuration('90m', '--expires-in')).toBe(90 * 60_000);
    expect(parseDuration('2w', '--expires-in')).toBe(14 * 86_400_000);
    for (const bad of ['30', '0d', '-1d', '1.5d', '30 days', 'soon', '99999d'])
      expect(() => parseDuration(bad, '--expires-in')).toThrow(/^--expires-in must/);
  });

  it('token create --expires-in: prints the expiry, list shows it, a bad value exits 2; both token commands are audited', async () => {
    const cli = { db, childEnv: {} } as unknown as Harness;
    const created = await runCli(cli, ['token', 'create', '--name', 'ci-bot', '--role', 'read', '--expires-in', '30d', '--json']);
    expect(created.code, created.stderr).toBe(0);
    const token = JSON.parse(created.stdout) as { tokenId: string; expiresAt: string };
    const days = (new Date(token.expiresAt).getTime() - Date.now()) / 86_400_000;
    expect(days).toBeGreaterThan(29.9);
    expect(days).toBeLessThanOrEqual(30);
    const listed = await runCli(cli, ['token', 'list']);
    expect(listed.stdout).toMatch(new RegExp(`${token.tokenId}.*${token.expiresAt.slice(0, 10)}`));
    const bad = await runCli(cli, ['token', 'create', '--name', 'x', '--role', 'read', '--expires-in', 'forever']);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toContain('--expires-in must be a positive whole number of m, h, d or w');
    const revoked = await runCli(cli, ['token', 'revoke', token.tokenId]);
    expect(revoked.code, revoked.stderr).toBe(0);
    const rows = await q(`SELECT actor, action, target, detail FROM audit_log WHERE action LIKE 'token.%' ORDER BY id`);
    expect(rows).toEqual([
      {
        actor: expect.stringMatching(/^cli:/),
        action: 'token.create',
        target: null,
        detail: expect.objectContaining({ via: 'cli', flags: expect.objectContaining({ name: 'ci-bot', 'expires-in': '30d' }) }),
      },
      // Rows are written before the command acts, so they record attempts: the refused create has one too, and a
      // second row with its outcome.
      {
        actor: expect.stringMatching(/^cli:/),
        action: 'token.create',
        target: null,
        detail: expect.objectContaining({ flags: expect.objectContaining({ 'expires-in': 'forever' }) }),
      },
      {
        actor: expect.stringMatching(/^cli:/),
        action: 'token.create',
        target: null,
        detail: {
          via: 'cli',
          command: 'token',
          outcome: 'refused',
          exit: 2,
          error: expect.stringContaining('--expires-in must be a positive whole number of m, h, d or w'),
        },
      },
      {
        actor: expect.stringMatching(/^cli:/),
        action: 'token.revoke',
        target: token.tokenId,
        detail: expect.objectContaining({ via: 'cli' }),
      },
    ]);
    // Reading writes no audit row.
    expect((await q(`SELECT count(*)::int AS n FROM audit_log WHERE action = 'token.list'`))[0].n).toBe(0);
  });
});

describe('schedules by name', () => {
  it('answers 404 for prototype keys such as constructor (it used to be a 500)', async () => {
    const api = await startTestApi(db, { service: dbOnlyService(db), schedules: { hourly: schedule } });
    try {
      for (const name of ['constructor', '__proto__', 'toString', 'hasOwnProperty']) {
        const get = await api.call('read', { method: 'GET', url: `/api/schedules/${name}` });
        expect(get.statusCode, name).toBe(404);
        expect(get.json()).toEqual({ ok: false, error: { message: `no schedule "${name}"; one of hourly` } });
        expect((await api.call('operator', { method: 'POST', url: `/api/schedules/${name}/pause` })).statusCode, name).toBe(404);
      }
      expect((await api.call(null, { method: 'GET', url: '/automation-calendar/constructor' })).statusCode).toBe(404);
    } finally {
      await api.app.close();
    }
  });
});

describe('terminal output', () => {
  it('strips ANSI escapes and control characters from what the CLI prints', () => {
    expect(terminalSafe('Pedri\u001b[2K\u001b[1A\rOK: all published')).toBe('Pedri OK: all published');
    expect(terminalSafe('title\u001b]8;;https://evil.example\u0007link\u001b]8;;\u0007')).toBe('titlelink');
    expect(terminalSafe('a\u009b31mb\u0085c\u0007d\te\nf\u007f')).toBe('ab c d e f ');
    expect(terminalSafe('Vinícius Júnior — 9,5 M€')).toBe('Vinícius Júnior — 9,5 M€');
  });
});
