/**
 * Process entry: all five simulators on fixed ports until SIGINT/SIGTERM.
 * Prints the environment lines that point the engine at them.
 *
 *   SIMULATOR_VEO3_PORT=7301 SIMULATOR_OPENAI_PORT=7302 SIMULATOR_INSTAGRAM_PORT=7303
 *   SIMULATOR_TIKTOK_PORT=7304 SIMULATOR_YOUTUBE_PORT=7305 SIMULATOR_API_FOOTBALL_PORT=7306   (defaults shown)
 *   SIMULATOR_HOST         bind address (default 127.0.0.1; 0.0.0.0 in a container)
 *   SIMULATOR_PUBLIC_HOST  host other processes use to reach the simulators, written into
 *                          result/upload URLs (default 127.0.0.1; e.g. "simulators" in compose)
 *   SIMULATOR_TASK_DURATION_MS  processing time of the async simulators (default 3000)
 *   SIMULATOR_STATE_DIR    provider state kept across restarts (default .data/simulators; empty: memory only)
 *   SIMULATOR_METRICS_HOUR_MS  real ms one hour of a post's age takes in the metrics reads (default 3600000)
 *   SIMULATOR_OPENAI_ANSWERS    stand-in (default): the demo's answers, a rules-based competitor
 *                          analysis and readable briefs; schema: the generic sampler's
 *                          placeholders ("sample name"), on which no recommendation rule fires
 *
 * Faults and stats: POST /__sim/faults, POST /__sim/reset, GET /__sim/stats on each port; the providers' quotas
 * (unlimited unless set, README "Simulators"): GET/POST /__sim/quotas.
 */
import path from 'node:path';
import { parseEnv, simulatorEnvSchema } from '../config/env';
import { ConfigError } from '../shared/errors';
import { SIMULATOR_NAMES, startSimulators, type SimulatorName } from './index';

async function main(): Promise<void> {
  const env = parseEnv(simulatorEnvSchema);
  const ports: Record<SimulatorName, number> = {
    veo3: env.SIMULATOR_VEO3_PORT,
    openai: env.SIMULATOR_OPENAI_PORT,
    instagram: env.SIMULATOR_INSTAGRAM_PORT,
    tiktok: env.SIMULATOR_TIKTOK_PORT,
    youtube: env.SIMULATOR_YOUTUBE_PORT,
    api_football: env.SIMULATOR_API_FOOTBALL_PORT,
  };
  const duration = env.SIMULATOR_TASK_DURATION_MS;
  const running = await startSimulators({
    ports,
    host: env.SIMULATOR_HOST,
    responders: env.SIMULATOR_OPENAI_ANSWERS,
    ...(env.SIMULATOR_STATE_DIR ? { stateDir: path.resolve(env.SIMULATOR_STATE_DIR) } : {}),
    ...(env.SIMULATOR_PUBLIC_HOST ? { publicHost: env.SIMULATOR_PUBLIC_HOST } : {}),
    ...(env.SIMULATOR_METRICS_HOUR_MS !== undefined ? { metricsHourMs: env.SIMULATOR_METRICS_HOUR_MS } : {}),
    ...(duration !== undefined ? { taskDurationMs: { veo3: duration, instagram: duration, tiktok: duration, youtube: duration } } : {}),
  });
  for (const [key, value] of Object.entries(running.env)) console.log(`${key}=${value}`);
  const listening = SIMULATOR_NAMES.map((n) => `${n}:${running.sims[n].port}`).join(' ');
  console.error(`simulators listening on ${env.SIMULATOR_HOST} (${listening}); Ctrl-C to stop`);

  let stopping = false;
  const shutdown = (signal: string) => {
    if (stopping) return;
    stopping = true;
    console.error(`${signal}: stopping simulators`);
    running.stop().then(
      () => process.exit(0),
      (err: unknown) => {
        console.error(err);
        process.exit(1);
      },
    );
  };
  process.on('SIGINT', () => shutdown('SIGINT'));
  process.on('SIGTERM', () => shutdown('SIGTERM'));
}

main().catch((err: unknown) => {
  // A bad variable is one line and exit 2; anything else keeps its stack.
  if (err instanceof ConfigError) {
    console.error(err.message);
    process.exit(2);
  }
  console.error(err);
  process.exit(1);
});
