/** What ffprobe says of a media file, for tests that check a cut for real (no Temporal here). */
import { runTool } from '../../src/media/tools';

export interface Probe {
  format: { duration: string };
  streams: Array<{ codec_type: string; codec_name: string; width?: number; height?: number; channels?: number; sample_rate?: string }>;
}

/** The file's duration and each stream's codec, size, channels and sample rate. */
export async function probe(file: string): Promise<Probe> {
  const run = await runTool('ffprobe', 'ffprobe', [
    '-v',
    'error',
    '-show_entries',
    'format=duration:stream=codec_type,codec_name,width,height,channels,sample_rate',
    '-of',
    'json',
    file,
  ]);
  return JSON.parse(run.stdout) as Probe;
}
