/** What the API tests share: a server on a test database with one token per role, and a metrics reader. */
import type { FastifyInstance, InjectOptions, LightMyRequestResponse } from 'fastify';
import { Client } from '@temporalio/client';
import { createToken } from '../../src/api/auth';
import { buildApiServer, type ApiServerOptions } from '../../src/api/server';
import { createLogger } from '../../src/logger';
import { createRecommendationService, type RecommendationService } from '../../src/services/recommendations';
import type { TestDatabase } from '../helpers/test-db';

export const TEST_ENV = { TEMPORAL_UI_URL: 'http://127.0.0.1:8233', TEMPORAL_NAMESPACE: 'default' };

export interface TestApi {
  app: FastifyInstance;
  tokens: { operator: string; read: string };
  /** Fastify inject with the token of a role (or none). */
  call(role: 'operator' | 'read' | null, opts: InjectOptions): Promise<LightMyRequestResponse>;
}

/**
 * A service for DB-only tests: its Temporal client connects lazily, so
 * anything that does not start or signal a workflow works without a server.
 */
export function dbOnlyService(db: TestDatabase): RecommendationService {
  return createRecommendationService({ database: db.database, client: new Client(), taskQueue: 'unused' });
}

export async function startTestApi(
  db: TestDatabase,
  overrides: Partial<ApiServerOptions> & { service: RecommendationService },
): Promise<TestApi> {
  const app = await buildApiServer({
    database: db.database,
    env: TEST_ENV,
    log: createLogger(process.env.TEST_LOG_LEVEL ?? 'warn', 'test-api'),
    ...overrides,
  });
  await app.ready();
  const operator = (await createToken(db.database.db, `operator-${Math.random().toString(36).slice(2, 7)}`, 'operator')).token;
  const read = (await createToken(db.database.db, `reader-${Math.random().toString(36).slice(2, 7)}`, 'read')).token;
  const tokens = { operator, read };
  return {
    app,
    tokens,
    call(role, opts) {
      const headers = { ...(opts.headers ?? {}), ...(role ? { authorization: `Bearer ${tokens[role]}` } : {}) };
      return app.inject({ ...opts, headers });
    },
  };
}

/** The value of one sample of a Prometheus text exposition, or undefined. Labels must match exactly. */
export function sample(text: string, name: string, labels: Record<string, string> = {}): number | undefined {
  const want = Object.entries(labels)
    .sort(([a], [b]) => a.localeCompare(b))
    .map(([k, v]) => `${k}="${v}"`)
    .join(',');
  for (const line of text.split('\n')) {
    if (line.startsWith('#') || !line.startsWith(name)) continue;
    const m = /^([a-zA-Z_:][\w:]*)(?:\{(.*)\})?\s+(\S+)/.exec(line);
    if (!m || m[1] !== name) continue;
    const got = (m[2] ?? '')
      .split(/,(?=[a-zA-Z_]+=")/)
      .filter(Boolean)
      .sort()
      .join(',');
    if (got === want) return Number(m[3]);
  }
  return undefined;
}
