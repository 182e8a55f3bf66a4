/**
 * The VEO3 client. VEO3 (Google's video model) is what we buy; KIE.ai is the
 * vendor we buy it through, so the provider key, this folder, the activity
 * (src/activities/veo3.ts) and the simulator (src/simulators/veo3.ts) say
 * `veo3`, while the wire names (KIE_* variables, KieVideoClient, the
 * /api/v1/veo/* paths) say KIE. submit() is the paid call and is never
 * retried here; getStatus() is free and safe to repeat.
 */
import { ProviderError, quotaExhausted, type ProviderErrorKind } from '../errors';
import {
  HttpClient,
  parseJson,
  statusError,
  tryJson,
  validate,
  type HttpRequest,
  type ProviderEndpoint,
  type HttpResponse,
  type Schema,
} from '../http';
import type { z } from 'zod';
import type { ExtendRequest, VideoGenerator, VideoRequest, VideoTaskRecord, VideoTaskStatus } from '../types';
import {
  creditDataSchema,
  envelopeSchema,
  generateDataSchema,
  paramsSchema,
  recordInfoDataSchema,
  type ExtendBody,
  type GenerateRequest,
} from './schemas';

const PROVIDER = 'veo3';

export interface KieClientOptions extends ProviderEndpoint {
  apiKey: string;
  /** Used when a request names no model. Default veo3_fast. */
  model?: 'veo3' | 'veo3_fast';
  /**
   * Where KIE POSTs when a task ends (our API's /hooks/kie/<secret>): the
   * worker then reads record-info at once instead of at its next poll.
   */
  callBackUrl?: string;
  /** KIE translates prompts to English unless told not to. Default true (KIE's default). */
  enableTranslation?: boolean;
  /**
   * Whether record-info's `paramJson` keeps the prompt as we sent it (KIE documents the field as a string of the
   * request's parameters; that it is not the translated prompt is unconfirmed). 'unreliable' leaves it out of
   * describeTask, and `retry --task` then checks a task by its callback key alone. Default 'as-sent'.
   */
  paramJsonPrompt?: 'as-sent' | 'unreliable';
}

export class KieVideoClient implements VideoGenerator {
  readonly provider = PROVIDER;
  private readonly http: HttpClient;

  constructor(private readonly options: KieClientOptions) {
    const { baseUrl, timeoutMs, apiKey } = options;
    this.http = new HttpClient({ provider: PROVIDER, baseUrl, timeoutMs, bearerToken: apiKey, describeError: describeKieError });
  }

  async submit(request: VideoRequest): Promise<{ taskId: string }> {
    const body: GenerateRequest = {
      prompt: request.prompt,
      model: request.model ?? this.options.model ?? 'veo3_fast',
      aspectRatio: request.aspectRatio,
      generationType: !request.imageUrl ? 'TEXT_2_VIDEO' : request.reference ? 'REFERENCE_2_VIDEO' : 'FIRST_AND_LAST_FRAMES_2_VIDEO',
      enableTranslation: this.options.enableTranslation ?? true,
      ...(request.imageUrl ? { imageUrls: [request.imageUrl] } : {}),
      ...(request.seeds !== undefined ? { seeds: request.seeds } : {}),
      ...this.callBack(request.callbackKey),
    };
    return this.call({ method: 'POST', path: '/api/v1/veo/generate', json: body }, generateDataSchema);
  }

  /**
   * Continues a finished task with a new paid render (a new task id). KIE's page does not say
   * whether the result is the new part alone or the whole video so far; Google's Veo 3.1
   * extension returns the whole, and assembly (src/media/reel.ts) reads either.
   */
  async extend(request: ExtendRequest): Promise<{ taskId: string }> {
    const body: ExtendBody = {
      taskId: request.taskId,
      prompt: request.prompt,
      ...(request.seeds !== undefined ? { seeds: request.seeds } : {}),
      ...this.callBack(request.callbackKey),
    };
    return this.call({ method: 'POST', path: '/api/v1/veo/extend', json: body }, generateDataSchema);
  }

  /** callBackUrl, with the call's key as a last path segment (our hook's /hooks/kie/<secret>/<key>). */
  private callBack(key: string | undefined): { callBackUrl?: string } {
    const base = this.options.callBackUrl;
    if (!base) return {};
    return { callBackUrl: key ? `${base.replace(/\/+$/, '')}/${encodeURIComponent(key)}` : base };
  }

  async getStatus(taskId: string): Promise<VideoTaskStatus> {
    return (await this.describeTask(taskId)).status;
  }

  async describeTask(taskId: string): Promise<VideoTaskRecord> {
    const data = await this.call({ method: 'GET', path: '/api/v1/veo/record-info', query: { taskId } }, recordInfoDataSchema);
    return { status: statusOf(taskId, data), madeFrom: madeFrom(data.paramJson, this.options.paramJsonPrompt !== 'unreliable') };
  }

  /** The account's remaining credits: `GET /api/v1/chat/credit` → `{code: 200, data: <number>}` (providers-2.md §6). */
  async getCredits(): Promise<number> {
    return this.call({ method: 'GET', path: '/api/v1/chat/credit' }, creditDataSchema);
  }

  /** Checks the envelope code before trusting `data`: KIE reports errors inside HTTP 200 too. */
  private async call<T>(req: HttpRequest, dataSchema: Schema<T>): Promise<T> {
    const res = await this.http.send(req);
    if (res.status < 200 || res.status >= 300) throw this.http.error(res);
    const envelope = parseJson(PROVIDER, res, envelopeSchema);
    if (envelope.code !== 200) throw kieError(res, envelope.code, envelope.msg);
    return validate(PROVIDER, dataSchema, envelope.data, res.status);
  }
}

function statusOf(taskId: string, data: z.infer<typeof recordInfoDataSchema>): VideoTaskStatus {
  switch (data.successFlag) {
    case 0:
      return { state: 'generating' };
    case 1: {
      const videoUrl = data.response?.resultUrls?.[0];
      if (!videoUrl) throw new ProviderError(PROVIDER, 'malformed', `task ${taskId} succeeded without resultUrls`);
      return { state: 'succeeded', videoUrl, ...(data.response?.resolution ? { resolution: data.response.resolution } : {}) };
    }
    default:
      return {
        state: 'failed',
        code: data.errorCode ?? `successFlag ${data.successFlag}`,
        message: data.errorMessage ?? (data.successFlag === 3 ? 'generation failed' : 'task failed'),
      };
  }
}

/** What record-info's paramJson says the task was made from; null when it says nothing readable (it is optional). */
function madeFrom(paramJson: string | null | undefined, withPrompt: boolean): VideoTaskRecord['madeFrom'] {
  const params = paramsSchema.safeParse(tryJson(paramJson ?? ''));
  if (!params.success) return null;
  const { prompt, callBackUrl } = params.data;
  const callbackKey = callBackUrl ? lastPathSegment(callBackUrl) : undefined;
  return { ...(withPrompt && typeof prompt === 'string' ? { prompt } : {}), ...(callbackKey ? { callbackKey } : {}) };
}

function lastPathSegment(url: string): string | undefined {
  try {
    const segment = new URL(url).pathname.split('/').filter(Boolean).pop();
    return segment === undefined ? undefined : decodeURIComponent(segment);
  } catch {
    return undefined;
  }
}

function describeKieError(res: HttpResponse): ProviderError | undefined {
  const envelope = envelopeSchema.safeParse(tryJson(res.text));
  if (!envelope.success) return undefined;
  return kieError(res, envelope.data.code, envelope.data.msg);
}

function kieError(res: HttpResponse, code: number, msg: string | null | undefined): ProviderError {
  // Credits come back with a top-up, not at a known time: no resetAt. One KIE key is one account.
  if (kindForKieCode(code) === 'quota_exhausted')
    return quotaExhausted(PROVIDER, `${msg || 'insufficient credits'} (code ${code})`, { status: res.status, code });
  return statusError(PROVIDER, res, `${msg || 'request failed'} (code ${code})`, { kind: kindForKieCode(code), code });
}

/**
 * docs.kie.ai error table: 455 is maintenance (retry); 501 is a failed generation (resubmitting pays again);
 * 402 is insufficient credits, spent until someone tops up.
 */
export function kindForKieCode(code: number): ProviderErrorKind {
  if (code === 402) return 'quota_exhausted';
  if (code === 429) return 'rate_limited';
  if (code === 455 || code === 408 || (code >= 500 && code !== 501 && code !== 505)) return 'transient';
  return 'permanent';
}
