/**
 * Exports the Temporal worker runtime's own metrics (task slots, poll
 * latencies, activity/workflow execution counts, sticky cache...) on a
 * Prometheus endpoint of its own. Must run once per process, before the
 * first NativeConnection or Worker is created: the runtime is a singleton and
 * is configured when it is first used.
 */
import { Runtime } from '@temporalio/worker';

/**
 * @param bindAddress host:port for the exporter, e.g. "0.0.0.0:9464"; metrics are served at /metrics.
 */
export function installTemporalRuntimeTelemetry(bindAddress: string): Runtime {
  return Runtime.install({
    telemetryOptions: {
      metrics: {
        // Seconds and _total suffixes follow Prometheus naming, like our own reelflow_* metrics.
        prometheus: { bindAddress, countersTotalSuffix: true, useSecondsForDurations: true, unitSuffix: true },
      },
    },
  });
}
