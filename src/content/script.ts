/**
 * Is a script a reel we can render? Checked as soon as the brief arrives,
 * before any segment is paid for: every problem names its segment (1-based,
 * as the job rows generate:1..N do) and the limit it breaks.
 */
import { CARD_MAX_LINE_CHARS, CARD_MAX_LINES, maxSpokenWords, type ReelSettings } from '../config/reel';
import type { ScriptSegment } from './brief';

export function wordCount(text: string): number {
  return text.split(/\s+/).filter(Boolean).length;
}

/** Every reason the script cannot become this reel; empty when it can. */
export function scriptProblems(
  segments: readonly ScriptSegment[],
  reel: Pick<ReelSettings, 'minSegments' | 'maxSegments' | 'segmentSeconds'>,
): string[] {
  if (segments.length === 0) return ['the script has no segments'];
  const problems: string[] = [];
  if (segments.length < reel.minSegments || segments.length > reel.maxSegments) {
    const wanted = reel.minSegments === reel.maxSegments ? `${reel.minSegments}` : `${reel.minSegments} to ${reel.maxSegments}`;
    problems.push(`the script has ${segments.length} segments; the reel takes ${wanted} of ${reel.segmentSeconds} s`);
  }
  const maxWords = maxSpokenWords(reel.segmentSeconds);
  segments.forEach((s, i) => {
    const at = `segment ${i + 1}`;
    if (s.visualPrompt.trim().length < 10) problems.push(`${at}: the visual prompt is empty or too short to render`);
    const words = wordCount(s.spokenLine);
    if (words === 0) problems.push(`${at}: the spoken line is empty`);
    if (words > maxWords) {
      problems.push(`${at}: the spoken line is ${words} words, longer than a ${reel.segmentSeconds} s clip carries (at most ${maxWords})`);
    }
    const lines = s.onScreenText.map((l) => l.trim()).filter(Boolean);
    if (lines.length > CARD_MAX_LINES) {
      problems.push(`${at}: the on-screen text has ${lines.length} lines; a data card fits ${CARD_MAX_LINES}`);
    }
    for (const line of lines) {
      if ([...line].length > CARD_MAX_LINE_CHARS) {
        problems.push(`${at}: on-screen line "${line}" is ${[...line].length} characters; a data card line fits ${CARD_MAX_LINE_CHARS}`);
      }
    }
  });
  return problems;
}

/** The prompt VEO3 gets for a segment: the picture, and the line its audio must say (VEO3 voices quoted dialogue). */
export function segmentPrompt(segment: ScriptSegment): string {
  return `${segment.visualPrompt.trim()} The presenter says in Spanish: "${segment.spokenLine.trim().replace(/"/g, "'")}"`;
}
