/**
 * A background round that never overlaps itself: every `everyMs`, and soon after `poke()`. A tick or a poke that
 * lands during a round asks for one more round right after it, so nothing that happened meanwhile is missed, and
 * a slow round (a loaded database) never piles up a queue of them. A failed round is logged and the next tick
 * tries again. The gate's loops (sweep, line courier, lost-worker watch) and the stuck watch run on it.
 */
export interface TickerOptions {
  everyMs: number;
  /** poke() runs a round this much later: a burst of pokes makes one round. */
  pokeDelayMs?: number;
  /** Run the first round at start(), not one tick later. */
  runAtStart?: boolean;
  /**
   * For a loop that backs up an event (a NOTIFY, a poke): a round that found nothing to do (it resolved false) puts
   * the next one off, twice as long each time up to this; a poke, hurry(), or a round that did something brings back
   * everyMs. While nothing happens such a loop costs next to nothing, and an event still gets its round at once.
   */
  idleMaxMs?: number;
  /** A round threw; the next tick tries again. */
  onError: (err: unknown) => void;
}

export class Ticker {
  private timer: NodeJS.Timeout | null = null;
  private poked: NodeJS.Timeout | null = null;
  private running = false;
  private again = false;
  private stopped = false;
  /** Ticks still to let pass (idleMaxMs), and the idle rounds in a row that set them. */
  private skip = 0;
  private idleRounds = 0;

  constructor(
    private readonly round: () => Promise<void | boolean>,
    private readonly opts: TickerOptions,
  ) {}

  start(): void {
    this.timer = setInterval(() => {
      if (this.skip > 0) this.skip--;
      else this.tick();
    }, this.opts.everyMs);
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

  /** Back to a round every everyMs (idleMaxMs), without one now. */
  hurry(): void {
    this.idleRounds = 0;
    this.skip = 0;
  }

  /** Something changed: a round soon (pokeDelayMs). */
  poke(): void {
    this.hurry();
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
          this.after(await this.round());
        } catch (err) {
          this.hurry();
          this.opts.onError(err);
        }
      } while (this.again && !this.stopped);
    } finally {
      this.running = false;
    }
  }

  private after(did: void | boolean): void {
    const { idleMaxMs, everyMs } = this.opts;
    if (!idleMaxMs || did !== false) return this.hurry();
    this.idleRounds += 1;
    this.skip = Math.min(2 ** this.idleRounds, Math.max(1, Math.floor(idleMaxMs / everyMs))) - 1;
  }
}
