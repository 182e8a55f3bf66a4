/**
 * What a reel is made of: how many 8-second VEO3 segments, rendered how, and
 * what fits in each one. Read from the environment by loadRecommendation (an
 * activity) and carried in the plan, so the workflow sees the same numbers on
 * replay. Imports nothing from Node (workflow code uses it).
 */

/**
 * - chained: segment 1 is a new render, each next one extends the task before it (KIE `extend`):
 *   one continuous look, but sequential, so a reel takes N x the render time.
 * - independent: every segment is its own render with the same reference image and seed, all in
 *   VEO3's line at once (parallel up to the cap): faster, less consistent from cut to cut.
 * - clip: one render published as VEO3 made it, no script segments and no assembly (the engine
 *   before reels; the gate and fault suites run on it because it is one render per idea).
 */
export const REEL_MODES = ['chained', 'independent', 'clip'] as const;
export type ReelMode = (typeof REEL_MODES)[number];

/** VEO3 renders clips of this length (KIE offers no other), so a segment is this long. */
export const VEO3_CLIP_SECONDS = 8;

/** A brisk Spanish voice-over: more words than this per second do not fit VEO3's audio of the clip. */
export const SPOKEN_WORDS_PER_SECOND = 2.75;

/**
 * A data card is at most this many lines of this many characters: what fits across a
 * 1080-pixel-wide card at the card's font size (REEL_CARD_FONT_SIZE) inside its margins.
 */
export const CARD_MAX_LINES = 3;
export const CARD_MAX_LINE_CHARS = 24;

/** Hard bounds of a script whatever the configuration: 8 segments is a 64 s reel, past what Reels and Shorts favour. */
export const MAX_SEGMENTS = 8;

export interface ReelSettings {
  mode: ReelMode;
  minSegments: number;
  maxSegments: number;
  segmentSeconds: number;
}

/** Segments for a target length in seconds (e.g. 24-32 s: 3 to 4 segments of 8 s). */
export function reelSettings(mode: ReelMode, targetSeconds: { min: number; max: number }): ReelSettings {
  const maxSegments = Math.min(MAX_SEGMENTS, Math.max(1, Math.floor(targetSeconds.max / VEO3_CLIP_SECONDS)));
  const minSegments = Math.min(maxSegments, Math.max(1, Math.ceil(targetSeconds.min / VEO3_CLIP_SECONDS)));
  return { mode, minSegments, maxSegments, segmentSeconds: VEO3_CLIP_SECONDS };
}

/** Longest spoken line (in words) a segment of `seconds` carries. */
export function maxSpokenWords(seconds: number): number {
  return Math.floor(seconds * SPOKEN_WORDS_PER_SECOND);
}

/** The job row of segment i (1-based) of a reel: `generate:1` … `generate:N`. */
export function segmentStep(index: number): string {
  return `generate:${index}`;
}

/** The 1-based segment a step renders (segmentStep's inverse); null for any other step. */
export function segmentOfStep(step: string): number | null {
  const m = /^generate:([1-9][0-9]*)$/.exec(step);
  return m ? Number(m[1]) : null;
}

/** The job row of a reel's assembly. */
export const ASSEMBLE_STEP = 'assemble';

/**
 * The seed every segment of a reel is rendered with (KIE takes 10000-99999): the same seed and
 * reference image keep independent segments alike. From the recommendation id, so a retry agrees.
 */
export function reelSeed(recommendationId: string): number {
  let h = 2166136261;
  for (let i = 0; i < recommendationId.length; i++) h = Math.imul(h ^ recommendationId.charCodeAt(i), 16777619) >>> 0;
  return 10_000 + (h % 90_000);
}
