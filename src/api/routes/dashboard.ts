/**
 * The dashboard: its static shell (public; it asks for a token and calls the
 * API with it) and the one read it polls, /api/dashboard.
 */
import fs from 'node:fs';
import path from 'node:path';
import type { FastifyInstance, FastifyReply } from 'fastify';
import type { Env } from '../../config/env';
import { ok, read, type RouteContext } from '../context';
import { ApiError } from '../../shared/errors';
import { listUnresolvedMentions } from '../../recommendations/name-directory';
import { dashboardSnapshot } from '../stats';
import type { QueueWorkers } from '../../temporal/queue-workers';

const DASHBOARD_DIR = path.resolve(__dirname, '../../dashboard');
const DASHBOARD_FILES: Record<string, string> = {
  'index.html': 'text/html; charset=utf-8',
  'app.js': 'text/javascript; charset=utf-8',
  'style.css': 'text/css; charset=utf-8',
};
/**
 * The page's policy. Videos an editor reviews are not ours to serve: KIE's result URL (its CDN), a reel on the media
 * server, our copy on S3 or behind REELFLOW_MEDIA_BASE_URL (signed). Under `default-src 'self'` alone every card's
 * player stayed black, the editor approving a post without seeing it. Media may come from any https origin, the
 * configured media and S3 origins, and loopback (the demo's and a workstation's servers); scripts stay our own.
 */
export function dashboardCsp(env: Partial<Pick<Env, 'REELFLOW_MEDIA_BASE_URL' | 'REELFLOW_S3_ENDPOINT'>>): string {
  const configured = [env.REELFLOW_MEDIA_BASE_URL, env.REELFLOW_S3_ENDPOINT].flatMap((u) => (u ? [new URL(u).origin] : []));
  const media = [...new Set(["'self'", 'https:', 'http://127.0.0.1:*', 'http://localhost:*', ...configured])].join(' ');
  return `default-src 'self'; style-src 'self'; script-src 'self'; img-src 'self' data:; media-src ${media}; frame-ancestors 'none'`;
}

export function registerDashboardRoutes(app: FastifyInstance, ctx: RouteContext): void {
  const files = loadDashboard();
  const csp = dashboardCsp(ctx.opts.env);
  const send = (reply: FastifyReply, file: string) => {
    // Own keys only: a name such as "constructor" must not find Object.prototype's.
    const body = Object.hasOwn(DASHBOARD_FILES, file) ? files.get(file) : undefined;
    if (body === undefined) throw new ApiError(404, `no dashboard file ${file}`);
    return reply
      .header('Content-Type', DASHBOARD_FILES[file]!)
      .header('X-Content-Type-Options', 'nosniff')
      .header('Content-Security-Policy', csp)
      .send(body);
  };
  app.get('/', async (_req, reply) => reply.redirect('/automation-calendar'));
  app.get('/automation-calendar', async (_req, reply) => send(reply, 'index.html'));
  app.get('/automation-calendar/:file', async (req, reply) => send(reply, (req.params as { file: string }).file));

  const { workers } = ctx.opts;
  // The dashboard still loads when Temporal does not answer; its workers panel then says so. A poll waits for the
  // ask at most WORKERS_WAIT_MS: an ask that gets no answer waits out its deadline (5 s), and the page, empty until its
  // first answer, must not wait with it (an API started while Temporal was down showed nothing for 5 s). An ask still
  // running is shared by the polls that come meanwhile, and what it learns serves the next poll. After an ask that
  // failed, the polls of the next WORKERS_QUIET_MS skip it, so the page refreshes from PostgreSQL at its pace through
  // an outage.
  let quietUntil = 0;
  let asking: Promise<void> | null = null;
  let known: { value: QueueWorkers[]; at: number } | null = null;
  const workersOrNull = async () => {
    if (!workers) return undefined;
    if (Date.now() < quietUntil) return null;
    asking ??= workers()
      .then(
        (value) => void (known = { value, at: Date.now() }),
        () => {
          known = null;
          quietUntil = Date.now() + WORKERS_QUIET_MS;
        },
      )
      .finally(() => (asking = null));
    let timer: NodeJS.Timeout | undefined;
    await Promise.race([asking, new Promise((resolve) => (timer = setTimeout(resolve, WORKERS_WAIT_MS)))]);
    clearTimeout(timer);
    // An answer older than the quiet period is no longer news about live workers.
    return known && Date.now() - known.at <= WORKERS_QUIET_MS ? known.value : null;
  };
  app.get('/api/dashboard', read, async () => {
    const [snapshot, live, unknownNames] = await Promise.all([
      dashboardSnapshot(ctx.opts.database.pool),
      workersOrNull(),
      listUnresolvedMentions(ctx.opts.database.db, 20),
    ]);
    return ok({ ...snapshot, workers: live, unknownNames });
  });
}

/** How long the dashboard leaves Temporal alone after it did not answer. */
const WORKERS_QUIET_MS = 15_000;
/** How long a dashboard poll waits for Temporal's live workers before it answers without them (a healthy ask: ms). */
const WORKERS_WAIT_MS = 1_000;

function loadDashboard(): Map<string, string> {
  const files = new Map<string, string>();
  for (const name of Object.keys(DASHBOARD_FILES)) files.set(name, fs.readFileSync(path.join(DASHBOARD_DIR, name), 'utf8'));
  return files;
}
