/**
 * How a long competitor transcript is cut for its analysis (src/recommendations/analysis.ts asks the model once per
 * piece), and the time that takes: the workflow schedules the analysis by it and the activity bounds its work by it
 * (src/workflows/competitor-video.ts, src/activities/competitor.ts). No imports: workflow code runs it.
 */

/** Transcripts longer than this are analysed in pieces: one answer cannot hold a 40-minute video's claims. */
export const ANALYSIS_CHUNK_CHARS = 6_000;

/** Splits at sentence ends so no claim is cut in half; a sentence longer than the limit is its own piece. */
export function splitTranscript(transcript: string, maxChars = ANALYSIS_CHUNK_CHARS): string[] {
  const sentences = transcript.split(/(?<=[.!?…])\s+/);
  const pieces: string[] = [];
  let current = '';
  for (const sentence of sentences) {
    if (current && current.length + 1 + sentence.length > maxChars) {
      pieces.push(current);
      current = '';
    }
    current = current ? `${current} ${sentence}` : sentence;
  }
  if (current.trim()) pieces.push(current);
  return pieces.length ? pieces : [''];
}

/**
 * One request's estimate per piece. The analysis job is planned before its transcript exists, with one request's:
 * a 40-minute video's seven pieces then ran into the job's 2x bound (20 s) on every attempt, and after three the
 * video was lost with its transcription paid.
 */
export function analysisEstimateSeconds(transcript: string, perRequestSeconds: number): number {
  return splitTranscript(transcript).length * perRequestSeconds;
}
