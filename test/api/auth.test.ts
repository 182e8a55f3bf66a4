/**
 * The REST API end to end: real Temporal, PostgreSQL, simulators and workers.
 * Authentication (401/403), validation (400 naming the field), the happy
 * paths of both roles, audit rows for every mutating call, one error shape,
 * and an OpenAPI document that lists every route.
 */
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { createToken, hashToken, lookupToken, revokeToken } from '../../src/api/auth';
import type { ScheduleController } from '../../src/api/server';
import { openApiDocument } from '../../src/api/openapi';
import { OUR_DATA_MAX_BYTES, OUR_DATA_MAX_DEPTH } from '../../src/validation';
import { recommendationInput, startHarness, type Harness } from '../helpers/harness';
import { waitUntil } from '../helpers/wait';
import { startTestApi, TEST_ENV, type TestApi } from './support';

let h: Harness;
let api: TestApi;
beforeAll(async () => {
  h = await startHarness();
  api = await startTestApi(h.db, { service: h.service });
});
afterAll(async () => {
  await api?.app.close();
  await h?.stop();
});
beforeEach(() => {
  for (const sim of Object.values(h.sims)) sim.reset();
});

const q = async (text: string, params: unknown[] = []) => (await h.db.database.pool.query(text, params)).rows;
const auditRows = (action: string) => q(`SELECT * FROM audit_log WHERE action = $1 ORDER BY id`, [action]);
const errorShape = (message: unknown = expect.any(String)) => ({ ok: false, error: { message } });
/** An object `depth` levels deep: { a: { a: … {} } }. */
const nested = (depth: number): Record<string, unknown> => (depth <= 1 ? {} : { a: nested(depth - 1) });

describe('tokens', () => {
  it('are stored hashed, looked up, and stop working once revoked', async () => {
    const created = await createToken(h.db.database.db, 'grafana', 'read');
    expect(created.token).toMatch(/^rft_[\w-]{43}$/);
    const [row] = await q(`SELECT * FROM api_tokens WHERE id = $1`, [created.tokenId]);
    expect(row.token_hash).toBe(hashToken(created.token));
    expect(JSON.stringify(row)).not.toContain(created.token);
    expect(await lookupToken(h.db.database.db, created.token)).toEqual({ tokenId: created.tokenId, name: 'grafana', role: 'read' });
    expect(await revokeToken(h.db.database.db, created.tokenId)).toBe(true);
    expect(await revokeToken(h.db.database.db, created.tokenId)).toBe(false);
    expect(await lookupToken(h.db.database.db, created.token)).toBeNull();
  });

  it('refuses an unknown role, naming the allowed ones', async () => {
    await expect(createToken(h.db.database.db, 'x', 'admin')).rejects.toThrow('role must be one of read, operator');
  });
});

describe('authentication and roles', () => {
  it('answers 401 without a token, with a malformed header, a wrong token or a revoked one', async () => {
    const none = await api.call(null, { method: 'GET', url: '/api/jobs' });
    expect(none.statusCode).toBe(401);
    expect(none.headers['www-authenticate']).toContain('Bearer');
    expect(none.json()).toEqual(errorShape(expect.stringContaining('Authorization: Bearer')));

    const basic = await api.call(null, { method: 'GET', url: '/api/jobs', headers: { authorization: 'Basic dXNlcjpwYXNz' } });
    expect(basic.statusCode).toBe(401);

    const wrong = await api.call(null, { method: 'GET', url: '/api/jobs', headers: { authorization: 'Bearer rft_not-a-real-token' } });
    expect(wrong.statusCode).toBe(401);
    expect(wrong.json()).toEqual(errorShape('invalid or revoked token'));

    const revoked = await createToken(h.db.database.db, 'leaver', 'operator');
    await revokeToken(h.db.database.db, revoked.tokenId);
    const res = await api.call(null, { method: 'GET', url: '/api/jobs', headers: { authorization: `Bearer ${revoked.token}` } });
    expect(res.statusCode).toBe(401);

    // Unauthenticated mutating calls change nothing and have no actor to audit.
    const post = await api.call(null, { method: 'POST', url: '/api/recommendations', payload: recommendationInput() });
    expect(post.statusCode).toBe(401);
    expect(await q(`SELECT * FROM competitive_recommendations`)).toHaveLength(0);
  });

  it('answers 403 to a read token on a mutating call, and audits the attempt', async () => {
    const res = await api.call('read', { method: 'POST', url: '/api/recommendations', payload: recommendationInput() });
    expect(res.statusCode).toBe(403);
    expect(res.json()).toEqual(errorShape(expect.stringContaining('needs the operator role')));
    expect(await q(`SELECT * FROM competitive_recommendations`)).toHaveLength(0);
    const [row] = await auditRows('recommendation.enqueue');
    expect(row).toMatchObject({ actor: expect.stringMatching(/^reader-/), detail: expect.objectContaining({ status: 403 }) });

    const audit = await api.call('read', { method: 'GET', url: '/api/audit' });
    expect(audit.statusCode).toBe(403);
  });

  it('answers 400 naming every wrong field, for bodies and queries alike', async () => {
    const cases: Array<[unknown, RegExp]> = [
      [recommendationInput({ priority: 'P9' }), /priority must be one of P0, P1, P2, P3/],
      [recommendationInput({ title: 'x' }), /title must be at least 3 characters/],
      [recommendationInput({ jobConfig: { platforms: ['myspace'] } }), /jobConfig\.platforms\.0 must be one of instagram, tiktok, youtube/],
      [recommendationInput({ deadline: 'tomorrow' }), /deadline must be an ISO-8601 date-time/],
      [{ ...recommendationInput(), colour: 'red' }, /enqueue: unknown field "colour"/],
      // Every wrong field in one answer, so a form is fixed in one go.
      [
        { ...recommendationInput({ title: 'x', priority: 'P9' }), colour: 'red' },
        /^enqueue: title must be at least 3 characters; priority must be one of P0, P1, P2, P3; unknown field "colour"$/,
      ],
      [{ type: 'trend_jump', priority: 'P1' }, /^enqueue: title is required$/],
      [{ ...recommendationInput(), title: 5 }, /^enqueue: title must be a string, not a number$/],
      [{ ...recommendationInput(), ourData: [1] }, /^enqueue: ourData must be an object, not an array$/],
      [[recommendationInput()], /^enqueue must be an object, not an array$/],
      // Bounded so one call cannot put megabytes, or a pathological nesting, into Temporal's history.
      [
        recommendationInput({ ourData: { notes: 'x'.repeat(OUR_DATA_MAX_BYTES) } }),
        /^enqueue: ourData must be at most 64 KiB as JSON \(got 65 KiB\)$/,
      ],
      [recommendationInput({ ourData: nested(OUR_DATA_MAX_DEPTH + 1) }), /^enqueue: ourData must nest at most 8 levels deep$/],
    ];
    for (const [payload, message] of cases) {
      const res = await api.call('operator', { method: 'POST', url: '/api/recommendations', payload: payload as object });
      expect(res.statusCode, JSON.stringify(payload)).toBe(400);
      expect(res.json()).toEqual(errorShape(expect.stringMatching(message)));
    }
    const notJson = await api.call('operator', {
      method: 'POST',
      url: '/api/recommendations',
      headers: { 'content-type': 'application/json' },
      payload: '{"title": ',
    });
    expect(notJson.statusCode).toBe(400);
    expect(notJson.json()).toEqual(errorShape());

    const badId = await api.call('read', { method: 'GET', url: '/api/jobs/not-a-uuid' });
    expect(badId.statusCode).toBe(400);
    expect(badId.json()).toEqual(errorShape('id must be a UUID'));
    const badQuery = await api.call('read', { method: 'GET', url: '/api/capacity?provider=sora' });
    expect(badQuery.json()).toEqual(errorShape(expect.stringMatching(/provider must be one of openai, veo3/)));
    expect(await q(`SELECT * FROM competitive_recommendations`)).toHaveLength(0);
  });

  it('answers 404 in the same shape', async () => {
    const job = await api.call('read', { method: 'GET', url: '/api/jobs/00000000-0000-4000-8000-000000000000' });
    expect(job.statusCode).toBe(404);
    expect(job.json()).toEqual(errorShape(expect.stringContaining('no job')));
    const route = await api.call('read', { method: 'GET', url: '/api/nope' });
    expect(route.statusCode).toBe(404);
    expect(route.json()).toEqual(errorShape('no route GET /api/nope'));
  });
});

describe('operator calls', () => {
  it('enqueue, read back, reprioritise and cancel: each mutating call leaves an audit row', async () => {
    // A long render keeps the workflow running so it can be reprioritised and cancelled.
    h.sims.veo3.setFaults({ taskDurationMs: 60_000 });
    const res = await api.call('operator', {
      method: 'POST',
      url: '/api/recommendations',
      payload: recommendationInput({ priority: 'P2' }),
    });
    expect(res.statusCode).toBe(201);
    const { data } = res.json();
    expect(data).toMatchObject({ started: true, workflowId: `recommendation-${data.recommendation.id}` });
    expect(data.links.temporal).toBe(`${TEST_ENV.TEMPORAL_UI_URL}/namespaces/default/workflows/${data.workflowId}`);
    const recId: string = data.recommendation.id;

    const enqueued = (await auditRows('recommendation.enqueue')).find((r) => r.target === recId);
    expect(enqueued).toMatchObject({
      actor: expect.stringMatching(/^operator-/),
      target: recId,
      token_id: expect.any(String),
      detail: expect.objectContaining({
        method: 'POST',
        url: '/api/recommendations',
        status: 201,
        workflowId: data.workflowId,
        started: true,
      }),
    });
    expect(enqueued.created_at).toBeInstanceOf(Date);

    // The read role sees the jobs the workflow created, and one job's history.
    const jobs = await waitUntil(
      async () => {
        const r = await api.call('read', { method: 'GET', url: `/api/jobs?provider=veo3&status=processing` });
        const list = r.json().data as Array<{ id: string; recommendationId: string }>;
        return list.find((j) => j.recommendationId === recId) ? list : null;
      },
      { what: 'VEO3 job processing' },
    );
    const videoJob = jobs[0]!;
    const detail = await api.call('read', { method: 'GET', url: `/api/jobs/${videoJob.id}` });
    expect(detail.json().data.history.map((e: { event: string }) => e.event)).toEqual(
      expect.arrayContaining(['enqueued', 'waiting', 'started']),
    );
    const status = await api.call('read', { method: 'GET', url: `/api/recommendations/${recId}` });
    expect(status.json().data).toMatchObject({ recommendation: { id: recId }, workflow: { status: 'RUNNING' } });
    // Every job carries its ETA fields; a running render is in no line, so they are null (metrics.test.ts has waiting ones).
    const statusJobs = status.json().data.jobs as Array<Record<string, unknown>>;
    expect(statusJobs.find((j) => j.id === videoJob.id)).toMatchObject({ eta: null, waitingFor: null, waitingForQuota: null });
    expect(statusJobs.every((j) => 'eta' in j && 'waitingFor' in j && 'waitingForQuota' in j)).toBe(true);

    const badPrio = await api.call('operator', {
      method: 'POST',
      url: `/api/jobs/${videoJob.id}/priority`,
      payload: { priority: 'urgent' },
    });
    expect(badPrio.statusCode).toBe(400);
    expect(badPrio.json()).toEqual(errorShape(expect.stringMatching(/priority must be one of P0/)));
    const prio = await api.call('operator', { method: 'POST', url: `/api/jobs/${videoJob.id}/priority`, payload: { priority: 'P0' } });
    expect(prio.statusCode).toBe(200);
    expect(prio.json().data).toMatchObject({ recommendationId: recId, priority: 'P0' });
    await waitUntil(async () => (await q(`SELECT priority FROM automation_queue WHERE id = $1`, [videoJob.id]))[0]?.priority === 'P0', {
      what: 'job reprioritised',
    });
    const reprioritised = (await auditRows('job.reprioritise')).at(-1);
    expect(reprioritised).toMatchObject({ target: videoJob.id, detail: expect.objectContaining({ priority: 'P0', status: 200 }) });

    const cancel = await api.call('operator', {
      method: 'POST',
      url: `/api/recommendations/${recId}/cancel`,
      payload: { reason: 'wrong player' },
    });
    expect(cancel.statusCode).toBe(202);
    await waitUntil(
      async () => (await q(`SELECT status FROM competitive_recommendations WHERE id = $1`, [recId]))[0]?.status === 'cancelled',
      {
        what: 'recommendation cancelled',
      },
    );
    const cancelled = (await auditRows('recommendation.cancel')).at(-1);
    expect(cancelled).toMatchObject({ target: recId, detail: expect.objectContaining({ reason: 'wrong player', status: 202 }) });
    // Temporal would accept a second cancel request for the closed workflow; the API says what happened instead.
    const again = await api.call('operator', { method: 'POST', url: `/api/recommendations/${recId}/cancel` });
    expect(again.statusCode).toBe(409);
    expect(again.json()).toEqual({ ok: false, error: { message: `recommendation ${recId} is already cancelled: nothing to cancel` } });
    const late = await api.call('operator', { method: 'POST', url: `/api/recommendations/${recId}/priority`, payload: { priority: 'P1' } });
    expect(late.statusCode).toBe(409);

    // The operator can read the trail.
    const trail = await api.call('operator', { method: 'GET', url: '/api/audit?limit=50' });
    expect(trail.json().data.map((r: { action: string }) => r.action)).toEqual(
      expect.arrayContaining(['recommendation.enqueue', 'job.reprioritise', 'recommendation.cancel']),
    );
  });

  it('cancel of an unknown id is a 404 and is still audited', async () => {
    const res = await api.call('operator', { method: 'POST', url: '/api/jobs/00000000-0000-4000-8000-000000000001/cancel' });
    expect(res.statusCode).toBe(404);
    const rows = await auditRows('job.cancel');
    expect(rows.at(-1)).toMatchObject({ target: '00000000-0000-4000-8000-000000000001', detail: expect.objectContaining({ status: 404 }) });
  });
});

describe('schedule', () => {
  it('answers 503 when the server has no schedule controller', async () => {
    const res = await api.call('operator', { method: 'POST', url: '/api/schedule/pause' });
    expect(res.statusCode).toBe(503);
    expect(res.json()).toEqual(errorShape(expect.stringContaining('schedules are not available')));
  });

  it('pauses, unpauses and triggers through the controller, audited', async () => {
    const calls: string[] = [];
    const schedule: ScheduleController = {
      pause: async () => void calls.push('pause'),
      unpause: async () => void calls.push('unpause'),
      trigger: async () => void calls.push('trigger'),
      describe: async () => ({ paused: calls.at(-1) === 'pause' }),
    };
    const bargains: string[] = [];
    const daily: ScheduleController = {
      ...schedule,
      pause: async () => void bargains.push('pause'),
      trigger: async () => void bargains.push('trigger'),
    };
    const withSchedule = await startTestApi(h.db, { service: h.service, schedules: { hourly: schedule, bargains: daily } });
    try {
      expect((await withSchedule.call('read', { method: 'POST', url: '/api/schedule/pause' })).statusCode).toBe(403);
      expect((await withSchedule.call('operator', { method: 'POST', url: '/api/schedule/pause' })).json()).toEqual({
        ok: true,
        data: { schedule: 'paused' },
      });
      expect((await withSchedule.call('read', { method: 'GET', url: '/api/schedule' })).json().data).toEqual({ paused: true });
      await withSchedule.call('operator', { method: 'POST', url: '/api/schedule/unpause' });
      await withSchedule.call('operator', { method: 'POST', url: '/api/schedule/trigger' });
      expect(calls).toEqual(['pause', 'unpause', 'trigger']);
      // Any schedule by name; an unknown name is a 404 naming the known ones.
      expect((await withSchedule.call('operator', { method: 'POST', url: '/api/schedules/bargains/pause' })).json()).toEqual({
        ok: true,
        data: { schedule: 'paused' },
      });
      await withSchedule.call('operator', { method: 'POST', url: '/api/schedules/bargains/trigger' });
      expect(bargains).toEqual(['pause', 'trigger']);
      expect(calls).toHaveLength(3);
      const unknown = await withSchedule.call('operator', { method: 'POST', url: '/api/schedules/weekly/pause' });
      expect(unknown.statusCode).toBe(404);
      expect(unknown.json()).toEqual(errorShape(expect.stringContaining('one of hourly, bargains')));
      const actions = (await q(`SELECT action, detail->>'status' AS status FROM audit_log WHERE action LIKE 'schedule.%' ORDER BY id`)).map(
        (r) => `${r.action}:${r.status}`,
      );
      expect(actions).toEqual([
        'schedule.pause:503',
        'schedule.pause:403',
        'schedule.pause:200',
        'schedule.unpause:200',
        'schedule.trigger:200',
        'schedule.pause:200',
        'schedule.trigger:200',
        'schedule.pause:404',
      ]);
      const targets = (
        await q(`SELECT target FROM audit_log WHERE action LIKE 'schedule.%' AND detail->>'status' = '200' ORDER BY id`)
      ).map((r) => r.target);
      expect(targets).toEqual(['hourly', 'hourly', 'hourly', 'bargains', 'bargains']);
    } finally {
      await withSchedule.app.close();
    }
  });
});

describe('errors and documentation', () => {
  it('answers 500 without internals', async () => {
    const broken = await startTestApi(h.db, {
      service: {
        ...h.service,
        listJobs: async () => {
          throw new Error('connect to postgres://admin:hunter2@10.0.0.5 failed at /srv/reelflow/src/x.ts:12');
        },
      },
    });
    try {
      const res = await broken.call('read', { method: 'GET', url: '/api/jobs' });
      expect(res.statusCode).toBe(500);
      expect(res.json()).toEqual(errorShape('internal error'));
      expect(res.body).not.toContain('hunter2');
    } finally {
      await broken.app.close();
    }
  });

  it('serves an OpenAPI document that lists every API route, and only those', async () => {
    const res = await api.call(null, { method: 'GET', url: '/openapi.json' });
    expect(res.statusCode).toBe(200);
    const doc = res.json() as typeof openApiDocument;
    expect(doc.openapi).toBe('3.1.0');
    const documented = Object.entries(doc.paths)
      .flatMap(([p, ops]) => Object.keys(ops).map((m) => `${m.toUpperCase()} ${p}`))
      .sort();
    const served = servedRoutes(api.app.printRoutes({ commonPrefix: false }))
      .filter((r) => !/ \/(automation-calendar.*)?$/.test(r))
      .sort();
    expect(served).toEqual(documented);
  });
});

/** "METHOD /path/{param}" for each route of Fastify's printRoutes tree (HEAD left out). */
function servedRoutes(tree: string): string[] {
  const stack: string[] = [];
  const out: string[] = [];
  for (const line of tree.split('\n')) {
    const m = /^([│├└─ ]*)(\S+?)(?: \(([^)]+)\))?$/.exec(line);
    if (!m) continue;
    stack.length = m[1]!.length / 4;
    stack.push(m[2]!);
    const path = stack.join('').replace(/:(\w+)/g, '{$1}');
    for (const method of (m[3] ?? '').split(', ').filter((x) => x && x !== 'HEAD')) out.push(`${method} ${path}`);
  }
  return out;
}
