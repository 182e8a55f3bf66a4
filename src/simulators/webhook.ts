/**
 * Local Slack and Discord incoming webhooks on 127.0.0.1 for tests and the
 * demo. Built on the provider simulators' server, so the same faults apply:
 * `failFirst(3)` answers the next three posts 500/503, `failFirst(2, 429)`
 * throttles two with Retry-After: 1; after that it recovers. Every accepted
 * message is recorded, so a test can assert "exactly one per event".
 */
import { z } from 'zod';
import {
  SimHttpError,
  SimulatorServer,
  STATUS_OF,
  type SimErrorKind,
  type SimReply,
  type SimRequest,
  type SimulatorOptions,
} from './server';
import type { Channel } from '../notifications/config';

export interface ReceivedMessage {
  channel: Channel;
  /** Slack `text` or Discord `content`. */
  text: string;
  body: unknown;
  at: number;
}

// Slack answers plain-text codes; the ones in providers.md §6.
const SLACK_CODES: Record<SimErrorKind, string> = {
  unauthorized: 'invalid_token',
  rate_limited: 'rate_limited',
  server_error: 'rollup_error',
  unavailable: 'rollup_error',
  invalid: 'invalid_payload',
  not_found: 'no_service',
};

const slackBody = z.object({ text: z.string().min(1) }).passthrough();
const discordBody = z.object({ content: z.string().min(1).max(2000) }).passthrough();

export class WebhookSimulator extends SimulatorServer {
  private received: ReceivedMessage[] = [];

  constructor(options: SimulatorOptions = {}) {
    super('webhooks', options);
    this.route('POST', /^\/services\/[^/]+\/[^/]+\/[^/]+$/, (req) => this.accept(req, 'slack'));
    this.route('POST', /^\/api\/webhooks\/[^/]+\/[^/]+$/, (req) => this.accept(req, 'discord'));
  }

  /** SLACK_WEBHOOK_URL pointing here. */
  get slackUrl(): string {
    return `${this.url}/services/T0SIM/B0SIM/simsecret`;
  }

  /** DISCORD_WEBHOOK_URL pointing here. */
  get discordUrl(): string {
    return `${this.url}/api/webhooks/100000000000000000/simtoken`;
  }

  /** Accepted messages, oldest first, optionally of one channel. */
  messages(channel?: Channel): ReceivedMessage[] {
    return this.received.filter((m) => !channel || m.channel === channel);
  }

  /** The next `n` posts fail (500/503 alternating, or 429 with Retry-After: 1), then it recovers. */
  failFirst(n: number, status: 500 | 429 = 500): void {
    this.setFaults(status === 429 ? { rateLimitNext: n } : { failNext: n });
  }

  protected override isAuthorized(): boolean {
    // A webhook URL is its own credential; an unknown path gets 404 like the real ones.
    return true;
  }

  protected override onReset(): void {
    this.received = [];
  }

  protected errorReply(kind: SimErrorKind, message: string): SimReply {
    // The failing request's path is not known here; answer in both shapes' common denominator per kind.
    if (kind === 'rate_limited') {
      return {
        status: 429,
        headers: { 'Retry-After': '1' },
        body: { message: 'You are being rate limited.', retry_after: 1, global: false },
      };
    }
    return { status: STATUS_OF[kind], body: `${SLACK_CODES[kind]}: ${message}` };
  }

  private accept(req: SimRequest, channel: Channel): SimReply {
    const parsed = (channel === 'slack' ? slackBody : discordBody).safeParse(req.json());
    if (!parsed.success) throw new SimHttpError('invalid', parsed.error.issues[0]?.message ?? 'invalid body');
    const text = 'text' in parsed.data ? String(parsed.data.text) : String(parsed.data.content);
    this.received.push({ channel, text, body: parsed.data, at: Date.now() });
    this.recordSubmission(req);
    return channel === 'slack' ? { status: 200, body: 'ok' } : { status: 204 };
  }
}
