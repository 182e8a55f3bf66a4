/** Text on one line (its whitespace runs made one space), cut to `max` characters with an ellipsis. */
export function oneLine(text: string, max = Infinity): string {
  const flat = text.replace(/\s+/g, ' ').trim();
  return flat.length > max ? `${flat.slice(0, max - 1)}…` : flat;
}
