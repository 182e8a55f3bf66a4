/**
 * The dashboard: its static shell (public; it asks for a token and calls the
 * API with it) and the one read it polls, /api/dashboard.
 */
import fs from 'node:fs';
import path from 'node:path';
import type { FastifyInstance, FastifyReply } from 'fastify';
import { ok, read, type RouteContext } from '../context';
import { ApiError } from '../../shared/errors';
import { listUnresolvedMentions } from '../../recommendations/name-directory';
import { dashboardSnapshot } from '../stats';

const DASHBOARD_DIR = path.resolve(__dirname, '../../dashboard');
const DASHBOARD_FILES: Record<string, string> = {
  'index.html': 'text/html; charset=utf-8',
  'app.js': 'text/javascript; charset=utf-8',
  'style.css': 'text/css; charset=utf-8',
};
const CSP = "default-src 'self'; style-src 'self'; script-src 'self'; img-src 'self' data:; frame-ancestors 'none'";

export function registerDashboardRoutes(app: FastifyInstance, ctx: RouteContext): void {
  const files = loadDashboard();
  const send = (reply: FastifyReply, file: string) => {
    // Own keys only: a name such as "constructor" must not find Object.prototype's.
    const body = Object.hasOwn(DASHBOARD_FILES, file) ? files.get(file) : undefined;
    if (body === undefined) throw new ApiError(404, `no dashboard file ${file}`);
    return reply
      .header('Content-Type', DASHBOARD_FILES[file]!)
      .header('X-Content-Type-Options', 'nosniff')
      .header('Content-Security-Policy', CSP)
      .send(body);
  };
  app.get('/', async (_req, reply) => reply.redirect('/automation-calendar'));
  app.get('/automation-calendar', async (_req, reply) => send(reply, 'index.html'));
  app.get('/automation-calendar/:file', async (req, reply) => send(reply, (req.params as { file: string }).file));

  const { workers } = ctx.opts;
  // The dashboard still loads when Temporal does not answer; its workers panel then says so. Each ask that gets no
  // answer waits out its deadline (5 s) and the page polls every 1.5 s: after one, the polls of the next
  // WORKERS_QUIET_MS skip the ask, so the page keeps refreshing from PostgreSQL at its pace through an outage.
  let quietUntil = 0;
  const workersOrNull = async () => {
    if (!workers) return undefined;
    if (Date.now() < quietUntil) return null;
    try {
      return await workers();
    } catch {
      quietUntil = Date.now() + WORKERS_QUIET_MS;
      return null;
    }
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

function loadDashboard(): Map<string, string> {
  const files = new Map<string, string>();
  for (const name of Object.keys(DASHBOARD_FILES)) files.set(name, fs.readFileSync(path.join(DASHBOARD_DIR, name), 'utf8'));
  return files;
}
