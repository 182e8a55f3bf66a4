/**
 * `npx tsx scripts/sample-audio.ts`: regenerates the shipped sample's audio,
 * data/sample/competitor-audio/<video id>.mp3, by reading each transcript of
 * data/sample/competitor-videos.json and data/sample/live-uploads.json aloud with espeak-ng (Spanish voice).
 * Small on purpose (mono, 16 kHz, 24 kbit/s: about 3 KB a second), and each
 * file carries `rfaudio:<video id>` in its ID3 comment so the OpenAI simulator
 * still recognises it after yt-dlp re-encodes it (src/simulators/openai.ts).
 * Needs espeak-ng and ffmpeg (apt-get install espeak-ng ffmpeg).
 */
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { LIVE_UPLOADS_FILE, SAMPLE_AUDIO_DIR, SAMPLE_VIDEOS_FILE, sampleVideoId } from '../src/simulators/sample';

interface SampleVideo {
  url: string;
  title: string;
  transcript: string;
}

function main(): void {
  const sample = JSON.parse(fs.readFileSync(SAMPLE_VIDEOS_FILE, 'utf8')) as SampleVideo[];
  // The demo's live uploads (published on its channels during a run) are read aloud the same way.
  const live = (JSON.parse(fs.readFileSync(LIVE_UPLOADS_FILE, 'utf8')) as Array<{ id: string; title: string; transcript: string }>).map(
    (u) => ({ ...u, url: `https://www.youtube.com/watch?v=${u.id}` }),
  );
  const videos = [...sample, ...live];
  fs.mkdirSync(SAMPLE_AUDIO_DIR, { recursive: true });
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'reelflow-sample-audio-'));
  let total = 0;
  try {
    for (const video of videos) {
      const id = sampleVideoId(video.url);
      const wav = path.join(tmp, `${id}.wav`);
      const mp3 = path.join(SAMPLE_AUDIO_DIR, `${id}.mp3`);
      execFileSync('espeak-ng', ['-v', 'es', '-s', '160', '-w', wav, video.transcript]);
      execFileSync('ffmpeg', [
        '-nostdin',
        '-v',
        'error',
        '-y',
        '-i',
        wav,
        '-ac',
        '1',
        '-ar',
        '16000',
        '-c:a',
        'libmp3lame',
        '-b:a',
        '24k',
        // Deterministic bytes across runs: no encoder tag beyond what we set.
        '-fflags',
        '+bitexact',
        '-metadata',
        `title=${video.title}`,
        '-metadata',
        `comment=rfaudio:${id}`,
        mp3,
      ]);
      const size = fs.statSync(mp3).size;
      total += size;
      console.log(`${path.relative(process.cwd(), mp3)}  ${size} bytes`);
    }
  } finally {
    fs.rmSync(tmp, { recursive: true, force: true });
  }
  console.log(`${videos.length} files, ${total} bytes`);
}

main();
