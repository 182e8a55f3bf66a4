/**
 * The other content sources of the seed: the daily bargains (golden, on the
 * shipped roster), their daily Schedule, and breaking news, against the real
 * Temporal server, PostgreSQL and the provider simulators. The CLI runs as a
 * real process, as in cli.test.ts.
 */
import path from 'node:path';
import { eq, inArray } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { DailyBargainsSummary } from '../../src/activities/bargains';
import { competitiveRecommendations, type Player } from '../../src/db/schema';
import { bargainDay, createBargainAnalyzer, planDailyBargains } from '../../src/recommendations/bargains';
import { loadRosterFile } from '../../src/recommendations/roster';
import { DAILY_BARGAINS_SCHEDULE_ID, ensureDailyBargainsSchedule } from '../../src/schedule/daily-bargains';
import { HOURLY_SCHEDULE_ID } from '../../src/schedule/hourly';
import { SCHEDULES } from '../../src/schedule/command';
import { describeSchedule, pauseSchedule, triggerSchedule } from '../../src/schedule/schedules';
import { SEARCH_ATTRIBUTES } from '../../src/shared/messages';
import { DAILY_BARGAINS_WORKFLOW, recommendationWorkflowId } from '../../src/shared/workflow-ids';
import { runCli, startHarness, type Harness } from '../helpers/harness';
import { waitUntil } from '../helpers/wait';

const SAMPLE = path.resolve(__dirname, '../../data/sample');
const HOUR = 3_600_000;
/** 00:30 on the 19th in Madrid (CEST): a UTC calendar would still say the 18th. */
const NIGHT = new Date('2025-10-18T22:30:00Z');
const DAY = '2025-10-19';

let h: Harness;
const db = () => h.db.database.db;
const rowCount = async () => Number((await h.db.database.pool.query('SELECT count(*) AS n FROM competitive_recommendations')).rows[0].n);
const analyzer = () => createBargainAnalyzer({ db: db(), service: h.service });
const rowsOf = (ids: string[]) => db().select().from(competitiveRecommendations).where(inArray(competitiveRecommendations.id, ids));

const cli = (args: string[], env: Record<string, string> = {}) => runCli(h, args, env);

/** Each recommendation has its own recommendationWorkflow, recorded on its row. */
async function expectWorkflowsStarted(ids: string[]) {
  for (const id of ids) {
    expect((await h.client.workflow.getHandle(recommendationWorkflowId(id)).describe()).type).toBe('recommendationWorkflow');
  }
  expect((await rowsOf(ids)).map((r) => r.workflowId).sort()).toEqual(ids.map(recommendationWorkflowId).sort());
}

beforeAll(async () => {
  h = await startHarness();
  await loadRosterFile(db(), path.join(SAMPLE, 'players.json'));
});

afterAll(async () => {
  await h?.stop();
});

describe('daily bargains (golden, shipped roster)', () => {
  it('turns the three best points-per-million bargains into P1 chollos with a workflow each', async () => {
    const result = await analyzer().generateDailyBargains({ date: NIGHT });
    expect(result).toMatchObject({ day: DAY, candidates: 5, skipped: 0, reenqueued: [] });
    expect(result.ids).toEqual(result.created.map((r) => r.id));

    // Bargains of the roster: Brugué 11.6, Iván Romero 10.97, Vicente 7.75, Budimir 7.74, Fornals 4.15 pts/M.
    expect(
      result.created.map((r) => ({
        player: r.targetPlayer,
        title: r.title,
        type: r.recommendationType,
        source: r.source,
        priority: r.priority,
        deadlineHours: (r.urgencyDeadline!.getTime() - r.createdAt.getTime()) / HOUR,
        key: r.dedupeKey,
        jobConfig: r.jobConfig,
      })),
    ).toEqual(
      [
        ['roger-brugue', 'Chollo del día: Roger Brugué (Levante) a 2,5 M'],
        ['ivan-romero', 'Chollo del día: Iván Romero (Levante) a 3,1 M'],
        ['carlos-vicente', 'Chollo del día: Carlos Vicente (Alavés) a 4 M'],
      ].map(([player, title]) => ({
        player,
        title,
        type: 'bargain',
        source: 'bargain',
        priority: 'P1',
        deadlineHours: 48,
        key: `bargain:${player}:${DAY}`,
        jobConfig: { provider: 'veo3', platforms: ['instagram', 'tiktok', 'youtube'], aspectRatio: '9:16' },
      })),
    );

    expect(result.created[0]!.ourData).toEqual({
      day: DAY,
      rank: 1,
      player: { id: 'roger-brugue', name: 'Roger Brugué', team: 'Levante', position: 'FWD' },
      price: 2.5,
      points: 29,
      recentForm: 6.4,
      minutes: 560,
      minutesShare: 0.78,
      pointsPerMillion: 11.6,
      injuryStatus: 'fit',
      reasons: ['11.6 puntos por millón (≥ 4)', 'forma reciente 6.4 pts/jornada (≥ 6)', 'titular: 78% de los minutos'],
      explanation: {
        rule: "bargain: among the day's best points per million of fit starters (the daily bargains)",
        because: ['#1 de hoy', '11.6 puntos por millón (≥ 4)', 'forma reciente 6.4 pts/jornada (≥ 6)', 'titular: 78% de los minutos'],
      },
    });
    expect(result.created.map((r) => (r.ourData as { pointsPerMillion: number }).pointsPerMillion)).toEqual([11.6, 10.97, 7.75]);
    await expectWorkflowsStarted(result.ids);
  });

  it('running it again the same Madrid day creates nothing and starts nothing', async () => {
    const before = await rowCount();
    const again = await analyzer().generateDailyBargains({ date: new Date('2025-10-19T20:00:00Z') });
    expect(again).toMatchObject({ day: DAY, created: [], ids: [], skipped: 3, reenqueued: [] });
    expect(await rowCount()).toBe(before);
  });

  it('a bargain left without a workflow (a crash between insert and start) is started by the next run', async () => {
    // Its first workflow writes workflow_id again when it marks the idea in production: let that happen before the simulated crash.
    const key = `bargain:ivan-romero:${DAY}`;
    await waitUntil(
      async () =>
        (await db().select().from(competitiveRecommendations).where(eq(competitiveRecommendations.dedupeKey, key)))[0]?.status !==
        'pending',
      { what: `${key} in production` },
    );
    const [row] = await db()
      .update(competitiveRecommendations)
      .set({ workflowId: null })
      .where(eq(competitiveRecommendations.dedupeKey, key))
      .returning();
    const again = await analyzer().generateDailyBargains({ date: NIGHT });
    expect(again).toMatchObject({ created: [], skipped: 3, reenqueued: [row!.id] });
    await expectWorkflowsStarted([row!.id]);
  });

  it('another day is a new set of chollos', async () => {
    const before = await rowCount();
    const next = await analyzer().generateDailyBargains({ date: new Date('2025-10-19T22:30:00Z'), limit: 2 });
    expect(next.day).toBe('2025-10-20');
    expect(next.created.map((r) => r.dedupeKey)).toEqual(['bargain:roger-brugue:2025-10-20', 'bargain:ivan-romero:2025-10-20']);
    expect(await rowCount()).toBe(before + 2);
    await expectWorkflowsStarted(next.ids);
  });

  it('ranks by points per million, then form, and never picks a player who is not fit', async () => {
    const roster = (await db().query.players.findMany()) as Player[];
    const ids = (players: Player[], limit = 10) => planDailyBargains({ players, day: DAY, limit }).bargains.map((b) => b.player.id);
    expect(ids(roster)).toEqual(['roger-brugue', 'ivan-romero', 'carlos-vicente', 'ante-budimir', 'pablo-fornals']);

    const doubtful = roster.map((p) => (p.id === 'ivan-romero' ? { ...p, injuryStatus: 'doubtful' } : p));
    expect(ids(doubtful, 3)).toEqual(['roger-brugue', 'carlos-vicente', 'ante-budimir']);

    // Same points per million as Budimir (48 / 6.2), better form: ahead of him.
    const twin: Player = { ...roster.find((p) => p.id === 'ante-budimir')!, id: 'budimir-twin', recentForm: 9 };
    expect(ids([...roster, twin]).slice(3, 5)).toEqual(['budimir-twin', 'ante-budimir']);
  });
});

describe('CLI: bad input', () => {
  it('exits 2 with one line naming the problem and writes nothing', async () => {
    const before = await rowCount();
    const cases: Array<[string[], RegExp]> = [
      [['bargains', '--limit', '0'], /bargains: limit must be a whole number from 1 to 10/],
      [['bargains', '--limit', 'tres'], /bargains: limit must be a whole number from 1 to 10/],
      [['bargains', '--limit', '11'], /bargains: limit must be a whole number from 1 to 10/],
      [['bargains', '--priority', 'P0'], /bargains: unknown flag --priority \(takes: --limit, --json, --help\)/],
      [['breaking'], /breaking needs --title/],
      [['breaking', '--player', 'pedri'], /breaking needs --title/],
      [['breaking', '--title', 'Ya'], /breaking: title must be at least 3 characters/],
      [
        ['breaking', '--title', 'Lesión de Pedri', '--platforms', 'myspace'],
        /breaking: jobConfig\.platforms\.0 must be one of instagram, tiktok, youtube/,
      ],
      [
        ['breaking', '--title', 'Lesión de Pedri', '--priority', 'P2'],
        /breaking: unknown flag --priority \(takes: --title, --player, --platforms, --json, --help\)/,
      ],
      [
        ['schedule', 'describe', 'weekly'],
        new RegExp(`unknown schedule "weekly"; one of ${Object.keys(SCHEDULES).join(', ')} or a schedule id`),
      ],
      [['schedule', 'rewind'], /schedule needs one of create, pause, unpause, trigger, describe/],
      // A misspelt name is not taken for the note of a pause of the hourly schedule.
      [
        ['schedule', 'pause', 'bargian'],
        /schedule pause: unknown schedule "bargian"; did you mean bargains\? \(a note goes after the name/,
      ],
      [['schedule', 'trigger', 'hourli'], /schedule trigger: unknown schedule "hourli"; did you mean hourly\?$/m],
    ];
    for (const [args, message] of cases) {
      const r = await cli(args);
      expect(r.code, args.join(' ')).toBe(2);
      expect(r.stderr.trim().split('\n'), args.join(' ')).toHaveLength(1);
      expect(r.stderr, args.join(' ')).toMatch(message);
    }
    expect(await rowCount()).toBe(before);
  });
});

describe('the daily bargains schedule', () => {
  it("runs every day at 08:00 Madrid time, keeps an operator pause, and a triggered run creates the day's chollos", async () => {
    const scheduleId = `bargains-${h.taskQueue}`;
    try {
      expect(await ensureDailyBargainsSchedule(h.client, { scheduleId, taskQueue: h.taskQueue })).toEqual({ scheduleId, created: true });
      await pauseSchedule(h.client, scheduleId, 'mercado cerrado');
      expect(await ensureDailyBargainsSchedule(h.client, { scheduleId, taskQueue: h.taskQueue })).toEqual({ scheduleId, created: false });
      const d = (await describeSchedule(h.client, scheduleId))!;
      expect(d.state).toMatchObject({ paused: true, note: 'mercado cerrado' });
      expect(d.spec.timezone).toBe('Europe/Madrid');
      expect(d.spec.calendars?.[0]).toMatchObject({ hour: [{ start: 8, end: 8 }], minute: [{ start: 0, end: 0 }] });
      expect(d.policies).toMatchObject({ overlap: 'SKIP', catchupWindow: 24 * HOUR });
      expect(d.action).toMatchObject({
        workflowType: DAILY_BARGAINS_WORKFLOW,
        taskQueue: h.taskQueue,
        workflowRunTimeout: 30 * 60_000,
        args: [{ limit: 3 }],
      });

      // A paused schedule still runs when triggered.
      const runs = async () => (await describeSchedule(h.client, scheduleId))!.info.recentActions;
      await triggerSchedule(h.client, scheduleId);
      const [first] = await waitUntil(async () => ((await runs()).length === 1 ? runs() : undefined), { what: 'the triggered run' });
      const handle = h.client.workflow.getHandle(first!.action.workflow.workflowId);
      const summary = (await handle.result()) as DailyBargainsSummary;
      expect(summary.day).toBe(bargainDay((await handle.describe()).startTime));
      expect(summary.day).not.toBe(DAY);
      expect(summary.created.map((c) => [c.targetPlayer, c.priority])).toEqual([
        ['roger-brugue', 'P1'],
        ['ivan-romero', 'P1'],
        ['carlos-vicente', 'P1'],
      ]);
      for (const c of summary.created) expect(c.workflowId).toBe(recommendationWorkflowId(c.id));
      await expectWorkflowsStarted(summary.created.map((c) => c.id));

      // A second run the same day (SKIP lets it start once the first has ended) adds nothing.
      await triggerSchedule(h.client, scheduleId);
      const second = await waitUntil(async () => ((await runs()).length === 2 ? (await runs())[1] : undefined), { what: 'the second run' });
      expect(await h.client.workflow.getHandle(second.action.workflow.workflowId).result()).toMatchObject({ created: [], skipped: 3 });
    } finally {
      await h.client.schedule
        .getHandle(scheduleId)
        .delete()
        .catch(() => undefined);
    }
  });

  it("`schedule create` creates or updates every schedule; pause, trigger and describe take the schedule's name", async () => {
    // A queue nobody serves: these are the deployment's real schedule ids, their runs must not touch this database.
    const env = { REELFLOW_TASK_QUEUE: `${h.taskQueue}-cli` };
    const ids = Object.values(SCHEDULES).map((s) => s.id);
    try {
      const created = await cli(['schedule', 'create', '--json'], env);
      expect(created.code).toBe(0);
      expect(JSON.parse(created.stdout)).toEqual(ids.map((scheduleId) => ({ scheduleId, created: true })));
      const again = await cli(['schedule', 'create'], env);
      expect(again.stdout.trim().split('\n')).toEqual(ids.map((id) => `updated schedule ${id}`));

      const daily = await cli(['schedule', 'describe', 'bargains', '--json'], env);
      expect(JSON.parse(daily.stdout)).toMatchObject({
        scheduleId: DAILY_BARGAINS_SCHEDULE_ID,
        workflowType: DAILY_BARGAINS_WORKFLOW,
        taskQueue: env.REELFLOW_TASK_QUEUE,
        timezone: 'Europe/Madrid',
        calendars: [{ hour: [{ start: 8, end: 8 }], minute: [{ start: 0, end: 0 }] }],
        overlap: 'SKIP',
        catchupWindowMs: 24 * HOUR,
        paused: false,
      });
      const next = new Date(JSON.parse(daily.stdout).nextRuns[0]);
      expect(new Intl.DateTimeFormat('en-GB', { timeZone: 'Europe/Madrid', hour: '2-digit', minute: '2-digit' }).format(next)).toBe(
        '08:00',
      );
      // Without --json: a summary for people, not the JSON.
      const human = (await cli(['schedule', 'describe', 'bargains'], env)).stdout;
      expect(human).not.toMatch(/^\s*\{/);
      expect(human).toMatch(`${DAILY_BARGAINS_SCHEDULE_ID}  runs ${DAILY_BARGAINS_WORKFLOW} on ${env.REELFLOW_TASK_QUEUE}`);
      expect(human).toMatch(/when: +every day at 8:00 in Europe\/Madrid \(Europe\/Madrid\), overlap SKIP/);
      expect(human).toMatch(/paused: +no/);
      expect(human).toMatch(`next runs: ${JSON.parse(daily.stdout).nextRuns[0]}`);
      expect(human).toMatch(/last runs: none yet/);

      expect((await cli(['schedule', 'pause', 'bargains', 'sin', 'mercado'], env)).stdout).toMatch(`paused ${DAILY_BARGAINS_SCHEDULE_ID}`);
      expect((await cli(['schedule', 'pause', 'maintenance'], env)).stdout).toMatch(`paused ${HOURLY_SCHEDULE_ID}`);
      expect((await describeSchedule(h.client, DAILY_BARGAINS_SCHEDULE_ID))!.state).toMatchObject({ paused: true, note: 'sin mercado' });
      expect((await describeSchedule(h.client, HOURLY_SCHEDULE_ID))!.state).toMatchObject({ paused: true, note: 'maintenance' });
      await cli(['schedule', 'unpause', 'reelflow-bargains-daily'], env);
      expect((await describeSchedule(h.client, DAILY_BARGAINS_SCHEDULE_ID))!.state.paused).toBe(false);
      expect((await describeSchedule(h.client, HOURLY_SCHEDULE_ID))!.state.paused).toBe(true);

      // A trigger names the run it started (Temporal's own answer says nothing about it)...
      const triggered = await cli(['schedule', 'trigger', 'bargains', '--json'], env);
      expect(triggered.code, triggered.stderr).toBe(0);
      const started = JSON.parse(triggered.stdout);
      const run = (await describeSchedule(h.client, DAILY_BARGAINS_SCHEDULE_ID))!.info.recentActions[0]!;
      expect(started).toEqual({
        scheduleId: DAILY_BARGAINS_SCHEDULE_ID,
        triggered: true,
        outcome: 'started',
        workflowId: run.action.workflow.workflowId,
        runId: run.action.workflow.firstExecutionRunId,
      });
      expect(run.action.workflow.workflowId.startsWith(DAILY_BARGAINS_SCHEDULE_ID)).toBe(true);
      // ...and says when SKIP swallowed it because that run (on a queue nobody serves) is still going.
      const skipped = await cli(['schedule', 'trigger', 'bargains'], env);
      expect(skipped.stdout.trim(), skipped.stderr).toBe(
        `triggered ${DAILY_BARGAINS_SCHEDULE_ID}, but its overlap policy is SKIP ` +
          `and ${run.action.workflow.workflowId} is still running: no new run`,
      );
      expect((await cli(['schedule', 'describe', 'bargains'], env)).stdout).toMatch(`running:   ${run.action.workflow.workflowId}`);
      await h.client.workflow.getHandle(run.action.workflow.workflowId).terminate('test over');
    } finally {
      for (const id of ids)
        await h.client.schedule
          .getHandle(id)
          .delete()
          .catch(() => undefined);
    }
  });
});

describe('CLI: bargains and breaking news', () => {
  it('`bargains` runs the daily bargains now and prints what it created', async () => {
    const today = bargainDay(new Date());
    const before = await rowCount();
    // Today's three exist (the triggered schedule run); a fourth is Budimir.
    const r = await cli(['bargains', '--limit', '4', '--json']);
    expect(r.code, r.stderr).toBe(0);
    const out = JSON.parse(r.stdout);
    expect(out).toMatchObject({ day: today, candidates: 5, skipped: 3, reenqueued: [] });
    expect(out.created.map((c: { dedupeKey: string }) => c.dedupeKey)).toEqual([`bargain:ante-budimir:${today}`]);
    expect(await rowCount()).toBe(before + 1);
    await expectWorkflowsStarted(out.ids);

    const human = await cli(['bargains']);
    expect(human.stdout).toMatch(`bargains of ${today}: created 0, skipped 3 already known (5 players qualify)`);
  });

  it('`breaking` enqueues a P0 breaking_news with a 24 h deadline and starts its workflow', async () => {
    const r = await cli([
      'breaking',
      '--title',
      'Última hora: Lewandowski, baja dos semanas',
      '--player',
      'robert-lewandowski',
      '--platforms',
      'instagram,tiktok',
      '--json',
    ]);
    expect(r.code, r.stderr).toBe(0);
    const { recommendation, workflowId, started } = JSON.parse(r.stdout);
    expect(started).toBe(true);
    const [row] = await rowsOf([recommendation.id]);
    expect(row).toMatchObject({
      priority: 'P0',
      recommendationType: 'breaking_news',
      source: 'breaking_news',
      targetPlayer: 'robert-lewandowski',
      title: 'Última hora: Lewandowski, baja dos semanas',
      jobConfig: { platforms: ['instagram', 'tiktok'] },
      workflowId,
    });
    expect((row!.urgencyDeadline!.getTime() - row!.createdAt.getTime()) / HOUR).toBe(24);
    const described = await h.client.workflow.getHandle(workflowId).describe();
    expect(described.type).toBe('recommendationWorkflow');
    expect(described.typedSearchAttributes.get(SEARCH_ATTRIBUTES.priority)).toBe('P0');
  });
});
