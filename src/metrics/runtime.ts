/**
 * The Temporal worker runtime of a worker process: its log lines in ours (pino JSON), and optionally its own metrics
 * (task slots, poll latencies, activity/workflow execution counts, sticky cache...) on a Prometheus endpoint of its
 * own. Must run once per process, before the first NativeConnection or Worker is created: the runtime is a singleton
 * and is configured when it is first used.
 */
import { DefaultLogger, Runtime, type LogEntry, type LogLevel } from '@temporalio/worker';
import type { Logger } from '../logger';

const PINO_LEVEL: Record<LogLevel, 'trace' | 'debug' | 'info' | 'warn' | 'error'> = {
  TRACE: 'trace',
  DEBUG: 'debug',
  INFO: 'info',
  WARN: 'warn',
  ERROR: 'error',
};
/** The SDK's level for a pino level: what pino would drop, the SDK does not even format. */
const sdkLevel = (pinoLevel: string): LogLevel =>
  (Object.entries(PINO_LEVEL).find(([, p]) => p === pinoLevel)?.[0] as LogLevel | undefined) ?? 'ERROR';

/**
 * Core's log lines at WARN and above, forwarded to the runtime's logger (by default core prints raw text of its own on
 * the console, beside the process's own output; with the server down, a line for every retried call). The worker
 * processes' and the demo's runtimes both use it.
 */
export const FORWARDED_CORE_LOGS = { filter: { core: 'WARN', other: 'ERROR' }, forward: {} } as const;

/**
 * @param log where the SDK's lines go: the TS side's and core's, forwarded (core printed raw text of its own on the
 *   console, beside our JSON; with the server down, a line for every retried call).
 * @param bindAddress host:port for the metrics exporter, e.g. "0.0.0.0:9464" (served at /metrics); none without it.
 * @param onEntry sees every entry as it is logged (the worker's watch for failing workflow tasks reads core's).
 */
export function installTemporalRuntime(log: Logger, bindAddress?: string, onEntry?: (entry: LogEntry) => void): Runtime {
  const sdk = log.child({ component: 'temporal-sdk' });
  return Runtime.install({
    // An observer sees WARN lines even when pino keeps only errors (pino drops what is below its level itself).
    logger: new DefaultLogger(onEntry && ['error', 'fatal', 'silent'].includes(log.level) ? 'WARN' : sdkLevel(log.level), (entry) => {
      onEntry?.(entry);
      // Under `err`, pino's serializer writes an Error's type, message and stack (under `error` it wrote {}).
      const { error, ...meta } = entry.meta ?? {};
      sdk[PINO_LEVEL[entry.level]](error === undefined ? meta : { ...meta, err: error }, entry.message);
    }),
    telemetryOptions: {
      logging: FORWARDED_CORE_LOGS,
      ...(bindAddress
        ? {
            metrics: {
              // Seconds and _total suffixes follow Prometheus naming, like our own reelflow_* metrics.
              prometheus: { bindAddress, countersTotalSuffix: true, useSecondsForDurations: true, unitSuffix: true },
            },
          }
        : {}),
    },
  });
}
