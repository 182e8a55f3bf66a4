/**
 * Local OpenAI: /v1/chat/completions answering with JSON that satisfies the
 * request's json_schema, and /v1/audio/transcriptions (multipart) answering
 * verbose_json. Each call "thinks" for taskDurationMs (default 500 ms here)
 * and counts as one submission and one in-flight task while it does.
 */
import { createHash } from 'node:crypto';
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

export interface ChatMessage {
  role: string;
  content?: unknown;
}

/** Plugs a realistic answer for one json_schema name; the return value is sent as the JSON content. */
export type SimResponder = (
  messages: ChatMessage[],
  request: { model: string; schema: Record<string, unknown> },
) => unknown | Promise<unknown>;

/** Return this from a responder to answer with `message.refusal` instead of content. */
export class SimRefusal {
  constructor(readonly message: string) {}
}

/** What the simulator "hears" in audio nobody registered. */
export const DEFAULT_TRANSCRIPT =
  'Hola a todos. Hoy os enseño tres trucos para grabar vídeos que enganchan desde el primer segundo. ¡Vamos allá!';

const chatRequestSchema = z.object({
  model: z.string().min(1),
  messages: z.array(z.object({ role: z.string(), content: z.unknown() }).passthrough()).min(1),
  response_format: z
    .discriminatedUnion('type', [
      z.object({ type: z.literal('text') }),
      z.object({ type: z.literal('json_object') }),
      z.object({
        type: z.literal('json_schema'),
        json_schema: z.object({
          name: z.string().regex(/^[a-zA-Z0-9_-]{1,64}$/, 'must match ^[a-zA-Z0-9_-]{1,64}$'),
          schema: z.record(z.unknown()).optional(),
          strict: z.boolean().nullish(),
          description: z.string().optional(),
        }),
      }),
    ])
    .optional(),
});

const LANGUAGES: Record<string, string> = {
  es: 'spanish',
  en: 'english',
  pt: 'portuguese',
  fr: 'french',
  de: 'german',
  it: 'italian',
};

const SECONDS_PER_WORD = 0.4;

/** OpenAI's transcription upload cap, counted on the request's bytes (providers-2 §4). */
export const MAX_TRANSCRIPTION_BYTES = 26_214_400;

/** The extensions the API accepts, in its own error text's order (providers-2 §4). */
const AUDIO_FORMATS = ['flac', 'm4a', 'mp3', 'mp4', 'mpeg', 'mpga', 'oga', 'ogg', 'wav', 'webm'] as const;

/** Container signatures per extension: a file whose bytes do not match its name gets the API's format error. */
const SIGNATURES: Record<(typeof AUDIO_FORMATS)[number], (b: Buffer) => boolean> = {
  flac: (b) => b.subarray(0, 4).toString('latin1') === 'fLaC',
  m4a: (b) => b.subarray(4, 8).toString('latin1') === 'ftyp',
  mp4: (b) => b.subarray(4, 8).toString('latin1') === 'ftyp',
  mp3: isMpegAudio,
  mpeg: isMpegAudio,
  mpga: isMpegAudio,
  oga: (b) => b.subarray(0, 4).toString('latin1') === 'OggS',
  ogg: (b) => b.subarray(0, 4).toString('latin1') === 'OggS',
  wav: (b) => b.subarray(0, 4).toString('latin1') === 'RIFF',
  webm: (b) => b.readUInt32BE(0) === 0x1a45dfa3,
};

function isMpegAudio(b: Buffer): boolean {
  return b.subarray(0, 3).toString('latin1') === 'ID3' || (b[0] === 0xff && ((b[1] ?? 0) & 0xe0) === 0xe0);
}

/**
 * How registered audio is recognised after a trip through yt-dlp. The sample's
 * mp3s come back byte for byte (Debian's yt-dlp 2023.03.04 says "Not converting
 * audio ...; file is already in target format mp3"), so their sha256 matches.
 * A video source (mp4, webm) is re-encoded and its bytes change, so a file may
 * also carry `rfaudio:<id>` in its tags (the sample's ID3 comment): ffmpeg copies
 * global metadata into every output, which we checked through `yt-dlp -x` on an
 * mp4 with such a comment. Decoded PCM would not survive a lossy re-encode, and
 * an acoustic fingerprint is more than a simulator needs. Our chunker drops tags
 * (-map_metadata -1), so a piece of a recording never claims the whole text.
 */
const AUDIO_TAG = /rfaudio:([A-Za-z0-9_-]{1,64})/;
const TAG_SCAN_BYTES = 65_536;

export function audioTagOf(audio: Uint8Array): string | undefined {
  const head = Buffer.from(audio.buffer, audio.byteOffset, Math.min(audio.byteLength, TAG_SCAN_BYTES)).toString('latin1');
  return AUDIO_TAG.exec(head)?.[1];
}

function sha256(bytes: Uint8Array): string {
  return createHash('sha256').update(bytes).digest('hex');
}

export interface TranscriptionRecord {
  filename: string;
  bytes: number;
  /** The `prompt` field: the text the audio continues (null when not sent). */
  prompt: string | null;
  /** Whether the audio was registered (else it got DEFAULT_TRANSCRIPT). */
  known: boolean;
  text: string;
}

export class OpenAiSimulator extends SimulatorServer {
  private readonly responders = new Map<string, SimResponder>();
  /** Known audio: sha256 of the bytes, and the rfaudio tag, to the transcript (configuration: reset() keeps them). */
  private readonly knownAudio = new Map<string, string>();
  private readonly knownTags = new Map<string, string>();
  private transcriptions: TranscriptionRecord[] = [];
  private completions = 0;

  constructor(options: SimulatorOptions = {}) {
    super('openai', { ...options, taskDurationMs: options.taskDurationMs ?? 500 });
    this.route('POST', /^\/v1\/chat\/completions$/, (req) => this.chat(req));
    this.route('POST', /^\/v1\/audio\/transcriptions$/, (req) => this.transcribe(req));
  }

  /** Responders are configuration, not provider state: reset() keeps them. Returns an unregister function. */
  registerResponder(schemaName: string, responder: SimResponder): () => void {
    this.responders.set(schemaName, responder);
    return () => {
      if (this.responders.get(schemaName) === responder) this.responders.delete(schemaName);
    };
  }

  /** The transcript this audio "says" (by sha256, and by its rfaudio tag when it has one). Returns the sha256. */
  registerAudio(audio: Uint8Array, transcript: string): string {
    const hash = sha256(audio);
    this.knownAudio.set(hash, transcript);
    const tag = audioTagOf(audio);
    if (tag) this.knownTags.set(tag, transcript);
    return hash;
  }

  /** What a transcription of these bytes answers: a registered transcript, or DEFAULT_TRANSCRIPT. */
  transcriptOf(audio: Uint8Array): { text: string; known: boolean } {
    const tag = audioTagOf(audio);
    const text = this.knownAudio.get(sha256(audio)) ?? (tag ? this.knownTags.get(tag) : undefined);
    return text === undefined ? { text: DEFAULT_TRANSCRIPT, known: false } : { text, known: true };
  }

  /** Transcriptions answered since the last reset, oldest first: what a test checks order and prompts on. */
  transcriptionLog(): TranscriptionRecord[] {
    return this.transcriptions.map((t) => ({ ...t }));
  }

  protected override onReset(): void {
    this.transcriptions = [];
  }

  protected errorReply(kind: SimErrorKind, message: string, extra: Record<string, unknown>): SimReply {
    const shapes: Record<SimErrorKind, { type: string; code: string | null; message?: string }> = {
      unauthorized: {
        type: 'invalid_request_error',
        code: 'invalid_api_key',
        message: "You didn't provide an API key. You need to provide your API key in an Authorization header using Bearer auth.",
      },
      rate_limited: { type: 'requests', code: 'rate_limit_exceeded', message: `Rate limit reached for requests: ${message}` },
      server_error: { type: 'server_error', code: null, message: `The server had an error while processing your request: ${message}` },
      unavailable: { type: 'server_error', code: 'server_is_overloaded', message: 'The server is overloaded, please try again later.' },
      invalid: { type: 'invalid_request_error', code: null },
      not_found: { type: 'invalid_request_error', code: 'unknown_url' },
    };
    const shape = shapes[kind];
    return {
      status: STATUS_OF[kind],
      body: {
        error: {
          message: shape.message ?? message,
          type: shape.type,
          param: typeof extra.param === 'string' ? extra.param : null,
          code: typeof extra.code === 'string' ? extra.code : shape.code,
        },
      },
    };
  }

  private async chat(req: SimRequest): Promise<SimReply> {
    const parsed = chatRequestSchema.safeParse(req.json());
    if (!parsed.success) {
      const issue = parsed.error.issues[0];
      const param = issue?.path.join('.') ?? '';
      throw new SimHttpError('invalid', `Invalid '${param}': ${issue?.message ?? 'invalid value'}`, undefined, { param });
    }
    const body = parsed.data;
    this.recordSubmission(req);
    if ((await this.runTask(req)) === 'failed') throw new SimHttpError('server_error', 'model run failed (simulated failTasks)');

    const format = body.response_format;
    let content: string | null;
    let refusal: string | null = null;
    if (format?.type === 'json_schema') {
      const schema = format.json_schema.schema ?? { type: 'object', properties: {} };
      const responder = this.responders.get(format.json_schema.name);
      const value = responder ? await responder(body.messages, { model: body.model, schema }) : sampleFromSchema(schema);
      if (value instanceof SimRefusal) {
        content = null;
        refusal = value.message;
      } else {
        content = JSON.stringify(value);
      }
    } else if (format?.type === 'json_object') {
      content = JSON.stringify({ result: 'simulated' });
    } else {
      content = 'Simulated answer.';
    }

    this.completions += 1;
    const promptTokens = Math.ceil(JSON.stringify(body.messages).length / 4);
    const completionTokens = Math.ceil((content ?? refusal ?? '').length / 4);
    return {
      status: 200,
      headers: { 'x-request-id': this.newId('req_') },
      body: {
        id: `chatcmpl-sim${this.completions}`,
        object: 'chat.completion',
        created: Math.floor(Date.now() / 1000),
        model: body.model,
        choices: [{ index: 0, message: { role: 'assistant', content, refusal }, logprobs: null, finish_reason: 'stop' }],
        usage: { prompt_tokens: promptTokens, completion_tokens: completionTokens, total_tokens: promptTokens + completionTokens },
      },
    };
  }

  private async transcribe(req: SimRequest): Promise<SimReply> {
    if (req.body.length > MAX_TRANSCRIPTION_BYTES) {
      // The API's own words and type for it (a plain APIError in openai-node: not retried).
      throw new SimHttpError(
        'server_error',
        `Maximum content size limit (${MAX_TRANSCRIPTION_BYTES}) exceeded (${req.body.length} bytes read)`,
        413,
      );
    }
    const contentType = req.header('content-type') ?? '';
    if (!contentType.startsWith('multipart/form-data')) {
      throw new SimHttpError('invalid', 'Expected multipart/form-data with a file field', undefined, { param: 'file' });
    }
    let form: FormData;
    try {
      form = await new Response(req.body, { headers: { 'content-type': contentType } }).formData();
    } catch {
      throw new SimHttpError('invalid', 'Could not parse multipart form', undefined, { param: 'file' });
    }
    const file = form.get('file');
    const model = form.get('model');
    if (!(file instanceof Blob)) throw new SimHttpError('invalid', "Missing required parameter: 'file'.", undefined, { param: 'file' });
    if (typeof model !== 'string' || !model) {
      throw new SimHttpError('invalid', "Missing required parameter: 'model'.", undefined, { param: 'model' });
    }
    const format = String(form.get('response_format') ?? 'json');
    if (!['json', 'text', 'verbose_json', 'srt', 'vtt'].includes(format)) {
      throw new SimHttpError('invalid', `Invalid value for 'response_format': ${format}`, undefined, { param: 'response_format' });
    }
    if (format === 'verbose_json' && model.startsWith('gpt-4o')) {
      // Matches the API: gpt-4o(-mini)-transcribe only speak json/text.
      throw new SimHttpError('invalid', `response_format 'verbose_json' is not compatible with model '${model}'`, undefined, {
        param: 'response_format',
      });
    }

    const bytes = Buffer.from(await file.arrayBuffer());
    const name = file instanceof File ? file.name : '';
    const extension = /\.([A-Za-z0-9]+)$/.exec(name)?.[1]?.toLowerCase() ?? '';
    const audioFormat = AUDIO_FORMATS.find((f) => f === extension);
    if (!audioFormat || (bytes.length > 0 && bytes.length < 12) || (bytes.length >= 12 && !SIGNATURES[audioFormat](bytes))) {
      throw new SimHttpError('invalid', `Invalid file format. Supported formats: [${AUDIO_FORMATS.map((f) => `'${f}'`).join(', ')}]`);
    }
    if (bytes.length === 0) {
      // Not in providers-2 (recalled from the API, unconfirmed): its answer to audio under 0.1 s.
      throw new SimHttpError('invalid', 'Audio file is too short. Minimum audio length is 0.1 seconds.', undefined, {
        param: 'file',
        code: 'audio_too_short',
      });
    }
    const { text, known } = this.transcriptOf(bytes);
    const prompt = form.get('prompt');
    const languageParam = form.get('language');
    const language = typeof languageParam === 'string' && languageParam ? (LANGUAGES[languageParam] ?? languageParam) : 'spanish';

    this.recordSubmission(req);
    if ((await this.runTask(req)) === 'failed') throw new SimHttpError('server_error', 'transcription failed (simulated failTasks)');

    this.transcriptions.push({ filename: name, bytes: bytes.length, prompt: typeof prompt === 'string' ? prompt : null, known, text });
    const segments = toSegments(text);
    const duration = segments.at(-1)?.end ?? 0;
    if (format === 'text' || format === 'srt' || format === 'vtt') return { status: 200, body: text };
    if (format === 'json') return { status: 200, body: { text, usage: { type: 'duration', seconds: Math.ceil(duration) } } };
    return {
      status: 200,
      body: { task: 'transcribe', language, duration, text, segments, usage: { type: 'duration', seconds: Math.ceil(duration) } },
    };
  }
}

/** Whisper-like segments: one per sentence, timed by word count. */
function toSegments(text: string) {
  const sentences = text.split(/(?<=[.!?])\s+/).filter((s) => s.trim() !== '');
  let cursor = 0;
  return sentences.map((sentence, id) => {
    const start = cursor;
    const words = sentence.trim().split(/\s+/).length;
    cursor = round2(cursor + words * SECONDS_PER_WORD);
    return {
      id,
      seek: 0,
      start,
      end: cursor,
      text: ` ${sentence.trim()}`,
      tokens: [],
      temperature: 0,
      avg_logprob: -0.2,
      compression_ratio: 1.3,
      no_speech_prob: 0.01,
    };
  });
}

function round2(n: number): number {
  return Math.round(n * 100) / 100;
}

type JsonSchema = Record<string, unknown>;

const MAX_DEPTH = 12;

/**
 * A deterministic value satisfying the JSON Schema subset strict mode allows:
 * object/properties, array/items/minItems/maxItems, enum/const, string
 * (minLength/maxLength/format), number/integer (minimum/maximum, exclusive
 * bounds), boolean, null, type unions, anyOf/oneOf/allOf and local $ref.
 */
export function sampleFromSchema(schema: JsonSchema, root: JsonSchema = schema, key = 'value', depth = 0): unknown {
  if (depth > MAX_DEPTH) return null;
  const ref = schema.$ref;
  if (typeof ref === 'string') return sampleFromSchema(resolveRef(root, ref), root, key, depth + 1);
  if ('const' in schema) return schema.const;
  if (Array.isArray(schema.enum) && schema.enum.length > 0) return schema.enum[0];
  for (const combinator of ['anyOf', 'oneOf'] as const) {
    const options = schema[combinator];
    if (Array.isArray(options) && options.length > 0) {
      const pick = (options as JsonSchema[]).find((o) => o.type !== 'null') ?? (options[0] as JsonSchema);
      return sampleFromSchema(pick, root, key, depth + 1);
    }
  }
  if (Array.isArray(schema.allOf)) {
    const merged = Object.assign({}, ...(schema.allOf as JsonSchema[])) as JsonSchema;
    return sampleFromSchema(merged, root, key, depth + 1);
  }

  const type = Array.isArray(schema.type) ? ((schema.type as string[]).find((t) => t !== 'null') ?? 'null') : schema.type;
  switch (type) {
    case 'object': {
      const properties = (schema.properties ?? {}) as Record<string, JsonSchema>;
      const out: Record<string, unknown> = {};
      for (const [name, sub] of Object.entries(properties)) out[name] = sampleFromSchema(sub, root, name, depth + 1);
      return out;
    }
    case 'array': {
      const min = num(schema.minItems) ?? 0;
      const max = num(schema.maxItems) ?? Math.max(min, 2);
      const count = Math.min(max, Math.max(min, 1));
      const items = (schema.items ?? {}) as JsonSchema;
      return Array.from({ length: count }, (_, i) => sampleFromSchema(items, root, `${key} ${i + 1}`, depth + 1));
    }
    case 'string':
      return sampleString(schema, key);
    case 'integer':
      return sampleNumber(schema, true);
    case 'number':
      return sampleNumber(schema, false);
    case 'boolean':
      return true;
    case 'null':
      return null;
    default:
      return schema.properties ? sampleFromSchema({ ...schema, type: 'object' }, root, key, depth + 1) : null;
  }
}

function sampleString(schema: JsonSchema, key: string): string {
  const formats: Record<string, string> = {
    'date-time': '2025-01-01T00:00:00Z',
    date: '2025-01-01',
    time: '00:00:00',
    uri: 'https://example.com/sim',
    email: 'sim@example.com',
    uuid: '00000000-0000-4000-8000-000000000000',
  };
  const base = (typeof schema.format === 'string' ? formats[schema.format] : undefined) ?? `sample ${key}`;
  const minLength = num(schema.minLength) ?? 0;
  const maxLength = num(schema.maxLength);
  const fit = (candidate: string) => {
    let value = candidate;
    while (value.length < minLength) value += value.includes(' ') ? ' sample' : 'x';
    return maxLength !== undefined && value.length > maxLength ? value.slice(0, maxLength) : value;
  };
  const pattern = typeof schema.pattern === 'string' ? safeRegExp(schema.pattern) : undefined;
  if (!pattern) return fit(base);
  // Not a regex solver: a few shapes that satisfy the usual patterns ("^#\S+$", "^[a-z_]+$", digits).
  // Literal head of an anchored pattern ("^#" -> "#"); \S, \d… are classes, only escaped punctuation is literal.
  const prefix = /^\^((?:\\[^A-Za-z0-9]|[^\\[(.*+?{|$])*)/.exec(String(schema.pattern))?.[1]?.replace(/\\(.)/g, '$1') ?? '';
  const slug = key.replace(/[^A-Za-z0-9]+/g, '_').replace(/^_+|_+$/g, '') || 'sample';
  const candidates = [
    base,
    `${prefix}${slug}`,
    `${prefix}${slug.toLowerCase()}`,
    `${prefix}${slug.replace(/[^A-Za-z]/g, '').toLowerCase() || 'sample'}`,
    `${prefix}123`,
  ];
  return candidates.map(fit).find((c) => pattern.test(c)) ?? fit(base);
}

function safeRegExp(source: string): RegExp | undefined {
  try {
    return new RegExp(source, 'u');
  } catch {
    return undefined;
  }
}

function sampleNumber(schema: JsonSchema, integer: boolean): number {
  const step = integer ? 1 : 0.5;
  const exMin = num(schema.exclusiveMinimum);
  const exMax = num(schema.exclusiveMaximum);
  const min = num(schema.minimum) ?? (exMin !== undefined ? exMin + step : undefined);
  const max = num(schema.maximum) ?? (exMax !== undefined ? exMax - step : undefined);
  let value: number;
  if (min !== undefined && max !== undefined) value = (min + max) / 2;
  else if (min !== undefined) value = min;
  else if (max !== undefined) value = Math.min(0, max);
  else value = integer ? 1 : 0.5;
  if (integer) {
    value = Math.ceil(value);
    if (max !== undefined && value > max) value = Math.floor(max);
  }
  return value;
}

function resolveRef(root: JsonSchema, ref: string): JsonSchema {
  if (!ref.startsWith('#')) return {};
  let node: unknown = root;
  for (const part of ref.slice(1).split('/').filter(Boolean)) {
    node = (node as Record<string, unknown> | undefined)?.[part.replace(/~1/g, '/').replace(/~0/g, '~')];
  }
  return (node as JsonSchema | undefined) ?? {};
}

function num(value: unknown): number | undefined {
  return typeof value === 'number' && Number.isFinite(value) ? value : undefined;
}
