/**
 * The key of a message that tells several things at once (reminders of reviews waiting, posts no longer measured):
 * the same things are the same message, in whatever order and whoever starts it, so two workers, or a round repeated
 * after a crash between the message's start and its mark, start it once (startNotification's workflow id).
 */
import { createHash } from 'node:crypto';

export function digestKey(prefix: string, names: readonly string[]): string {
  return `${prefix}:${createHash('sha256')
    .update([...names].sort().join('\n'))
    .digest('hex')
    .slice(0, 24)}`;
}
