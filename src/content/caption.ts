/** A post's caption, for the first publish and a republish alike. No imports (the workflow sandbox uses it). */
export function postCaption(configured: string | undefined, brief: { caption: string; hashtags: string[] }): string {
  return configured ?? `${brief.caption}\n\n${brief.hashtags.join(' ')}`.trim();
}
