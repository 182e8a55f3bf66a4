/**
 * OpenAI response shapes we rely on (platform.openai.com API reference),
 * checked even though the SDK types them: the SDK trusts the wire, we do not.
 */
import { z } from 'zod';

export const chatCompletionSchema = z.object({
  id: z.string(),
  model: z.string().optional(),
  choices: z
    .array(
      z.object({
        index: z.number().int().optional(),
        finish_reason: z.string().nullish(),
        message: z.object({
          role: z.string().optional(),
          content: z.string().nullish(),
          refusal: z.string().nullish(),
        }),
      }),
    )
    .min(1),
});

const segmentSchema = z.object({
  id: z.number().int().optional(),
  start: z.number(),
  end: z.number(),
  text: z.string(),
});

/** verbose_json; whisper-1 is the model that returns segments. */
export const verboseTranscriptionSchema = z.object({
  text: z.string(),
  language: z.string().optional(),
  duration: z.number().optional(),
  segments: z.array(segmentSchema).optional(),
});

/** Error body `{error:{message,type,param,code}}`; the SDK hands over the inner object as APIError.error. */
export const openAiErrorSchema = z.object({
  error: z.object({
    message: z.string(),
    type: z.string().nullish(),
    param: z.string().nullish(),
    code: z.union([z.string(), z.number()]).nullish(),
  }),
});
