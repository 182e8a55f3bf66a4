/** OpenAI activities: the video brief (structured JSON, validated, retried when malformed). */
import { briefPrompt, videoBriefJsonSchema, videoBriefSchema, type BriefRequest, type VideoBrief } from '../content/brief';
import { scriptProblems } from '../content/script';
import { ProviderError } from '../providers/errors';
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
        // A script that cannot become the reel is refused here, before any segment is paid for. The
        // model may well write a usable one when asked again, so it counts as a malformed answer (retried).
        const problems = input.request.reel ? scriptProblems(brief.segments, input.request.reel) : [];
        if (problems.length) throw new ProviderError('openai', 'malformed', `the script cannot be rendered: ${problems.join('; ')}`);
        return { value: brief };
      });
    },
  };
}
