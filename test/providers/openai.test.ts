import fs from 'node:fs';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { z } from 'zod';
import { OpenAiTextClient } from '../../src/providers/openai/client';
import { DEFAULT_TRANSCRIPT, MAX_TRANSCRIPTION_BYTES, OpenAiSimulator, sampleFromSchema, SimRefusal } from '../../src/simulators/openai';
import { readSampleVideos } from '../../src/simulators/sample';
import { expectProviderError, itClassifiesTransportFaults, TASK_MS } from './support';

const analysis = z.object({
  topic: z.string(),
  tone: z.enum(['funny', 'serious']),
  score: z.number().int().min(1).max(10),
  hooks: z.array(z.object({ text: z.string(), second: z.number().min(0) })).min(2),
  viral: z.boolean(),
  note: z.string().nullable(),
});

const analysisJsonSchema = {
  type: 'object',
  additionalProperties: false,
  required: ['topic', 'tone', 'score', 'hooks', 'viral', 'note'],
  properties: {
    topic: { type: 'string', minLength: 3 },
    tone: { type: 'string', enum: ['funny', 'serious'] },
    score: { type: 'integer', minimum: 1, maximum: 10 },
    hooks: { type: 'array', minItems: 2, items: { $ref: '#/$defs/hook' } },
    viral: { type: 'boolean' },
    note: { type: ['string', 'null'] },
  },
  $defs: {
    hook: {
      type: 'object',
      additionalProperties: false,
      required: ['text', 'second'],
      properties: { text: { type: 'string' }, second: { type: 'number', minimum: 0 } },
    },
  },
};

const ask = {
  name: 'video_analysis',
  schema: analysis,
  jsonSchema: analysisJsonSchema,
  system: 'You analyse videos.',
  user: 'Analyse this.',
};

describe('OpenAI client against its simulator', () => {
  const sim = new OpenAiSimulator({ taskDurationMs: 20 });
  let client: OpenAiTextClient;

  beforeAll(async () => {
    await sim.start();
    client = new OpenAiTextClient({ baseUrl: `${sim.url}/v1`, apiKey: 'test-key', model: 'gpt-4o-mini', timeoutMs: 2_000 });
  });
  afterEach(() => sim.reset());
  afterAll(() => sim.stop());

  it('generateJson returns zod-validated JSON built from the json_schema', async () => {
    const result = await client.generateJson(ask);
    expect(analysis.parse(result)).toEqual(result);
    expect(result.tone).toBe('funny');
    expect(result.score).toBeGreaterThanOrEqual(1);
    expect(result.hooks).toHaveLength(2);
    expect(sim.stats().submissions).toBe(1);
  });

  it('registered responders answer for their schema name', async () => {
    const seen: string[] = [];
    const unregister = sim.registerResponder('video_analysis', (messages) => {
      seen.push(String(messages[1]?.content));
      return {
        topic: 'penalties',
        tone: 'serious',
        score: 9,
        hooks: [
          { text: 'a', second: 0 },
          { text: 'b', second: 2.5 },
        ],
        viral: true,
        note: null,
      };
    });
    try {
      expect(await client.generateJson(ask)).toMatchObject({ topic: 'penalties', score: 9 });
      expect(seen).toEqual(['Analyse this.']);
    } finally {
      unregister();
    }
  });

  it('output that does not match the zod schema is malformed, never returned', async () => {
    const unregister = sim.registerResponder('video_analysis', () => ({ topic: 'x', tone: 'angry' }));
    try {
      const err = await expectProviderError(client.generateJson(ask), 'malformed');
      expect(err.message).toContain('tone');
    } finally {
      unregister();
    }
  });

  it('a refusal is malformed', async () => {
    const unregister = sim.registerResponder('video_analysis', () => new SimRefusal('I cannot help with that.'));
    try {
      const err = await expectProviderError(client.generateJson(ask), 'malformed');
      expect(err.message).toContain('refused');
    } finally {
      unregister();
    }
  });

  it('transcribes real audio it was given by its bytes, with verbose_json segments; other audio gets the generic text', async () => {
    const [video] = readSampleVideos();
    const audio = fs.readFileSync(video!.audioFile);
    sim.registerAudio(audio, video!.transcript);
    const transcript = await client.transcribe({ audio, filename: `${video!.id}.mp3`, language: 'es' });
    expect(transcript.text).toBe(video!.transcript);
    expect(transcript.language).toBe('spanish');
    expect(transcript.segments!.length).toBeGreaterThan(1);
    expect(transcript.segments?.[0]).toMatchObject({ start: 0 });
    expect(transcript.durationSeconds).toBeGreaterThan(0);

    // Same recording, other bytes (its ID3 comment survives a re-encode): still recognised.
    const retagged = Buffer.concat([audio, Buffer.alloc(16)]);
    expect((await client.transcribe({ audio: retagged, filename: 'copy.mp3' })).text).toBe(video!.transcript);

    const unknown = Buffer.concat([Buffer.from('ID3'), Buffer.alloc(600, 1)]);
    const fallback = await client.transcribe({ audio: unknown, filename: 'clip.mp3' });
    expect(fallback.text).toBe(DEFAULT_TRANSCRIPT);
    expect(sim.stats().submissions).toBe(3);
  });

  it("answers OpenAI's own errors for an unsupported, mislabelled, empty or too large file (permanent, not retried)", async () => {
    const formats = "Invalid file format. Supported formats: ['flac', 'm4a', 'mp3', 'mp4', 'mpeg', 'mpga', 'oga', 'ogg', 'wav', 'webm']";
    const mp3 = Buffer.concat([Buffer.from('ID3'), Buffer.alloc(600)]);
    const unsupported = await expectProviderError(client.transcribe({ audio: mp3, filename: 'clip.opus' }), 'permanent');
    expect(unsupported.details).toMatchObject({ status: 400 });
    expect(unsupported.message).toBe(`openai: HTTP 400: ${formats}`);
    const mislabelled = await expectProviderError(client.transcribe({ audio: Buffer.alloc(600, 7), filename: 'clip.mp3' }), 'permanent');
    expect(mislabelled.message).toContain('Invalid file format.');
    const empty = await expectProviderError(client.transcribe({ audio: new Uint8Array(0), filename: 'clip.mp3' }), 'permanent');
    expect(empty.details).toMatchObject({ status: 400, code: 'audio_too_short' });

    const big = Buffer.concat([Buffer.from('ID3'), Buffer.alloc(MAX_TRANSCRIPTION_BYTES)]);
    const tooLarge = await expectProviderError(client.transcribe({ audio: big, filename: 'big.mp3' }), 'permanent');
    expect(tooLarge.details).toMatchObject({ status: 413 });
    expect(tooLarge.message).toMatch(/Maximum content size limit \(26214400\) exceeded \(\d+ bytes read\)$/);
    expect(sim.stats().submissions).toBe(0);
  });

  it('429 with Retry-After is rate_limited, and the SDK does not retry by itself', async () => {
    sim.setFaults({ rateLimitNext: 1 });
    const err = await expectProviderError(client.generateJson(ask), 'rate_limited');
    expect(err.details).toMatchObject({ status: 429, code: 'rate_limit_exceeded', retryAfterMs: 1000 });
    expect(sim.stats().requests).toBe(1);
  });

  it('5xx is transient', async () => {
    sim.setFaults({ failNext: 2 });
    await expectProviderError(client.generateJson(ask), 'transient');
    const audio = Buffer.concat([Buffer.from('ID3'), Buffer.alloc(64)]);
    const overloaded = await expectProviderError(client.transcribe({ audio, filename: 'a.mp3' }), 'transient');
    expect(overloaded.details).toMatchObject({ status: 503, code: 'server_is_overloaded' });
    expect(sim.stats().requests).toBe(2);
  });

  it('4xx is permanent with the provider message kept', async () => {
    const err = await expectProviderError(client.generateJson({ ...ask, name: 'has spaces' }), 'permanent');
    expect(err.details.status).toBe(400);
    expect(err.message).toContain("Invalid 'response_format.json_schema.name'");

    const gpt4o = new OpenAiTextClient({ baseUrl: `${sim.url}/v1`, apiKey: 'k', model: 'm', transcribeModel: 'gpt-4o-transcribe' });
    const bad = await expectProviderError(gpt4o.transcribe({ audio: new Uint8Array([1]), filename: 'a.mp3' }), 'permanent');
    expect(bad.message).toContain('verbose_json');
  });

  itClassifiesTransportFaults(sim, (timeoutMs) =>
    (timeoutMs ? new OpenAiTextClient({ baseUrl: `${sim.url}/v1`, apiKey: 'k', model: 'm', timeoutMs }) : client).generateJson(ask),
  );

  it('each call is in flight while the model thinks', async () => {
    // Wide enough that the three calls overlap even on a loaded machine.
    sim.setFaults({ taskDurationMs: TASK_MS * 3 });
    await Promise.all([client.generateJson(ask), client.generateJson(ask), client.generateJson(ask)]);
    expect(sim.stats()).toMatchObject({ submissions: 3, maxInFlight: 3, inFlight: 0 });
  });

  it('connection refused is transient', async () => {
    const dead = new OpenAiTextClient({ baseUrl: 'http://127.0.0.1:9/v1', apiKey: 'k', model: 'm', timeoutMs: 1_000 });
    await expectProviderError(dead.generateJson(ask), 'transient');
  });
});

describe('sampleFromSchema', () => {
  it('respects bounds, enums, required arrays and unions', () => {
    expect(sampleFromSchema({ type: 'integer', minimum: 3, maximum: 8 })).toBe(6);
    expect(sampleFromSchema({ type: 'number', exclusiveMinimum: 0 })).toBe(0.5);
    expect(sampleFromSchema({ type: 'integer', maximum: -4 })).toBe(-4);
    expect(sampleFromSchema({ type: 'string', enum: ['b', 'a'] })).toBe('b');
    expect(sampleFromSchema({ type: 'array', items: { type: 'boolean' }, minItems: 3 })).toEqual([true, true, true]);
    expect(sampleFromSchema({ type: 'array', items: { type: 'boolean' }, maxItems: 0 })).toEqual([]);
    expect(sampleFromSchema({ anyOf: [{ type: 'null' }, { type: 'integer', minimum: 2 }] })).toBe(2);
    expect((sampleFromSchema({ type: 'string', maxLength: 4 }) as string).length).toBeLessThanOrEqual(4);
    expect((sampleFromSchema({ type: 'string', minLength: 40 }) as string).length).toBeGreaterThanOrEqual(40);
    expect(sampleFromSchema({ type: 'object', properties: { a: { const: 7 } } })).toEqual({ a: 7 });
    expect(sampleFromSchema({ type: 'array', minItems: 2, items: { type: 'string', pattern: '^#\\S+$' } }, undefined, 'hashtags')).toEqual([
      '#hashtags_1',
      '#hashtags_2',
    ]);
    expect(sampleFromSchema({ type: 'string', pattern: '^[a-z]+$' }, undefined, 'Team 9')).toBe('team');
    expect(sampleFromSchema({ type: 'string', pattern: '^\\d{3}$' })).toBe('123');
  });
});
