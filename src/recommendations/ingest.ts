/**
 * Starts one competitorVideoWorkflow per video of a competitor-videos file
 * (the shipped sample or an export in the same shape). The workflow id is
 * derived from the URL, so ingesting a file twice never runs a video twice at once.
 */
import { createHash } from 'node:crypto';
import { WorkflowExecutionAlreadyStartedError, type Client, type WorkflowHandle } from '@temporalio/client';
import { type CompetitorVideoInput } from '../workflows/competitor-video';
import { COMPETITOR_VIDEO_WORKFLOW, competitorVideoWorkflowId as workflowIdOfDigest } from '../shared/workflow-ids';
import { competitorVideoWorkflowMetadata } from '../shared/workflow-metadata';
import { canonicalVideoUrl, readSampleCompetitorVideos } from './save-video';

/** The local OpenAI simulator "hears" the text after RFSIM: in an audio file: our stand-in for real audio. */
function simulatedAudioUrl(transcript: string): string {
  return `data:audio/mpeg;base64,${Buffer.from(`RFSIM:${transcript}`).toString('base64')}`;
}

function competitorVideoWorkflowId(url: string): string {
  return workflowIdOfDigest(createHash('sha1').update(canonicalVideoUrl(url)).digest('hex').slice(0, 16));
}

export async function ingestCompetitorVideos(client: Client, taskQueue: string, file: string): Promise<WorkflowHandle[]> {
  const videos = await readSampleCompetitorVideos(file);
  const handles: WorkflowHandle[] = [];
  for (const video of videos) {
    const input: CompetitorVideoInput = {
      url: video.url,
      channel: video.channel,
      title: video.title,
      views: video.views,
      publishedAt: video.publishedAt?.toISOString() ?? null,
      audioUrl: simulatedAudioUrl(video.transcript),
    };
    const workflowId = competitorVideoWorkflowId(video.url);
    try {
      handles.push(
        await client.workflow.start(COMPETITOR_VIDEO_WORKFLOW, {
          taskQueue,
          workflowId,
          args: [input],
          ...competitorVideoWorkflowMetadata(input),
          workflowIdConflictPolicy: 'USE_EXISTING',
        }),
      );
    } catch (err) {
      if (!(err instanceof WorkflowExecutionAlreadyStartedError)) throw err;
      handles.push(client.workflow.getHandle(workflowId));
    }
  }
  return handles;
}
