/**
 * KIE's credit balance on the VEO3 simulator: `GET /api/v1/chat/credit` answers `{code: 200, msg: 'success',
 * data: <balance>}` (providers-2.md §6), each paid render spends its model's cost, and a render that does not fit
 * is refused with KIE's 402 "insufficient credits" and spends nothing. The balance outlives restarts in the state
 * file, as it does at KIE; reset() tops it back up to the starting balance.
 *
 * Knobs: GET/POST /__sim/quotas {credits, generateCost: {veo3_fast, veo3}} (credits sets the balance now).
 */
import { z } from 'zod';
import { SimHttpError, type SimExtension, type SimReply } from './server';

export type KieModel = 'veo3' | 'veo3_fast';

export interface KieCreditsOptions {
  /** Starting balance. Default 10 000 000: large, so nothing runs out unless a test or bench says so. */
  credits?: number;
  /**
   * Credits per generation by model. Default veo3_fast 60, veo3 250: third-party figures only
   * (providers-2.md §6, unconfirmed), hence settable.
   */
  generateCost?: Partial<Record<KieModel, number>>;
}

const DEFAULT_CREDITS = 10_000_000;
const DEFAULT_COST: Record<KieModel, number> = { veo3_fast: 60, veo3: 250 };

const knobsPatch = z
  .object({
    credits: z.number().min(0),
    generateCost: z
      .object({ veo3_fast: z.number().min(0), veo3: z.number().min(0) })
      .partial()
      .strict(),
  })
  .partial()
  .strict();

export class KieCredits implements SimExtension {
  readonly name = 'credits';
  balance: number;
  readonly generateCost: Record<KieModel, number>;

  /** @param onRefusal counts a 402 in the host simulator's stats (quotaRefusals). */
  constructor(
    private readonly options: KieCreditsOptions,
    private readonly onRefusal: () => void,
  ) {
    this.balance = options.credits ?? DEFAULT_CREDITS;
    this.generateCost = { ...DEFAULT_COST, ...options.generateCost };
  }

  routes() {
    return [{ method: 'GET', pattern: /^\/api\/v1\/chat\/credit$/, handler: (): SimReply => ok(this.balance) }];
  }

  controlRoutes() {
    return [
      { method: 'GET', pattern: /^\/__sim\/quotas$/, handler: (): SimReply => ({ status: 200, body: this.knobs() }) },
      {
        method: 'POST',
        pattern: /^\/__sim\/quotas$/,
        handler: (req: { json(): unknown }): SimReply => {
          const patch = knobsPatch.parse(req.json());
          if (patch.credits !== undefined) this.balance = patch.credits;
          Object.assign(this.generateCost, patch.generateCost);
          return { status: 200, body: this.knobs() };
        },
      },
    ];
  }

  isPublic(): boolean {
    return false;
  }

  /** Spends `cost`, or throws KIE's 402 and spends nothing when the balance cannot cover it. */
  spend(cost: number): void {
    if (cost > this.balance) {
      this.onRefusal();
      throw new SimHttpError('invalid', 'The current credits are insufficient. Please top up.', undefined, { code: 402 });
    }
    this.balance -= cost;
  }

  reset(): void {
    this.balance = this.options.credits ?? DEFAULT_CREDITS;
    Object.assign(this.generateCost, DEFAULT_COST, this.options.generateCost);
  }

  /** The balance only: costs come from the options and /__sim/quotas, not from a previous run. */
  toJSON(): { balance: number } {
    return { balance: this.balance };
  }

  load(state: unknown): void {
    const balance = (state as { balance?: unknown }).balance;
    if (typeof balance === 'number') this.balance = balance;
  }

  private knobs(): { credits: number; generateCost: Record<KieModel, number> } {
    return { credits: this.balance, generateCost: { ...this.generateCost } };
  }
}

function ok(data: unknown): SimReply {
  return { status: 200, body: { code: 200, msg: 'success', data } };
}
