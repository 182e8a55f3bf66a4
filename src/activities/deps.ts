/** What every activity factory receives. Tests build it with simulator-backed providers. */
import type { Logger } from 'pino';
import type { SlotGate } from '../gate/slot-gate';
import type { Env } from '../config/env';
import type { Provider, ProviderLimits } from '../config/providers';
import type { Database } from '../db/client';
import type { Providers } from '../providers/types';

/** The SDK's cancellation reason for activities of a worker that is shutting down (and the reason of shuttingDown). */
export const WORKER_SHUTDOWN = 'WORKER_SHUTDOWN';

export interface ActivityDeps {
  database: Database;
  gate: SlotGate;
  providers: Providers;
  limits: Record<Provider, ProviderLimits>;
  env: Env;
  log: Logger;
  /**
   * Aborted when this process begins a graceful shutdown (a deploy): provider
   * jobs hand their work to another worker at once, instead of after the SDK's
   * shutdown grace time. Absent: only the SDK's own cancellation applies.
   */
  shuttingDown?: AbortSignal;
}
