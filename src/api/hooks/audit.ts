/**
 * The audit row of every mutating call and the one log line of every call.
 * The row is written in onSend, before the answer leaves, so a client that saw
 * an answer can rely on its row; a row that cannot be written turns the answer
 * into a 500 (an unaudited change must not look like a success).
 */
import type { FastifyInstance } from 'fastify';
import type { Db } from '../../db/client';
import { recordAudit } from '../audit';
import { errorBody } from '../errors';
import { redactUrl } from '../redact';

export function registerAuditHooks(app: FastifyInstance, db: Db): void {
  app.addHook('onSend', async (req, reply, payload) => {
    const action = req.routeOptions.config?.audit;
    if (!action || !req.principal) return payload;
    const { target, detail, ...ids } = req.call;
    try {
      await recordAudit(db, {
        actor: req.principal.name,
        tokenId: req.principal.tokenId,
        action,
        target: target ?? (req.params as { id?: string } | undefined)?.id ?? null,
        detail: { method: req.method, url: redactUrl(req.url), status: reply.statusCode, ...ids, ...detail },
      });
    } catch (err) {
      req.log.error({ err, action, status: reply.statusCode }, 'audit row not written: answering 500');
      void reply.code(500).header('Content-Type', 'application/json; charset=utf-8');
      return JSON.stringify(errorBody('internal error: the audit trail could not be written; the action may have taken effect'));
    }
    return payload;
  });

  app.addHook('onResponse', async (req, reply) => {
    const mutating = req.method !== 'GET' && req.method !== 'HEAD';
    const level = reply.statusCode >= 500 ? 'error' : mutating ? 'info' : 'debug';
    const { detail: _detail, target: _target, ...ids } = req.call ?? {};
    req.log[level](
      {
        method: req.method,
        url: redactUrl(req.url),
        status: reply.statusCode,
        ms: Math.round(reply.elapsedTime),
        actor: req.principal?.name,
        ...ids,
      },
      'api call',
    );
  });
}
