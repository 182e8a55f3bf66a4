/**
 * KIE.ai Veo 3.1 shapes (docs.kie.ai/veo3-api). Every endpoint answers
 * `{code, msg, data}`; errors can arrive as HTTP 200 with a non-200 code.
 * Fields KIE documents loosely (times, error codes) accept number or string.
 */
import { z } from 'zod';

const ASPECT_RATIOS = ['16:9', '9:16', 'Auto'] as const;
const MODELS = ['veo3', 'veo3_fast'] as const;
const GENERATION_TYPES = ['TEXT_2_VIDEO', 'FIRST_AND_LAST_FRAMES_2_VIDEO', 'REFERENCE_2_VIDEO'] as const;

/** Request body of POST /api/v1/veo/generate (also parsed by the simulator). */
export const generateRequestSchema = z.object({
  prompt: z.string().trim().min(1, 'prompt is required'),
  model: z.enum(MODELS).default('veo3_fast'),
  aspectRatio: z.enum(ASPECT_RATIOS).default('16:9'),
  generationType: z.enum(GENERATION_TYPES).default('TEXT_2_VIDEO'),
  imageUrls: z.array(z.string().url()).max(2).optional(),
  seeds: z.number().int().optional(),
  watermark: z.string().optional(),
  callBackUrl: z.string().url().optional(),
  enableTranslation: z.boolean().optional(),
  enableFallback: z.boolean().optional(),
});
export type GenerateRequest = z.input<typeof generateRequestSchema>;

/** Request body of POST /api/v1/veo/extend (also parsed by the simulator). */
export const extendRequestSchema = z.object({
  taskId: z.string().trim().min(1, 'taskId is required'),
  prompt: z.string().trim().min(1, 'prompt is required'),
  seeds: z.number().int().optional(),
  watermark: z.string().optional(),
  callBackUrl: z.string().url().optional(),
});
export type ExtendBody = z.input<typeof extendRequestSchema>;

/**
 * What KIE POSTs to callBackUrl when a task ends (success, failure, error):
 * `{code, msg, data: {taskId, info: {resultUrls, originUrls, resolution}, fallbackFlag, promptJson}}`.
 * Only a wake-up hint for us: record-info stays the authority, so only taskId is required.
 */
export const callbackSchema = z.object({
  code: z.number().int(),
  msg: z.string().nullish(),
  data: z.object({ taskId: z.string().min(1).max(200) }).passthrough(),
});

/** The envelope read first, before the payload is trusted. */
export const envelopeSchema = z.object({
  code: z.number().int(),
  msg: z.string().nullish(),
  data: z.unknown(),
});

export const generateDataSchema = z.object({ taskId: z.string().min(1) });

/** data of GET /api/v1/chat/credit: the remaining balance, a bare number. */
export const creditDataSchema = z.number().finite();

const loose = z.union([z.number(), z.string()]).nullish();

/** record-info's paramJson, read only for what `retry --task` compares (its other fields vary by task type). */
export const paramsSchema = z
  .object({
    // Each on its own: a task made by hand on KIE's site may carry `callBackUrl: null`, which must not hide its prompt.
    prompt: z.string().nullish().catch(null),
    callBackUrl: z.string().nullish().catch(null),
  })
  .passthrough();

export const recordInfoDataSchema = z.object({
  taskId: z.string(),
  paramJson: z.string().nullish(),
  createTime: loose,
  completeTime: loose,
  successFlag: z.union([z.literal(0), z.literal(1), z.literal(2), z.literal(3)]),
  errorCode: loose,
  errorMessage: z.string().nullish(),
  fallbackFlag: z.boolean().nullish(),
  response: z
    .object({
      taskId: z.string().nullish(),
      resultUrls: z.array(z.string()).nullish(),
      originUrls: z.array(z.string()).nullish(),
      resolution: z.string().nullish(),
    })
    .nullish(),
});
