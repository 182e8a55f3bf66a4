/**
 * This process's estimate of the database's clock. A start claimed in a grant (drizzle/0033) is stamped by
 * PostgreSQL in another session's transaction; the worker that sends the request must tell how long ago that was,
 * to claim again when its request leaves too late for the spacing (SlotGate.claimStart). Workers and the database
 * may run on different hosts, so the two clocks are compared, not assumed equal.
 *
 * Each sample is one query reading clock_timestamp(): the database read its clock somewhere inside the round trip,
 * so the offset is known to within half of it. The tightest recent sample is kept.
 */

/** A sample is replaced by a looser one once it is this old (clocks drift; NTP steps them). */
const SAMPLE_MAX_AGE_MS = 60_000;

/** Wall-clock milliseconds with sub-millisecond resolution. */
const wallMs = (): number => performance.timeOrigin + performance.now();

/** The SQL of a sample: the database's clock in epoch milliseconds. */
export const DB_CLOCK_SQL = 'extract(epoch FROM clock_timestamp()) * 1000';

export class DbClock {
  private offsetMs = 0;
  private errorMs = Infinity;
  private takenAt = -Infinity;

  /** `dbMs` was read by a query sent at `sentMs` and answered at `answeredMs` (wallMs()). */
  private sample(sentMs: number, answeredMs: number, dbMs: number): void {
    const errorMs = Math.max(0, answeredMs - sentMs) / 2;
    if (errorMs > this.errorMs && answeredMs - this.takenAt < SAMPLE_MAX_AGE_MS) return;
    this.offsetMs = dbMs - (sentMs + errorMs);
    this.errorMs = errorMs;
    this.takenAt = answeredMs;
  }

  /**
   * Runs `query`, whose first row carries `db_ms` (DB_CLOCK_SQL), samples the clock from it and returns its rows: a
   * query the process makes anyway (the heartbeat, the listener's connect) doubles as a sample.
   */
  async sampled<R extends { db_ms: number | string }>(query: () => Promise<{ rows: R[] }>): Promise<R[]> {
    const sent = wallMs();
    const { rows } = await query();
    this.sample(sent, wallMs(), Number(rows[0]!.db_ms));
    return rows;
  }

  /**
   * At most how long ago the database's clock read `dbMs`, by this process's clock: Infinity before any sample
   * (the caller then claims again rather than trust a guess).
   */
  msSince(dbMs: number): number {
    return wallMs() + this.offsetMs + this.errorMs - dbMs;
  }
}
