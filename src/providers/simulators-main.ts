/**
 * Process entry: all five simulators on fixed ports until SIGINT/SIGTERM.
 * Prints the environment lines that point the engine at them.
 *
 *   SIM_VEO3_PORT=7301 SIM_OPENAI_PORT=7302 SIM_INSTAGRAM_PORT=7303
 *   SIM_TIKTOK_PORT=7304 SIM_YOUTUBE_PORT=7305 (defaults shown)
 *   SIM_TASK_DURATION_MS  processing time of every async simulator (default 3000; openai 500)
 *
 * Faults and stats: POST /__sim/faults, POST /__sim/reset, GET /__sim/stats on each port.
 */
import { z } from 'zod';
import { SIMULATOR_NAMES, startSimulators, type SimulatorName } from './simulators';

const DEFAULT_PORTS: Record<SimulatorName, number> = { veo3: 7301, openai: 7302, instagram: 7303, tiktok: 7304, youtube: 7305 };

const port = z.coerce.number().int().min(0).max(65_535);
const simEnv = z.object({
  SIM_VEO3_PORT: port.default(DEFAULT_PORTS.veo3),
  SIM_OPENAI_PORT: port.default(DEFAULT_PORTS.openai),
  SIM_INSTAGRAM_PORT: port.default(DEFAULT_PORTS.instagram),
  SIM_TIKTOK_PORT: port.default(DEFAULT_PORTS.tiktok),
  SIM_YOUTUBE_PORT: port.default(DEFAULT_PORTS.youtube),
  SIM_TASK_DURATION_MS: z.coerce.number().int().min(0).optional(),
});

async function main(): Promise<void> {
  const parsed = simEnv.safeParse(process.env);
  if (!parsed.success) {
    const issue = parsed.error.issues[0]!;
    console.error(`environment variable ${issue.path.join('.')} ${issue.message}`);
    process.exit(2);
  }
  const env = parsed.data;
  const ports = Object.fromEntries(
    SIMULATOR_NAMES.map((name) => [name, env[`SIM_${name.toUpperCase()}_PORT` as keyof typeof env] as number]),
  ) as Record<SimulatorName, number>;
  const duration = env.SIM_TASK_DURATION_MS;
  const running = await startSimulators({
    ports,
    ...(duration !== undefined ? { taskDurationMs: { veo3: duration, instagram: duration, tiktok: duration, youtube: duration } } : {}),
  });
  for (const [key, value] of Object.entries(running.env)) console.log(`${key}=${value}`);
  console.error(`simulators up (${SIMULATOR_NAMES.map((n) => `${n}:${running.sims[n].port}`).join(' ')}); Ctrl-C to stop`);

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
  console.error(err);
  process.exit(1);
});
