/**
 * The API's one error shape: `{ ok: false, error: { message } }`. A 4xx says
 * what was wrong; a 500 says "internal error" and its details stay in the log.
 */
import { ScheduleNotFoundError, ServiceError, WorkflowUpdateFailedError } from '@temporalio/client';
import type { FastifyInstance } from 'fastify';
import { z } from 'zod';
import { ApiError, BadInputError, ConflictError, NotFoundError } from '../shared/errors';
import { redactUrl } from './redact';
import { DATABASE_CONNECTION_ERROR_CODES } from '../shared/connection-errors';
import { zodErrorMessage } from '../validation';

export const errorBody = (message: string) => ({ ok: false as const, error: { message } });

/** The error handler and the not-found handler, both in the one shape. */
export function registerErrorHandlers(app: FastifyInstance): void {
  app.setErrorHandler(async (err: unknown, req, reply) => {
    const { status, message } = describeError(err);
    // An ApiError is a deliberate answer; anything else at 5xx is a bug or an outage worth its stack.
    if (status >= 500 && !(err instanceof ApiError)) req.log.error({ err }, 'api call failed');
    return reply.status(status).send(errorBody(message));
  });
  app.setNotFoundHandler(async (req, reply) =>
    reply.status(404).send(errorBody(`no route ${req.method} ${redactUrl(req.url).split('?')[0]}`)),
  );
}

/** Status and public message of any error; internals stay in the log. */
function describeError(err: unknown): { status: number; message: string } {
  if (err instanceof ApiError) return { status: err.statusCode, message: err.message };
  if (err instanceof BadInputError) return { status: 400, message: err.message };
  if (err instanceof NotFoundError) return { status: 404, message: err.message };
  if (err instanceof ConflictError) return { status: 409, message: err.message };
  if (err instanceof ScheduleNotFoundError)
    return { status: 404, message: 'the schedule does not exist; create it with `reelflow schedule create`' };
  if (err instanceof z.ZodError) return { status: 400, message: zodErrorMessage(err) };
  // Our workflow's validators reject with messages written for operators (e.g. "already publishing").
  if (err instanceof WorkflowUpdateFailedError) return { status: 409, message: err.cause?.message ?? err.message };
  const code = rootCode(err);
  // Raw workflowService calls (the workers' pollers) fail with grpc-js's own error, not a ServiceError: its code is a
  // number, which no database error has.
  if ((err instanceof ServiceError || typeof code === 'number') && (code === GRPC_UNAVAILABLE || code === GRPC_DEADLINE_EXCEEDED)) {
    return { status: 503, message: 'the Temporal server is unavailable; try again shortly' };
  }
  const e = err as { statusCode?: number; message?: string };
  // Fastify's own client errors: bad JSON, wrong content type, body too large.
  if (typeof e.statusCode === 'number' && e.statusCode >= 400 && e.statusCode < 500) {
    return { status: e.statusCode, message: e.message ?? 'bad request' };
  }
  if (typeof code === 'string' && DATABASE_CONNECTION_ERROR_CODES.has(code)) {
    return { status: 503, message: 'the database is unavailable; try again shortly' };
  }
  return { status: 500, message: 'internal error' };
}

const GRPC_DEADLINE_EXCEEDED = 4;
const GRPC_UNAVAILABLE = 14;

/** The first `code` along the cause chain (drizzle and the Temporal client wrap the original error). */
function rootCode(err: unknown): string | number | undefined {
  for (let e = err as { code?: unknown; cause?: unknown } | undefined, depth = 0; e && depth < 5; e = e.cause as typeof e, depth++) {
    if (typeof e.code === 'string' || typeof e.code === 'number') return e.code;
  }
  return undefined;
}
