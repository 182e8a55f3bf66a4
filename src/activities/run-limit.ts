/**
 * An attempt's bound on its work (2x the job's estimate), on a clock that stops while the attempt waits on the gate
 * inside a provider call: the provider's start spacing, its turn among the slot holders. That wait is queueing, as
 * the time in line is. Counting it failed healthy work: with Instagram's 5 s between starts and 3 slots, a post's
 * metrics read (estimate 10 s) waited over 20 s for its start behind the other holders and failed as 'still running'.
 */
export class RunLimit {
  private readonly controller = new AbortController();
  private remainingMs: number;
  private since = Date.now();
  private timer: NodeJS.Timeout | null = null;
  private paused = 0;
  private ended = false;

  constructor(
    limitMs: number,
    private readonly reason: () => Error,
  ) {
    this.remainingMs = limitMs;
    this.arm();
  }

  /** Aborted with `reason()` once the work has run `limitMs`. */
  get signal(): AbortSignal {
    return this.controller.signal;
  }

  /**
   * The clock stops until the returned resume is called (once counts: a second call does nothing). Pauses nest: the
   * clock runs again when the last one resumes.
   */
  pause(): () => void {
    if (!this.ended && this.paused++ === 0) {
      this.disarm();
      this.remainingMs -= Date.now() - this.since;
    }
    let resumed = false;
    return () => {
      if (resumed) return;
      resumed = true;
      if (this.ended || --this.paused > 0) return;
      this.since = Date.now();
      this.arm();
    };
  }

  /** The attempt is over: nothing fires any more. */
  end(): void {
    this.ended = true;
    this.disarm();
  }

  private arm(): void {
    this.timer = setTimeout(() => this.controller.abort(this.reason()), Math.max(0, this.remainingMs));
  }

  private disarm(): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
  }
}
