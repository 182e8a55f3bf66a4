/** OpenAI activities: the video brief (structured JSON, validated, retried when malformed). */
import { briefPrompt, videoBriefJsonSchema, videoBriefSchema, type BriefRequest, type VideoBrief } from '../content/brief';
import type { ActivityDeps } from './deps';
import { runProviderJob } from './provider-job';

export function createOpenAiActivities(deps: ActivityDeps) {
  return {
    async writeBrief(input: { jobId: string; request: BriefRequest }): Promise<VideoBrief> {
      return runProviderJob(deps, input.jobId, 'openai', async (ctx) => {
        const { system, user } = briefPrompt(input.request);
        const brief = await ctx.call(() =>
          deps.providers.openai.generateJson({
            name: 'video_brief',
            schema: videoBriefSchema,
            jsonSchema: videoBriefJsonSchema,
            system,
            user,
          }),
        );
        return { value: brief };
      });
    },
  };
}
