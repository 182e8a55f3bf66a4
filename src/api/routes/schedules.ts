/** The Temporal Schedules: /api/schedule is the hourly one, /api/schedules/:name any. */
import type { FastifyInstance } from 'fastify';
import { ok, operator, read, type RouteContext, type ScheduleController } from '../context';
import { ApiError } from '../../shared/errors';

export function registerScheduleRoutes(app: FastifyInstance, { opts }: RouteContext): void {
  function requireSchedule(name: string): ScheduleController {
    const schedules = opts.schedules;
    if (!schedules) throw new ApiError(503, 'schedules are not available on this server');
    // Own keys only: "constructor" or "__proto__" must be an unknown schedule, not Object.prototype's.
    const schedule = Object.hasOwn(schedules, name) ? schedules[name] : undefined;
    if (!schedule) throw new ApiError(404, `no schedule "${name}"; one of ${Object.keys(schedules).join(', ')}`);
    return schedule;
  }

  app.get('/api/schedule', read, async () => ok(await requireSchedule('hourly').describe()));
  app.get('/api/schedules/:name', read, async (req) => ok(await requireSchedule((req.params as { name: string }).name).describe()));

  for (const action of ['pause', 'unpause', 'trigger'] as const) {
    const done = { schedule: action === 'trigger' ? 'triggered' : `${action}d` };
    app.post(`/api/schedule/${action}`, operator(`schedule.${action}`), async (req) => {
      await requireSchedule('hourly')[action]();
      req.call = { target: 'hourly' };
      return ok(done);
    });
    app.post(`/api/schedules/:name/${action}`, operator(`schedule.${action}`), async (req) => {
      const { name } = req.params as { name: string };
      await requireSchedule(name)[action]();
      req.call = { target: name };
      return ok(done);
    });
  }
}
