/** Structured JSON logs (pino). Children carry workflowId, jobId and provider. */
import pino, { type Logger } from 'pino';

export function createLogger(level: string = process.env.LOG_LEVEL ?? 'info', name = 'reelflow'): Logger {
  return pino({ name, level, base: { pid: process.pid } });
}
export type { Logger };
