/**
 * Starting competitor video workflows: one place for discovery, `competitor
 * add-video` and `competitor ingest`. The workflow id is a digest of the
 * canonical URL and a second start joins the running workflow, so a video
 * found twice at once runs once; one found again later ends at its first step
 * (the row is there) without paying for anything.
 */
import { createHash } from 'node:crypto';
import { WorkflowExecutionAlreadyStartedError, type Client, type WorkflowHandle } from '@temporalio/client';
import { z } from 'zod';
import { DEFAULT_SIMULATOR_PORTS, isLocalHost, type Env } from '../config/env';
import { PRIORITIES } from '../config/priorities';
import { sampleCompetitorVideoInputs } from '../simulators/sample';
import { COMPETITOR_PLATFORMS } from '../shared/statuses';
import { COMPETITOR_VIDEO_WORKFLOW, competitorVideoWorkflowId as workflowIdOfDigest } from '../shared/workflow-ids';
import { competitorVideoWorkflowMetadata } from '../shared/workflow-metadata';
import { httpUrlSchema, parseInput, parseJsonText, readInputFile } from '../validation';
import type { CompetitorVideoInput } from '../workflows/competitor-video';
import { canonicalVideoUrl, nonVideoReason } from './save-video';

/** The key of a video's workflows (analysis, views): 16 hex of sha1(canonical URL), the same for every URL form. */
export function videoKey(url: string): string {
  return createHash('sha1').update(canonicalVideoUrl(url)).digest('hex').slice(0, 16);
}

/** `competitor-video-<videoKey>`: every URL form of one video gives the same id. */
export function competitorVideoWorkflowId(url: string): string {
  return workflowIdOfDigest(videoKey(url));
}

/** A CompetitorVideoInput as read from a file or a request: every field checked, errors naming it. */
export const competitorVideoInputSchema = z
  .object({
    url: z
      .string()
      .trim()
      .pipe(httpUrlSchema)
      // A playlist, a channel or a profile: yt-dlp would read one of its entries (or none), paid for as this video.
      .superRefine((u, ctx) => {
        const why = nonVideoReason(u);
        if (why) ctx.addIssue({ code: z.ZodIssueCode.custom, message: why });
      }),
    platform: z.enum(COMPETITOR_PLATFORMS),
    externalId: z.string().trim().min(1).max(200).nullish(),
    channel: z.string().trim().min(1).max(200),
    channelId: z.string().uuid().nullish(),
    title: z.string().trim().min(1).max(500),
    views: z.number().int().min(0),
    publishedAt: z.string().datetime({ offset: true }).nullable(),
    // http(s) only, as url: a file: or data: link passed here and failed in the fetch, its workflow and job started.
    mediaUrl: z.string().trim().pipe(httpUrlSchema).nullish(),
    durationSeconds: z.number().min(0).nullish(),
    language: z.string().trim().min(2).max(10).optional(),
    priority: z.enum(PRIORITIES).optional(),
  })
  // A misspelt key (mediaURL, duration_seconds) is an error, not a field silently left out.
  .strict() satisfies z.ZodType<CompetitorVideoInput, z.ZodTypeDef, unknown>;

/** Starts (or joins) the video's workflow. */
export async function startCompetitorVideo(client: Client, taskQueue: string, input: CompetitorVideoInput): Promise<WorkflowHandle> {
  const workflowId = competitorVideoWorkflowId(input.url);
  try {
    return await client.workflow.start(COMPETITOR_VIDEO_WORKFLOW, {
      taskQueue,
      workflowId,
      args: [input],
      ...competitorVideoWorkflowMetadata(input),
      workflowIdConflictPolicy: 'USE_EXISTING',
    });
  } catch (err) {
    // A closed run with this id under a reuse policy that refuses: its video is already in the table.
    if (!(err instanceof WorkflowExecutionAlreadyStartedError)) throw err;
    return client.workflow.getHandle(workflowId);
  }
}

export async function startCompetitorVideos(
  client: Client,
  taskQueue: string,
  inputs: readonly CompetitorVideoInput[],
): Promise<WorkflowHandle[]> {
  const handles: WorkflowHandle[] = [];
  for (const input of inputs) handles.push(await startCompetitorVideo(client, taskQueue, input));
  return handles;
}

/** A JSON list of CompetitorVideoInput (`reelflow competitor ingest <file>`). */
export async function readCompetitorVideoInputs(file: string): Promise<CompetitorVideoInput[]> {
  return parseInput(
    z.array(competitorVideoInputSchema, { invalid_type_error: 'must hold a JSON array of videos' }),
    parseJsonText(await readInputFile(file), file),
    file,
  );
}

/**
 * Where the shipped sample's watch pages are: the YouTube simulator the
 * environment points at (YOUTUBE_API_BASE_URL on a local host), else the one
 * `npm run simulators` starts on its default port.
 */
export function sampleVideoHost(env: Pick<Env, 'YOUTUBE_API_BASE_URL'>): string {
  const api = new URL(env.YOUTUBE_API_BASE_URL);
  return isLocalHost(api.hostname) ? api.origin : `http://127.0.0.1:${DEFAULT_SIMULATOR_PORTS.youtube}`;
}

/**
 * `reelflow competitor ingest [file]`: the videos of a file (a JSON list of
 * CompetitorVideoInput), or by default the shipped sample as the simulators serve it.
 */
export async function ingestCompetitorVideos(
  client: Client,
  taskQueue: string,
  source: { file?: string | undefined; env: Pick<Env, 'YOUTUBE_API_BASE_URL'> },
): Promise<WorkflowHandle[]> {
  const inputs = source.file ? await readCompetitorVideoInputs(source.file) : sampleCompetitorVideoInputs(sampleVideoHost(source.env));
  return startCompetitorVideos(client, taskQueue, inputs);
}
