/**
 * OpenAI through the official SDK, so the same code talks to api.openai.com
 * (with a key) or the simulator (baseURL). The SDK's own retries are off:
 * Temporal owns retries, and two layers would multiply paid calls.
 */
import OpenAI, { APIConnectionError, APIConnectionTimeoutError, APIError, APIUserAbortError, toFile } from 'openai';
import type { z } from 'zod';
import { ProviderError } from '../errors';
import { excerpt, kindForStatus, parseRetryAfter, validate, type ProviderEndpoint } from '../http';
import type { TextIntelligence, Transcript } from '../types';
import { chatCompletionSchema, openAiErrorSchema, verboseTranscriptionSchema } from './schemas';

const PROVIDER = 'openai';

/** timeoutMs defaults to 120 000 ms: long structured answers and minutes of audio take longer than plain HTTP calls. */
export interface OpenAiClientOptions extends ProviderEndpoint {
  apiKey: string;
  /** Chat model for generateJson, e.g. gpt-4o-mini. */
  model: string;
  /** Default whisper-1: the model that returns segment timings (verbose_json). */
  transcribeModel?: string;
}

export class OpenAiTextClient implements TextIntelligence {
  readonly provider = PROVIDER;
  private readonly sdk: OpenAI;

  constructor(private readonly options: OpenAiClientOptions) {
    this.sdk = new OpenAI({
      apiKey: options.apiKey,
      baseURL: options.baseUrl,
      maxRetries: 0,
      timeout: options.timeoutMs ?? 120_000,
    });
  }

  async transcribe(input: { audio: Uint8Array; filename: string; language?: string; prompt?: string }): Promise<Transcript> {
    // toFile buffers the bytes, so a retried request can send them again (a streamed body cannot be retried).
    const file = await toFile(input.audio, input.filename);
    const raw: unknown = await guard(() =>
      this.sdk.audio.transcriptions.create({
        file,
        model: this.options.transcribeModel ?? 'whisper-1',
        response_format: 'verbose_json',
        timestamp_granularities: ['segment'],
        ...(input.language ? { language: input.language } : {}),
        ...(input.prompt ? { prompt: input.prompt } : {}),
      }),
    );
    const result = validate(PROVIDER, verboseTranscriptionSchema, raw);
    return {
      text: result.text,
      ...(result.language !== undefined ? { language: result.language } : {}),
      ...(result.duration !== undefined ? { durationSeconds: result.duration } : {}),
      ...(result.segments ? { segments: result.segments.map(({ start, end, text }) => ({ start, end, text })) } : {}),
    };
  }

  async generateJson<T>(input: {
    name: string;
    schema: z.ZodType<T>;
    jsonSchema: Record<string, unknown>;
    system: string;
    user: string;
  }): Promise<T> {
    const raw: unknown = await guard(() =>
      this.sdk.chat.completions.create({
        model: this.options.model,
        messages: [
          { role: 'system', content: input.system },
          { role: 'user', content: input.user },
        ],
        response_format: { type: 'json_schema', json_schema: { name: input.name, schema: input.jsonSchema, strict: true } },
      }),
    );
    const choice = validate(PROVIDER, chatCompletionSchema, raw).choices[0]!;
    const { content, refusal } = choice.message;
    // Refusals, truncation and filtered output all mean "no usable JSON this time"; a retry may
    // well succeed, which is exactly what 'malformed' (retryable) says.
    if (refusal) throw malformed(`model refused (${input.name}): ${excerpt(refusal)}`);
    if (choice.finish_reason === 'length') throw malformed(`output truncated at max tokens (${input.name})`);
    if (choice.finish_reason === 'content_filter') throw malformed(`output stopped by content filter (${input.name})`);
    if (!content) throw malformed(`empty content (${input.name})`);
    let parsed: unknown;
    try {
      parsed = JSON.parse(content);
    } catch {
      throw malformed(`content is not JSON (${input.name}): ${excerpt(content)}`);
    }
    return validate(PROVIDER, input.schema, parsed);
  }
}

async function guard<T>(call: () => Promise<T>): Promise<T> {
  try {
    return await call();
  } catch (err) {
    throw toProviderError(err);
  }
}

/** Maps the SDK's error classes onto ProviderError kinds (platform.openai.com/docs/guides/error-codes). */
function toProviderError(err: unknown): unknown {
  if (err instanceof ProviderError) return err;
  if (err instanceof APIConnectionTimeoutError) {
    return new ProviderError(PROVIDER, 'transient', `request timed out: ${err.message}`, { code: 'timeout' });
  }
  if (err instanceof APIUserAbortError) return new ProviderError(PROVIDER, 'transient', 'request aborted by caller', { code: 'aborted' });
  if (err instanceof APIConnectionError) {
    const cause = (err.cause as { message?: string; cause?: { code?: string } } | undefined) ?? {};
    const code = cause.cause?.code ?? 'connection';
    return new ProviderError(PROVIDER, 'transient', `connection failed: ${cause.message ?? err.message}`, { code });
  }
  if (err instanceof APIError && typeof err.status === 'number') {
    const status = err.status;
    const body = openAiErrorSchema.shape.error.safeParse(err.error);
    const message = body.success ? body.data.message : err.message;
    const code = err.code ?? err.type ?? status;
    const retryAfterMs = retryAfter(err.headers);
    // insufficient_quota is a billing problem wearing a 429: waiting does not fix it.
    const kind = status === 429 && code === 'insufficient_quota' ? 'permanent' : status === 409 ? 'transient' : kindForStatus(status);
    return new ProviderError(PROVIDER, kind, `HTTP ${status}: ${message}`, {
      status,
      code,
      ...(retryAfterMs !== undefined ? { retryAfterMs } : {}),
    });
  }
  // The SDK JSON.parses bodies served as application/json and lets the SyntaxError escape.
  if (err instanceof SyntaxError) return malformed(`response is not JSON: ${err.message}`);
  return err;
}

function retryAfter(headers: Headers | undefined): number | undefined {
  const ms = headers?.get('retry-after-ms');
  if (ms && /^\d+(\.\d+)?$/.test(ms)) return Math.round(Number(ms));
  return parseRetryAfter(headers?.get('retry-after'));
}

function malformed(message: string): ProviderError {
  return new ProviderError(PROVIDER, 'malformed', message);
}
