/**
 * A background round that never overlaps itself: every `everyMs`, and soon after `poke()`. A tick or a poke that
 * lands during a round asks for one more round right after it, so nothing that happened meanwhile is missed, and
 * a slow round (a loaded database) never piles up a queue of them. A failed round is logged and the next tick
 * tries again. The gate's loops (line courier, lost-worker watch) and the stuck watch run on it.
 */
export interface TickerOptions {
  everyMs: number;
  /** poke() runs a round this much later: a burst of pokes makes one round. */
  pokeDelayMs?: number;
  /** Run the first round at start(), not one tick later. */
  runAtStart?: boolean;
  /** A round threw; the next tick tries again. */
  onError: (err: unknown) => void;
}

export class Ticker {
  private timer: NodeJS.Timeout | null = null;
  private poked: NodeJS.Timeout | null = null;
  private running = false;
  private again = false;
  private stopped = false;

  constructor(
    private readonly round: () => Promise<void>,
    private readonly opts: TickerOptions,
  ) {}

  start(): void {
    this.timer = setInterval(() => this.tick(), this.opts.everyMs);
    this.timer.unref();
    if (this.opts.runAtStart) this.tick();
  }

  stop(): void {
    this.stopped = true;
    if (this.timer) clearInterval(this.timer);
    if (this.poked) clearTimeout(this.poked);
    this.timer = null;
    this.poked = null;
  }

  /** Something changed: a round soon (pokeDelayMs). */
  poke(): void {
    if (this.stopped || this.poked) return;
    this.poked = setTimeout(() => {
      this.poked = null;
      this.tick();
    }, this.opts.pokeDelayMs ?? 0);
    this.poked.unref();
  }

  private tick(): void {
    if (this.stopped) return;
    if (this.running) {
      this.again = true;
      return;
    }
    this.running = true;
    void this.rounds();
  }

  private async rounds(): Promise<void> {
    try {
      do {
        this.again = false;
        try {
          await this.round();
        } catch (err) {
          this.opts.onError(err);
        }
      } while (this.again && !this.stopped);
    } finally {
      this.running = false;
    }
  }
}
