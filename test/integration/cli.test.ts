/**
 * The operators' CLI as a real process: clear one-line errors with exit code 2
 * for bad input and 1 for a server that is down, nothing written either way,
 * and the happy path end to end.
 */
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { clockTime } from '../../src/cli/format';
import { runCli, startHarness, type Harness } from '../helpers/harness';

const CLI = path.resolve(__dirname, '../../src/cli/main.ts');

let h: Harness;
beforeAll(async () => {
  h = await startHarness();
});
afterAll(async () => h?.stop());

const cli = (args: string[], env: Record<string, string> = {}) => runCli(h, args, env);
const count = async () => Number((await h.db.database.pool.query('SELECT count(*) AS n FROM competitive_recommendations')).rows[0].n);
/** What a bad id on a command about one idea is told. */
const IDEA_REF = 'must be a recommendation or job id (a UUID) or a workflow id (recommendation-<UUID>)';
const base = ['enqueue', '--title', 'Budimir, el delantero infravalorado', '--type', 'player_spotlight', '--player', 'ante-budimir'];

describe('reelflow CLI', () => {
  it('rejects bad input with exit code 2, one line naming the field, and writes nothing', async () => {
    const before = await count();
    const cases: Array<[string[], RegExp]> = [
      [[...base, '--priority', 'P4'], /priority must be one of P0, P1, P2, P3/],
      // Each field named by the flag that set it (the API's names, jobConfig.platforms.1, are not what was typed).
      [
        [...base, '--priority', 'P1', '--platforms', 'instagram,myspace'],
        /enqueue: --platforms item 2 must be one of instagram, tiktok, youtube/,
      ],
      [[...base, '--priority', 'P1', '--config', '{"provider":"runway"}'], /enqueue: --config provider must be one of veo3/],
      // An empty list is not "every platform" (a script's empty $PLATFORMS must not post everywhere), nor is one twice two posts.
      [[...base, '--priority', 'P1', '--platforms', ''], /enqueue: --platforms item 1 must be one of instagram, tiktok, youtube/],
      [[...base, '--priority', 'P1', '--platforms', 'youtube,youtube'], /enqueue: --platforms lists a platform twice/],
      [
        [...base, '--priority', 'P1', '--config', '{"approval":{"beforePublish":["tiktok","tiktok"]}}'],
        /enqueue: --config approval\.beforePublish lists a platform twice/,
      ],
      [
        [...base, '--priority', 'P1', '--config', '{"imageUrl":"file:///etc/passwd"}'],
        /enqueue: --config imageUrl must be an http\(s\) URL/,
      ],
      [
        ['enqueue', '--title', 'Budimir', '--type', 'player_spotlight', '--player', '', '--priority', 'P1'],
        /enqueue: --player must not be empty\n/,
      ],
      [[...base, '--priority', 'P1', '--config', '{not json'], /--config is not valid JSON/],
      [[...base, '--priority', 'P1', '--schedule-after', 'tomorrow'], /enqueue: --schedule-after must be an ISO-8601 date-time/],
      [[...base, '--priority', 'P1', '--source', 'rumour'], /enqueue: --source must be one of competitor, bargain/],
      [['status', 'not-a-uuid'], /id must be a recommendation or job id \(a UUID\) or a workflow id \(recommendation-<UUID>\)/],
      [['cancel', '7f1d8a52-0000-4000-8000-000000000000'], /no recommendation or job/],
      [['frobnicate'], /unknown command "frobnicate"/],
      // A word the command does not read is refused, not dropped (the note, the stage guard).
      [
        ['approve', '7f1d8a52-0000-4000-8000-000000000000', 'looks good'],
        /^reelflow: approve takes at most 1 argument \(got "looks good"\)/,
      ],
      [['list', 'open'], /^reelflow: list takes no arguments \(got "open"\)/],
      [['competitor', 'ingest', 'a.json', 'b.json'], /competitor ingest reads one file \(got "b\.json" too\)/],
      [['list', '--status', 'bogus'], /list: status must be one of pending, in_production/],
      [['list', '--jobs', '--status', 'queued,bogus'], /list: status\.1 must be one of queued/],
      [['list', '--limit', 'abc'], /list: limit must be a number/],
      [
        ['recommendations', 'generate', '--limit', 'abc'],
        /^reelflow: --limit \(days of videos to read\) must be an integer from 1 to 90 \(got "abc"\)/,
      ],
      [['recommendations', 'generate', '--limit', ''], /--limit \(days of videos to read\) must be an integer/],
      [['list', '--provider', 'veo3'], /--provider filters jobs; add --jobs/],
      [['reprioritise', '7f1d8a52-0000-4000-8000-000000000000', 'p0'], /^reelflow: priority must be one of P0, P1, P2, P3\n/],
      [['roster', 'load', '/nonexistent/players.json'], /\/nonexistent\/players\.json: no such file/],
      [['competitor', 'ingest', path.resolve(__dirname, '../../package.json')], /package\.json must hold a JSON array of videos/],
      [['competitor', 'ingest', CLI], /main\.ts: not valid JSON/],
    ];
    for (const [args, message] of cases) {
      const r = await cli(args);
      expect(r.code, args.join(' ')).toBe(2);
      expect(r.stderr.trim().split('\n')).toHaveLength(1);
      expect(r.stderr).toMatch(message);
    }
    expect(await count()).toBe(before);
  });

  it('rejects a flag the command does not take, naming the flags it does take, before anything is written or started', async () => {
    const before = await count();
    const id = '7f1d8a52-0000-4000-8000-000000000000';
    // A flag of another command used to be ignored: `enqueue --provider sora` started a paid render.
    const cases: Array<[string[], string, string]> = [
      [[...base, '--priority', 'P1', '--provider', 'sora'], 'enqueue', 'provider'],
      [['list', '--reason', 'x'], 'list', 'reason'],
      [['status', id, '--workflow'], 'status', 'workflow'],
      [['cancel', id, '--title', 'x'], 'cancel', 'title'],
      [['reprioritise', id, 'P0', '--reason', 'x'], 'reprioritise', 'reason'],
      [['capacity', '--jobs'], 'capacity', 'jobs'],
      [['workers', '--limit', '3'], 'workers', 'limit'],
      [['bargains', '--priority', 'P2'], 'bargains', 'priority'],
      [['breaking', '--title', 'x', '--priority', 'P2'], 'breaking', 'priority'],
      [['schedule', 'trigger', 'hourly', '--limit', '1'], 'schedule', 'limit'],
      [['roster', 'load', '--title', 'x'], 'roster', 'title'],
      [['competitor', 'ingest', '--provider', 'openai'], 'competitor', 'provider'],
      [['recommendations', 'stats', '--limit', '3'], 'recommendations stats', 'limit'],
      [['token:create', '--name', 'n', '--role', 'read', '--limit', '1'], 'token:create', 'limit'],
      [['token:list', '--name', 'n'], 'token:list', 'name'],
      [['token:revoke', id, '--role', 'read'], 'token:revoke', 'role'],
      [['list', '--frobnicate'], 'list', 'frobnicate'],
    ];
    for (const [args, label, flag] of cases) {
      const r = await cli(args);
      expect(r.code, args.join(' ')).toBe(2);
      expect(r.stderr.trim().split('\n'), args.join(' ')).toHaveLength(1);
      expect(r.stderr, args.join(' ')).toMatch(new RegExp(`^reelflow: ${label}: unknown flag --${flag} \\(takes: `));
    }
    expect((await cli([...base, '--priority', 'P1', '--provider', 'sora'])).stderr).toContain(
      '(takes: --title, --type, --priority, --player, --platforms, --schedule-after, --deadline, --config, --our-data, ' +
        '--source, --recommendation, --json, --help)',
    );
    const restart = await cli(['enqueue', '--recommendation', id, '--priority', 'P0']);
    expect(restart.code).toBe(2);
    expect(restart.stderr).toMatch(/enqueue --recommendation starts an existing recommendation as it is; --priority would be ignored/);
    expect(await count()).toBe(before);
    expect(h.sims.veo3.stats().submissions).toBe(0);
  });

  it('says which server is down, exits 1 and leaves no row or workflow behind', async () => {
    const before = await count();
    const noTemporal = await cli([...base, '--priority', 'P1'], { TEMPORAL_ADDRESS: '127.0.0.1:1' });
    expect(noTemporal.code).toBe(1);
    expect(noTemporal.stderr).toMatch(/cannot reach the Temporal server at 127\.0\.0\.1:1/);
    const noDb = await cli([...base, '--priority', 'P1'], { DATABASE_URL: 'postgres://postgres@127.0.0.1:1/reelflow' });
    expect(noDb.code).toBe(1);
    expect(noDb.stderr).toMatch(/cannot reach PostgreSQL/);
    // A bad id is bad input whichever server is down: it was checked after connecting, and read as an outage.
    const downs: Array<Record<string, string>> = [
      { TEMPORAL_ADDRESS: '127.0.0.1:1' },
      { DATABASE_URL: 'postgres://postgres@127.0.0.1:1/reelflow' },
    ];
    for (const down of downs) {
      for (const args of [
        ['status', 'not-an-id'],
        ['cancel', 'recommendation-nope'],
        ['approve', 'x'],
      ]) {
        const r = await cli(args, down);
        expect(r.code, `${args.join(' ')} ${JSON.stringify(down)}`).toBe(2);
        expect(r.stderr.trim()).toBe(`reelflow: id ${IDEA_REF}`);
      }
    }
    expect(await count()).toBe(before);
  });

  it('takes --schedule-after and --deadline: the job waits for its time, the deadline is the one given', async () => {
    const after = new Date(Date.now() + 3_600_000);
    const deadline = new Date(Date.now() + 2 * 3_600_000);
    const r = await cli([
      ...base,
      '--priority',
      'P3',
      '--platforms',
      'instagram',
      '--schedule-after',
      after.toISOString(),
      '--deadline',
      deadline.toISOString(),
      '--json',
    ]);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    const { recommendation, workflowId } = JSON.parse(r.stdout);
    expect(new Date(recommendation.scheduleAfter).getTime()).toBe(after.getTime());
    expect(new Date(recommendation.urgencyDeadline).getTime()).toBe(deadline.getTime());
    const status = JSON.parse((await cli(['status', recommendation.id, '--json'])).stdout);
    expect(status.recommendation.status).toBe('pending');
    expect(status.workflow.status).toBe('RUNNING');
    await h.client.workflow.getHandle(workflowId).cancel();
  });

  it('takes the workflow id (recommendation-<uuid>, as the Web UI shows it) wherever it takes a recommendation id', async () => {
    const after = new Date(Date.now() + 3_600_000).toISOString();
    const { recommendation, workflowId } = JSON.parse(
      (await cli([...base, '--priority', 'P3', '--schedule-after', after, '--json'])).stdout,
    );
    expect(workflowId).toBe(`recommendation-${recommendation.id}`);
    const restart = await cli(['enqueue', '--recommendation', workflowId, '--json']);
    expect(restart.stderr).toBe('');
    expect(JSON.parse(restart.stdout)).toMatchObject({ started: false, workflowId });
    const status = await cli(['status', workflowId, '--json']);
    expect(JSON.parse(status.stdout).recommendation.id).toBe(recommendation.id);
    const re = await cli(['reprioritise', workflowId, 'P1', '--json']);
    expect(JSON.parse(re.stdout).priority).toBe('P1');
    const cancel = await cli(['cancel', workflowId]);
    expect(cancel.stderr).toBe('');
    expect(cancel.stdout.trim()).toBe(`cancellation requested for ${recommendation.id}`);
    // Still a UUID behind the prefix: anything else is named as the bad id.
    const bad = await cli(['status', 'recommendation-nope']);
    expect(bad.code).toBe(2);
    expect(bad.stderr.trim()).toBe(`reelflow: id ${IDEA_REF}`);
  });

  it('enqueues, lists, shows status, reprioritises and cancels', async () => {
    h.sims.veo3.setFaults({ taskDurationMs: 60_000 });
    const enq = await cli([...base, '--priority', 'P2', '--platforms', 'instagram', '--json']);
    expect(enq.code).toBe(0);
    const { recommendation, workflowId } = JSON.parse(enq.stdout);
    const list = await cli(['list', '--json']);
    expect(JSON.parse(list.stdout).map((r: { id: string }) => r.id)).toContain(recommendation.id);
    const re = await cli(['reprioritise', workflowId, 'P0', '--json']);
    expect(re.code).toBe(0);
    expect(JSON.parse(re.stdout).priority).toBe('P0');
    const status = await cli(['status', recommendation.id, '--json']);
    const s = JSON.parse(status.stdout);
    expect(s.recommendation.priority).toBe('P0');
    expect(s.workflow.status).toBe('RUNNING');
    expect(s.jobs.map((j: { step: string }) => j.step)).toEqual(['analyze', 'generate', 'publish:instagram']);

    // Temporal down: what PostgreSQL answers alone still answers (an outage is when the queue is wanted), with a warning
    // on stderr; what needs Temporal fails, saying so. It used to refuse every command.
    const down = { TEMPORAL_ADDRESS: '127.0.0.1:1' };
    const warning = /^reelflow: cannot reach the Temporal server at 127\.0\.0\.1:1 .*; showing what PostgreSQL holds$/;
    const [downList, downStatus, downHuman, downCapacity] = await Promise.all([
      cli(['list', '--json'], down),
      cli(['status', recommendation.id, '--json'], down),
      cli(['status', recommendation.id], down),
      cli(['capacity', 'veo3', '--json'], down),
    ]);
    for (const r of [downList, downStatus, downHuman, downCapacity]) {
      expect(r.code, r.stderr).toBe(0);
      expect(r.stderr.trim()).toMatch(warning);
    }
    expect(JSON.parse(downList.stdout).map((r: { id: string }) => r.id)).toContain(recommendation.id);
    const offline = JSON.parse(downStatus.stdout);
    expect(offline).toMatchObject({ recommendation: { id: recommendation.id, priority: 'P0' }, workflow: null });
    expect(offline.temporalDown).toMatch(/cannot reach the Temporal server/);
    expect(offline.jobs).toHaveLength(3);
    expect(downHuman.stdout).toContain('  workflow: unknown (the Temporal server is unreachable)');
    expect(JSON.parse(downCapacity.stdout)[0]).toMatchObject({ provider: 'veo3' });
    for (const args of [['cancel', recommendation.id], ['capacity', '--workflow'], ['workers']]) {
      const r = await cli(args, down);
      expect(r.code, args.join(' ')).toBe(1);
      expect(r.stderr.trim(), args.join(' ')).toMatch(/^reelflow: cannot reach the Temporal server at 127\.0\.0\.1:1 /);
      expect(r.stderr, args.join(' ')).not.toContain('showing what PostgreSQL holds');
    }

    const cancel = await cli(['cancel', recommendation.id]);
    expect(cancel.code).toBe(0);
    expect(
      await h.client.workflow
        .getHandle(workflowId)
        .describe()
        .then(async (d) => {
          await h.client.workflow
            .getHandle(workflowId)
            .result()
            .catch(() => undefined);
          return (await h.client.workflow.getHandle(workflowId).describe()).status.name ?? d.status.name;
        }),
    ).toBe('CANCELLED');
    const again = await cli(['cancel', recommendation.id]);
    expect(again.code).toBe(2);
    expect(again.stderr.trim()).toBe(`reelflow: recommendation ${recommendation.id} is already cancelled: nothing to cancel`);
    // Several at once, some not cancellable: exit 1, and the audit row of the command gets its outcome.
    const several = await cli(['cancel', recommendation.id, '7f1d8a52-0000-4000-8000-000000000000']);
    expect(several.code).toBe(1);
    const [outcome] = (
      await h.db.database.pool.query(
        `SELECT detail FROM audit_log WHERE action = 'recommendation.cancel' AND target = $1 AND detail ? 'outcome'
          ORDER BY id DESC LIMIT 1`,
        [recommendation.id],
      )
    ).rows as Array<{ detail: { outcome: string; exit: number; error: string } }>;
    expect(outcome!.detail).toMatchObject({ outcome: 'failed', exit: 1 });
    expect(outcome!.detail.error).toMatch(/^2 of 2 not cancelled: /);
    const human = await cli(['capacity']);
    expect(human.stdout).toMatch(/provider\s+in_use\s+cap/);
  });

  it('shows when each waiting job should start and what it waits for, and the quotas with their use and reset', async () => {
    const sql = (text: string, params: unknown[] = []) => h.db.database.pool.query(text, params);
    // Only what this test spends counts: earlier tests' posts and the platform's last reading are cleared.
    await sql(`DELETE FROM quota_usage WHERE quota = 'instagram_posts'`);
    await sql(
      `UPDATE provider_quotas SET reported_at = NULL, reported_remaining = NULL, reported_limit = NULL WHERE name = 'instagram_posts'`,
    );
    // Instagram's quota, compressed: 1 post per moving 10 min, spent 6 min ago, so a unit comes back in 4 min.
    await sql(`UPDATE provider_quotas SET quota_limit = 1, window_seconds = 600 WHERE name = 'instagram_posts'`);
    await sql(`INSERT INTO quota_usage (quota, units, used_at) VALUES ('instagram_posts', 1, now() - interval '6 minutes')`);
    await sql(`UPDATE provider_quotas SET parked_until = now() + interval '2 hours', parked_reason = 'spam_risk_too_many_posts'
                WHERE name = 'tiktok_posts'`);
    const { rows } = await sql(
      `INSERT INTO competitive_recommendations (priority, recommendation_type, title, status)
       VALUES ('P1', 'player_spotlight', 'Budimir espera su turno', 'in_production') RETURNING id`,
    );
    const recId = rows[0].id as string;
    const job = await sql(
      `SELECT id FROM enqueue_job('wf-cli-quota', 'publish:instagram', 'instagram_reel', 'instagram', 'P1', '{}'::jsonb, $1,
                                  NULL, now() + interval '2 minutes', 30, 3)`,
      [recId],
    );
    const jobId = job.rows[0].id as string;
    const deadline = (await sql(`SELECT deadline FROM automation_queue WHERE id = $1`, [jobId])).rows[0].deadline as Date;
    // Its activity asks for a slot; the quota is spent, so the gate leaves it in line.
    await sql(`SELECT wait_for_slot($1, 1)`, [jobId]);
    try {
      const quota = (await sql(`SELECT reset_at FROM quota_status WHERE name = 'instagram_posts'`)).rows[0] as { reset_at: Date };
      const reset = quota.reset_at;
      expect(reset.getTime() - Date.now()).toBeGreaterThan(3 * 60_000);

      const json = JSON.parse((await cli(['status', recId, '--json'])).stdout);
      expect(json.jobs).toEqual([
        expect.objectContaining({
          id: jobId,
          eta: reset.toISOString(),
          waitingFor: 'quota',
          waitingForQuota: 'instagram_posts',
        }),
      ]);
      const human = await cli(['status', recId]);
      expect(human.stderr).toBe('');
      expect(human.stdout).toMatch(
        // Its deadline (2 min) comes before the quota frees a post: the gate will let it expire, and status says so.
        new RegExp(
          `publish:instagram: starts ~${clockTime(reset)} \\(in (4|3) min; waiting for quota instagram_posts\\), ` +
            `after its deadline ${clockTime(deadline)}: expires unstarted\n`,
        ),
      );

      // Its history, each event with the step it belongs to (the steps of one idea interleave).
      expect(human.stdout).toMatch(/^ {2}\S+Z {2}publish:instagram {2}waiting {2}\{/m);

      const list = await cli(['list', '--jobs', '--provider', 'instagram']);
      expect(list.stdout).toMatch(/\beta\b/);
      const line = list.stdout.split('\n').find((l) => l.startsWith(jobId));
      expect(line).toMatch(new RegExp(`~${clockTime(reset)} in (4|3) min; quota instagram_posts`));
      const listJson = JSON.parse((await cli(['list', '--jobs', '--provider', 'instagram', '--json'])).stdout);
      expect(listJson.find((j: { id: string }) => j.id === jobId)).toMatchObject({ eta: reset.toISOString(), waitingFor: 'quota' });

      const capacity = await cli(['capacity']);
      expect(capacity.stdout).toMatch(/quotas and budgets/);
      const row = (name: string) => capacity.stdout.split('\n').find((l) => l.startsWith(`${name} `)) ?? '';
      expect(row('instagram_posts')).toMatch(new RegExp(`1/1 posts\\s+0\\s+${clockTime(reset)} \\(in (4|3) min\\)`));
      expect(row('tiktok_posts')).toMatch(/0\/15 posts\s+15\s+.*until .+ \(in (2 h|1 h 59 min)\): spam_risk_too_many_posts/);
      expect(row('veo3_credits_day')).toMatch(/0\/6000 credits/);
      const capJson = JSON.parse((await cli(['capacity', 'instagram', '--json'])).stdout);
      expect(capJson[0].quotas).toEqual([
        expect.objectContaining({ name: 'instagram_posts', used: 1, limit: 1, remaining: 0, resetAt: reset.toISOString() }),
      ]);
    } finally {
      await sql(`UPDATE automation_queue SET status = 'cancelled', waiting_since = NULL WHERE id = $1`, [jobId]);
      await sql(`DELETE FROM quota_usage WHERE quota = 'instagram_posts'`);
      await sql(`UPDATE provider_quotas SET quota_limit = 50, window_seconds = 86400 WHERE name = 'instagram_posts'`);
      await sql(`UPDATE provider_quotas SET parked_until = NULL, parked_reason = NULL WHERE name = 'tiktok_posts'`);
    }
  });
});
