/**
 * An activity attempt's heartbeats: a timer beats every `everyMs` until stop(), and beat() sends at once (new
 * details worth keeping, such as a provider task id), each with what `details()` gives then. Cancellation reaches
 * an activity only through heartbeats, so an attempt beats while it waits too.
 *
 * Not at the start: the SDK sends an attempt's first heartbeat straight away, a request (and, on Temporal Cloud, a
 * billed Action) that an attempt done within the interval does not need. Each analysis of a backlog's fill made one:
 * 22.4 Temporal requests an idea with it, 20.5 without (docs/bench-history.md). The heartbeat timeout counts from the
 * attempt's start either way.
 */
import { Context } from '@temporalio/activity';

export interface Heartbeats {
  beat(): void;
  stop(): void;
}

export function startHeartbeats(everyMs: number, details: () => unknown): Heartbeats {
  const activity = Context.current();
  const beat = () => activity.heartbeat(details());
  const timer = setInterval(beat, everyMs);
  return { beat, stop: () => clearInterval(timer) };
}
