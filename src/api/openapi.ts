/**
 * The API's OpenAPI 3.1 document, served at /openapi.json. Written by hand
 * (no generator dependency); test/api/auth.test.ts fails when a route is
 * registered without being described here.
 */
import { PRIORITIES } from '../config/priorities';
import { PROVIDERS, PUBLISH_PLATFORMS } from '../config/providers';
import type { EtaReason } from '../gate/eta';
import { RECOMMENDATION_SOURCES, RECOMMENDATION_TYPES } from '../validation';
import { JOB_STATUSES, RECOMMENDATION_STATUSES } from '../shared/statuses';

/** Every EtaReason of src/gate/eta.ts (the record makes the compiler name one added there and missing here). */
const ETA_REASONS = Object.keys({ slot: 1, spacing: 1, quota: 1, budget: 1, parked: 1, schedule: 1, now: 1 } satisfies Record<
  EtaReason,
  1
>);

const ref = (name: string) => ({ $ref: `#/components/schemas/${name}` });
const json = (schema: object) => ({ 'application/json': { schema } });
const okOf = (data: object) => ({
  type: 'object',
  required: ['ok', 'data'],
  properties: { ok: { const: true }, data },
});
const answer = (description: string, data: object = {}) => ({ description, content: json(okOf(data)) });
const error = (description: string) => ({ description, content: json(ref('Error')) });

const readErrors = {
  '401': error('No token, or an invalid or revoked one; "token expired" for an expired one'),
  '429': error('Too many failed authentications from this address in the window (Retry-After says when to come back)'),
  '500': error('Internal error (no details); on a mutating call also when its audit row could not be written'),
};
const operatorErrors = {
  ...readErrors,
  '400': error('Malformed input; the message names every wrong field (up to five)'),
  '403': error('The token has the read role'),
};
const idParam = {
  name: 'id',
  in: 'path',
  required: true,
  description: 'A recommendation id, a job id or a workflow id (recommendation-<uuid>)',
  schema: { type: 'string' },
};
const query = (name: string, schema: object, description?: string) => ({
  name,
  in: 'query',
  required: false,
  schema,
  ...(description ? { description } : {}),
});
const limit = query('limit', { type: 'integer', minimum: 1, maximum: 1000 });
const readOp = (summary: string, data: object = {}, parameters: object[] = [], extra: Record<string, object> = {}) => ({
  summary,
  security: [{ bearer: [] }],
  'x-role': 'read',
  parameters,
  responses: { '200': answer(summary, data), ...readErrors, ...extra },
});
const operatorOp = (
  summary: string,
  opts: { body?: object; data?: object; parameters?: object[]; success?: string; extra?: Record<string, object> } = {},
) => ({
  summary,
  security: [{ bearer: [] }],
  'x-role': 'operator',
  parameters: opts.parameters ?? [],
  ...(opts.body ? { requestBody: { required: true, content: json(opts.body) } } : {}),
  responses: { [opts.success ?? '200']: answer(summary, opts.data ?? {}), ...operatorErrors, ...(opts.extra ?? {}) },
});
const scheduleUnavailable = { '503': error('No schedule controller on this server') };
const notFound = { '404': error('Unknown id, or no running workflow') };

const scheduleName = {
  name: 'name',
  in: 'path',
  required: true,
  schema: { type: 'string', enum: ['hourly', 'bargains', 'competitors', 'players'] },
};
const competitorsUnavailable = { '503': error('No competitor service on this server') };
const channelParam = {
  name: 'id',
  in: 'path',
  required: true,
  description: 'The channel row id, its platform id (UC…, a username) or its handle',
  schema: { type: 'string' },
};

/** KIE.ai's callback hook, with or without the submit's key segment (src/api/routes/kie-hooks.ts). */
const kieHook = (summary: string, ...keyParam: object[]) => ({
  post: {
    summary,
    security: [],
    parameters: [
      {
        name: 'secret',
        in: 'path',
        required: true,
        schema: { type: 'string', minLength: 32, maxLength: 100, pattern: '^[A-Za-z0-9_-]+$' },
      },
      ...keyParam,
    ],
    requestBody: {
      content: {
        'application/json': {
          schema: {
            type: 'object',
            required: ['code', 'data'],
            properties: {
              code: { type: 'integer' },
              msg: { type: 'string' },
              data: { type: 'object', required: ['taskId'], properties: { taskId: { type: 'string' } } },
            },
          },
        },
      },
    },
    responses: {
      '200': answer('Received'),
      '400': error('Not a KIE callback'),
      '404': error('Hook off or wrong secret'),
      '429': error('Too many calls from this address in the window'),
    },
  },
});

export const openApiDocument = {
  openapi: '3.1.0',
  info: {
    title: 'Reelflow operator API',
    version: '1',
    description:
      'Enqueue, inspect, cancel and reprioritise content jobs. Every /api call and /metrics needs ' +
      '`Authorization: Bearer <token>` (`reelflow token create --name N --role read|operator [--expires-in 30d]`). ' +
      'Errors are always `{ ok: false, error: { message } }`; ' +
      'mutating calls are written to the audit log before the answer leaves (no row, no success).',
  },
  components: {
    securitySchemes: { bearer: { type: 'http', scheme: 'bearer' } },
    schemas: {
      Error: {
        type: 'object',
        required: ['ok', 'error'],
        properties: { ok: { const: false }, error: { type: 'object', required: ['message'], properties: { message: { type: 'string' } } } },
      },
      Priority: { type: 'string', enum: [...PRIORITIES] },
      Provider: { type: 'string', enum: [...PROVIDERS] },
      EnqueueRecommendation: {
        type: 'object',
        additionalProperties: false,
        required: ['title', 'type', 'priority'],
        properties: {
          title: { type: 'string', minLength: 3, maxLength: 200 },
          type: { type: 'string', enum: [...RECOMMENDATION_TYPES] },
          priority: ref('Priority'),
          targetPlayer: { type: 'string' },
          ourData: { type: 'object' },
          jobConfig: {
            type: 'object',
            additionalProperties: false,
            properties: {
              provider: { const: 'veo3' },
              platforms: { type: 'array', items: { type: 'string', enum: [...PUBLISH_PLATFORMS] }, minItems: 1 },
              aspectRatio: { type: 'string', enum: ['9:16', '16:9', 'Auto'] },
              model: { type: 'string', enum: ['veo3', 'veo3_fast'] },
              imageUrl: { type: 'string', format: 'uri' },
              caption: { type: 'string', maxLength: 2200 },
              notes: { type: 'string', maxLength: 4000 },
              reel: {
                type: 'object',
                additionalProperties: false,
                description: "This idea's reel instead of REELFLOW_REEL_MODE / REELFLOW_REEL_SECONDS",
                properties: {
                  mode: { type: 'string', enum: ['chained', 'independent', 'clip'] },
                  seconds: { type: 'integer', minimum: 8, maximum: 64, multipleOf: 8 },
                },
              },
            },
          },
          scheduleAfter: { type: 'string', format: 'date-time' },
          deadline: {
            type: 'string',
            format: 'date-time',
            description:
              'Default: P0 24 h, P1 48 h, P2 1 week, P3 none, counted from scheduleAfter when given; must come after scheduleAfter',
          },
          source: { type: 'string', enum: [...RECOMMENDATION_SOURCES] },
          sourceVideoId: { type: 'string', format: 'uuid' },
          dedupeKey: { type: 'string', description: 'Same key twice returns the existing recommendation' },
        },
      },
      Recommendation: { type: 'object', description: 'A competitive_recommendations row' },
      JobWait: {
        type: 'object',
        description: 'When a queued job is expected to start (the gate replayed forward: slots, spacing, quotas, budgets, schedule)',
        required: ['eta', 'waitingFor', 'waitingForQuota'],
        properties: {
          eta: {
            type: ['string', 'null'],
            format: 'date-time',
            description: "Expected start; null when not waiting, or (waitingFor set) when its cost exceeds a quota's whole limit",
          },
          waitingFor: {
            type: ['string', 'null'],
            enum: [...ETA_REASONS, null],
            description: 'What the start waits for last; null: not in a line (running, finished, or a later step not asking yet)',
          },
          waitingForQuota: { type: ['string', 'null'], description: 'The quota or budget it waits for (quota, budget, parked)' },
        },
      },
      Job: { description: 'An automation_queue row, with its ETA while it waits', allOf: [{ type: 'object' }, ref('JobWait')] },
      CalendarRow: {
        description: 'An open job of the next 24 h on the dashboard calendar',
        allOf: [
          {
            type: 'object',
            required: ['plannedAt', 'estimatedEndAt', 'hasBar'],
            properties: {
              plannedAt: { type: 'string', format: 'date-time', description: 'Running: its start; waiting: its ETA' },
              estimatedEndAt: { type: 'string', format: 'date-time', description: 'Its expected end, by learned run times' },
              hasBar: {
                type: 'boolean',
                description:
                  'Drawn from plannedAt to estimatedEndAt (running, or waiting with an ETA); otherwise shown for its deadline only',
              },
            },
          },
          ref('JobWait'),
        ],
      },
      Quota: {
        type: 'object',
        description: 'A quota or spend budget (unit credits) with its use in the current window',
        properties: {
          name: { type: 'string' },
          provider: ref('Provider'),
          account: { type: 'string' },
          windowKind: { type: 'string', enum: ['moving', 'calendar'] },
          windowSeconds: { type: ['integer', 'null'], description: 'null: a calendar month' },
          timeZone: { type: 'string' },
          unit: { type: 'string', enum: ['posts', 'units', 'requests', 'credits'] },
          lowPriorityShare: { type: 'number', description: 'Share of the limit P2/P3 may use' },
          used: { type: 'number' },
          limit: { type: 'number' },
          remaining: { type: 'number' },
          resetAt: { type: ['string', 'null'], format: 'date-time', description: 'When units next come back' },
          parkedUntil: { type: ['string', 'null'], format: 'date-time', description: "Parked after the provider's own quota error" },
          parkedReason: { type: ['string', 'null'] },
          reportedRemaining: { type: ['number', 'null'], description: 'What the provider itself last reported as left' },
          reportedLimit: { type: ['number', 'null'] },
          reportedAt: { type: ['string', 'null'], format: 'date-time' },
          reason: { type: 'string' },
        },
      },
      Capacity: {
        type: 'object',
        properties: {
          provider: ref('Provider'),
          maxConcurrent: { type: 'integer' },
          inUse: { type: 'integer' },
          free: { type: 'integer' },
          waiting: { type: 'integer' },
          planned: { type: 'integer' },
          minStartIntervalMs: { type: 'integer' },
          lastStartAt: { type: ['string', 'null'], format: 'date-time' },
          quotas: { type: 'array', items: ref('Quota') },
        },
      },
      ProviderPanel: {
        type: 'object',
        description:
          'Capacity plus the last 24 h of outcomes (success rate, durations, cost, stuck), held slots, its quotas and budgets, ' +
          'and nextStart: the waiting job expected to start first ({ jobId, provider, eta, waitingFor, quota }) or null',
        properties: { quotas: { type: 'array', items: ref('Quota') }, nextStart: { type: ['object', 'null'] } },
      },
      CompetitorChannel: {
        type: 'object',
        description:
          'A competitor_channels row: platform, externalId, handle, displayName, active, lastCheckedAt, ' +
          'lastError, lastErrorAt, newestVideoId, newestVideoAt, videosFound',
      },
      AddCompetitorChannel: {
        type: 'object',
        additionalProperties: false,
        required: ['platform', 'channel'],
        properties: {
          platform: { type: 'string', enum: ['youtube', 'instagram', 'manual'] },
          channel: {
            type: 'string',
            minLength: 1,
            maxLength: 200,
            description:
              'YouTube: @handle (needs YOUTUBE_DATA_API_KEY), UC… channel id or channel URL; Instagram: username; manual: a label',
          },
          name: { type: 'string', minLength: 1, maxLength: 200, description: "Display name; default: the platform's" },
        },
      },
      AddCompetitorVideo: {
        type: 'object',
        additionalProperties: false,
        required: ['url'],
        properties: {
          url: { type: 'string', format: 'uri', description: 'Any platform: YouTube, Instagram, TikTok, or any other page (web)' },
          name: { type: 'string', minLength: 1, maxLength: 200, description: 'Who published it; default: the host' },
        },
      },
      EnqueueResult: {
        type: 'object',
        properties: {
          recommendation: ref('Recommendation'),
          workflowId: { type: 'string' },
          started: { type: 'boolean' },
          links: { type: 'object', properties: { temporal: { type: 'string', format: 'uri' } } },
        },
      },
    },
  },
  paths: {
    '/health': { get: { summary: 'Liveness', security: [], responses: { '200': answer('Up') } } },
    '/openapi.json': { get: { summary: 'This document', security: [], responses: { '200': { description: 'OpenAPI 3.1' } } } },
    '/media/archive/videos/{file}': {
      get: {
        summary: 'Our archived copy of a video (REELFLOW_STORAGE=fs), to a signed, expiring URL only: what the platforms pull',
        security: [],
        parameters: [
          { name: 'file', in: 'path', required: true, schema: { type: 'string', pattern: '^[A-Za-z0-9_-]{1,100}\\.mp4$' } },
          { name: 'expires', in: 'query', required: true, schema: { type: 'integer' } },
          { name: 'signature', in: 'query', required: true, schema: { type: 'string', pattern: '^[0-9a-f]{64}$' } },
        ],
        responses: {
          '200': { description: 'The video' },
          '206': { description: 'A byte range of it' },
          '401': { description: 'No signature' },
          '403': { description: 'A wrong or expired signature' },
          '404': { description: 'No such video' },
        },
      },
    },
    '/media/{id}/{file}': {
      get: {
        summary: 'A finished reel (final.mp4) or its cover (cover.jpg), by recommendation id: what the platforms download; byte ranges',
        security: [],
        parameters: [
          { name: 'id', in: 'path', required: true, schema: { type: 'string', pattern: '^[A-Za-z0-9_-]{1,100}$' } },
          { name: 'file', in: 'path', required: true, schema: { type: 'string', enum: ['final.mp4', 'cover.jpg'] } },
        ],
        responses: {
          '200': { description: 'The file' },
          '206': { description: 'A byte range of it' },
          '404': { description: 'No such reel' },
        },
      },
    },
    '/hooks/kie/{secret}': kieHook(
      "KIE.ai's callBackUrl (set KIE_CALLBACK_URL to https://<host>/hooks/kie/<KIE_CALLBACK_SECRET>): " +
        'wakes the poller of the finished task',
    ),
    '/hooks/kie/{secret}/{key}': kieHook(
      'The same callback for a submit that put its key (<job id>.<8 hex>) in the URL: also gives the job the task ' +
        'its unanswered submit created (the worker died inside the request)',
      { name: 'key', in: 'path', required: true, schema: { type: 'string', pattern: '^[0-9a-f-]{36}\\.[0-9a-f]{8}$' } },
    ),
    '/metrics': {
      get: {
        summary:
          'Prometheus metrics (queue depth, in-flight vs cap, wait/run histograms, attempts, failures, stuck, cost, ' +
          'quota use, limits, resets and parking, next start per provider)',
        security: [{ bearer: [] }],
        'x-role': 'read',
        responses: {
          '200': { description: 'Prometheus text format', content: { 'text/plain': { schema: { type: 'string' } } } },
          ...readErrors,
        },
      },
    },
    '/api/whoami': { get: readOp('The calling token and the Temporal Web UI base URL') },
    '/api/dashboard': {
      get: readOp('Open jobs, stuck jobs, 24 h calendar, provider panels and recent failures in one call', {
        type: 'object',
        properties: {
          jobs: { type: 'array', items: ref('JobWait'), description: 'Open jobs; waiting ones with their ETA' },
          calendar: {
            type: 'array',
            items: ref('CalendarRow'),
            description:
              'Next 24 h: running jobs, and waiting ones at their ETA (a later step not in line yet only for its deadline); ' +
              'estimatedEndAt by learned run times',
          },
          providers: { type: 'array', items: ref('ProviderPanel') },
          refused: {
            type: 'array',
            items: {
              type: 'object',
              properties: {
                channel: { type: 'string' },
                count: { type: 'integer' },
                lastAt: { type: 'string', format: 'date-time' },
                reason: { type: ['string', 'null'] },
                message: { type: ['string', 'null'] },
              },
            },
            description:
              'Per channel, the messages its webhook refused in the last week and not delivered since (count, lastAt, reason, ' +
              'message): the team was not told of them',
          },
        },
      }),
    },
    '/api/recommendations': {
      get: readOp('List recommendations: open ones most urgent first, then the newest', { type: 'array', items: ref('Recommendation') }, [
        query('status', { type: 'string', enum: [...RECOMMENDATION_STATUSES] }),
        query('priority', ref('Priority')),
        limit,
      ]),
      post: operatorOp('Enqueue a recommendation (starts its workflow)', {
        body: ref('EnqueueRecommendation'),
        data: ref('EnqueueResult'),
        success: '201',
        extra: { '200': answer('Already enqueued (same dedupeKey)', ref('EnqueueResult')) },
      }),
    },
    '/api/recommendations/{id}': {
      get: readOp(
        'A recommendation with its jobs (each waiting one with its ETA), history, workflow state and our archived copy of its video',
        {
          type: 'object',
          properties: {
            recommendation: ref('Recommendation'),
            jobs: { type: 'array', items: ref('Job') },
            video: {
              description: 'video_assets: our copy, once archived (null before)',
              type: ['object', 'null'],
              properties: {
                storage: { type: 'string', enum: ['fs', 's3'] },
                storageKey: { type: 'string' },
                sha256: { type: 'string' },
                bytes: { type: 'integer' },
                durationSeconds: { type: 'number' },
                kieTaskIds: { type: 'array', items: { type: 'string' } },
              },
            },
          },
        },
        [idParam],
        notFound,
      ),
    },
    '/api/recommendations/{id}/start': {
      post: operatorOp('Start (or find) the workflow of an existing recommendation', {
        parameters: [idParam],
        data: ref('EnqueueResult'),
        extra: notFound,
      }),
    },
    '/api/recommendations/{id}/cancel': {
      post: operatorOp('Cancel the recommendation and its open jobs', {
        parameters: [idParam],
        body: { type: 'object', additionalProperties: false, properties: { reason: { type: 'string' } } },
        success: '202',
        extra: notFound,
      }),
    },
    ...Object.fromEntries(
      (['approve', 'reject'] as const).map((decision) => [
        `/api/recommendations/{id}/${decision}`,
        {
          post: operatorOp(
            decision === 'approve'
              ? 'Approve what waits for approval (the brief before the render, or the video before posting, also when a republish ' +
                  'of a published idea waits for it); answers the new state'
              : 'Reject what waits for approval: nothing more is rendered or posted for it; answers the new state',
            {
              parameters: [idParam],
              body: {
                type: 'object',
                additionalProperties: false,
                properties: {
                  note: { type: 'string', maxLength: 2000 },
                  stage: { type: 'string', enum: ['render', 'publish'] },
                  reviewId: {
                    type: 'string',
                    minLength: 1,
                    maxLength: 100,
                    description: "The review decided on (the recommendation's approval.waiting.id): refused when another one waits",
                  },
                },
              },
              extra: {
                ...notFound,
                '409': error(
                  'Nothing waits for approval, or the stage or the review named is not the one waiting, or neither is named and ' +
                    "the idea's workflow asked a review before this one",
                ),
              },
            },
          ),
        },
      ]),
    ),
    '/api/recommendations/{id}/republish': {
      post: operatorOp(
        'Post the archived video again without a new render: on `platform` (where it is posted already, a second copy: only ' +
          'with `again: true`), or (no body) where its posts failed. With `post` (and `platform`): the post the platform made ' +
          'though its publish failed (its outcome unknown to us), read on the platform, then recorded instead of posting again. ' +
          'A platform whose post needs an editor and whose video no editor approved there waits for `approve` first',
        {
          parameters: [idParam],
          body: {
            type: 'object',
            additionalProperties: false,
            properties: {
              platform: { type: 'string', enum: [...PUBLISH_PLATFORMS] },
              post: { type: 'string', description: "the post's id on the platform (from its URL)" },
              again: { type: 'boolean', description: 'with `platform`: post a second copy where the idea is posted already' },
            },
          },
          success: '202',
          extra: {
            ...notFound,
            '409': error(
              'Not published yet, posted on `platform` already (without `again`), a republish of it is running, ' +
                'or the post is recorded already',
            ),
            '502': error('The platform could not be asked about the post; nothing changed'),
          },
        },
      ),
    },
    '/api/recommendations/{id}/retry': {
      post: operatorOp(
        'Make a failed or expired idea again (a new run of its workflow): completed steps are kept, recorded provider tasks followed, ' +
          'nothing paid twice. A render that died inside its paid submit needs `task` (the KIE task found on its dashboard, ' +
          'checked at KIE, then adopted) or `resubmit: true` (nothing was made: pay for a new one). A task KIE says failed, or made ' +
          "for another job (its callback URL names that job's submit) or from another prompt than the job's, is refused (400); " +
          "the adopting step's `matchedBy` says how the task was matched (`callback key`, `prompt`, or `unchecked`)",
        {
          parameters: [idParam],
          body: {
            type: 'object',
            additionalProperties: false,
            properties: { task: { type: 'string', maxLength: 200 }, resubmit: { type: 'boolean' } },
          },
          success: '202',
          extra: {
            ...notFound,
            '409': error('Neither failed nor expired, or a run of it is going'),
            '502': error('KIE could not be asked about the task; nothing changed'),
          },
        },
      ),
    },
    '/api/recommendations/{id}/priority': {
      post: operatorOp('Change the priority of the recommendation and its open jobs', {
        parameters: [idParam],
        body: { type: 'object', additionalProperties: false, required: ['priority'], properties: { priority: ref('Priority') } },
        extra: { ...notFound, '409': error('The workflow refused the change (e.g. already finished)') },
      }),
    },
    '/api/performance': {
      get: readOp(
        'How each published video does: per post views at +24 h and +7 d, its readings over time and spend per view; ' +
          "per type, player and platform the median views at +24 h; the week's best and worst; the posts not read yet",
        {
          type: 'object',
          properties: {
            posts: {
              type: 'array',
              items: {
                type: 'object',
                properties: {
                  behind: {
                    type: ['object', 'null'],
                    description:
                      'Its series missed its latest reading due (the post gone, a read failed, or no read taken: its series ' +
                      'stopped): the age missed, when it was due and why; null while it keeps up',
                    properties: { age: { type: 'string' }, dueAt: { type: 'string', format: 'date-time' }, reason: { type: 'string' } },
                  },
                },
              },
            },
            unread: {
              type: 'array',
              description: "Posts no read has measured yet, newest first; each's firstReadAt is when its series reads it first",
              items: { type: 'object', properties: { firstReadAt: { type: ['string', 'null'], format: 'date-time' } } },
            },
            firstReadingAt: {
              type: ['string', 'null'],
              format: 'date-time',
              description: "The soonest of the unread posts' firstReadAt; null when none has a series recorded",
            },
            byType: { type: 'array', items: { type: 'object' } },
            byPlayer: { type: 'array', items: { type: 'object' } },
            byPlatform: { type: 'array', items: { type: 'object' } },
            week: { type: 'object', properties: { best: { type: ['object', 'null'] }, worst: { type: ['object', 'null'] } } },
          },
        },
        [
          query('since', { type: 'string' }, 'An age (7d, 48h, 90m) or a date (ISO-8601); default 30 days'),
          query('type', { type: 'string', enum: [...RECOMMENDATION_TYPES] }),
          query('platform', { type: 'string', enum: [...PUBLISH_PLATFORMS] }),
        ],
      ),
    },
    '/api/names/unknown': {
      get: readOp(
        'Mentions no video could resolve to one player (unknown or ambiguous, with candidates), most frequent first',
        { type: 'array', items: { type: 'object' } },
        [query('limit', { type: 'integer', minimum: 1, maximum: 1000 })],
      ),
    },
    '/api/names/aliases': {
      post: operatorOp('Teach an alias ("<mention> is <player>"); stored videos that flagged it are resolved again', {
        body: {
          type: 'object',
          additionalProperties: false,
          required: ['mention', 'player'],
          properties: { mention: { type: 'string' }, player: { type: 'string', description: 'Roster id or exact name' } },
        },
        success: '201',
        extra: notFound,
      }),
    },
    '/api/jobs': {
      get: readOp(
        "List jobs (automation_queue): open ones first as the dashboard's queue (running, in line order, not asking yet), then the newest",
        { type: 'array', items: ref('Job') },
        [
          query('status', { type: 'string' }, `Comma-separated: ${JOB_STATUSES.join(', ')}`),
          query('provider', ref('Provider')),
          query('priority', ref('Priority')),
          query('since', { type: 'string', format: 'date-time' }, 'Jobs created at or after'),
          limit,
        ],
      ),
    },
    '/api/jobs/{id}': {
      get: readOp(
        'A job (with its ETA while it waits), its recommendation, history (job_events) and Temporal Web UI link',
        { type: 'object', properties: { job: ref('Job') } },
        [{ ...idParam, description: 'Job id' }],
        notFound,
      ),
    },
    '/api/jobs/{id}/cancel': {
      post: operatorOp("Cancel the job's recommendation workflow", {
        parameters: [idParam],
        body: { type: 'object', additionalProperties: false, properties: { reason: { type: 'string' } } },
        success: '202',
        extra: notFound,
      }),
    },
    '/api/jobs/{id}/priority': {
      post: operatorOp("Change the priority of the job's recommendation", {
        parameters: [idParam],
        body: { type: 'object', additionalProperties: false, required: ['priority'], properties: { priority: ref('Priority') } },
        extra: { ...notFound, '409': error('The workflow refused the change') },
      }),
    },
    '/api/workers': {
      get: readOp('Live workers per task queue (Temporal pollers seen in the last 90 s); a queue with 0 leaves its jobs waiting', {}, [], {
        '503': error('This server has no Temporal client'),
      }),
    },
    '/api/capacity': {
      get: readOp(
        'Per-provider cap, slots in use, free, waiting, spacing, and its quotas and budgets (used, limit, reset, parked)',
        { type: 'array', items: ref('Capacity') },
        [query('provider', ref('Provider'))],
      ),
    },
    '/api/stats': {
      get: readOp('Counts by status/type/priority, provider panels (with quotas) and performance by job type', {
        type: 'object',
        properties: { providers: { type: 'array', items: ref('ProviderPanel') } },
      }),
    },
    '/api/audit': {
      get: {
        ...readOp('Audit log, newest first', {}, [limit]),
        'x-role': 'operator',
        responses: { '200': answer('Audit rows'), ...operatorErrors },
      },
    },
    '/api/schedule': { get: readOp('The hourly recommendation schedule', {}, [], scheduleUnavailable) },
    '/api/schedule/pause': { post: operatorOp('Pause the hourly schedule', { extra: scheduleUnavailable }) },
    '/api/schedule/unpause': { post: operatorOp('Resume the hourly schedule', { extra: scheduleUnavailable }) },
    '/api/schedule/trigger': { post: operatorOp('Run the hourly schedule now', { extra: scheduleUnavailable }) },
    '/api/schedules/{name}': {
      get: readOp('A schedule by name: hourly (recommendations) or bargains (daily 08:00 Madrid)', {}, [scheduleName], scheduleUnavailable),
    },
    '/api/schedules/{name}/pause': { post: operatorOp('Pause a schedule', { parameters: [scheduleName], extra: scheduleUnavailable }) },
    '/api/schedules/{name}/unpause': { post: operatorOp('Resume a schedule', { parameters: [scheduleName], extra: scheduleUnavailable }) },
    '/api/schedules/{name}/trigger': { post: operatorOp('Run a schedule now', { parameters: [scheduleName], extra: scheduleUnavailable }) },
    '/api/competitors': {
      get: readOp('Watched competitor channels with their last check, videos found and last error', {
        type: 'array',
        items: ref('CompetitorChannel'),
      }),
      post: operatorOp('Watch a channel: validated on its platform first (an unknown handle is a 400 and nothing is stored)', {
        body: ref('AddCompetitorChannel'),
        data: ref('CompetitorChannel'),
        success: '201',
        extra: {
          '200': answer('Already watched', ref('CompetitorChannel')),
          '502': error('The platform did not answer (down or throttled); nothing stored'),
          ...competitorsUnavailable,
        },
      }),
    },
    '/api/competitors/{id}': {
      delete: operatorOp('Stop watching a channel (its analysed videos stay)', {
        parameters: [channelParam],
        extra: { '404': error('No such channel'), ...competitorsUnavailable },
      }),
    },
    '/api/competitors/{id}/check': {
      post: operatorOp('Check a channel now (as the competitors schedule does) and answer what it found', {
        parameters: [channelParam],
        extra: { '404': error('No such channel'), ...competitorsUnavailable },
      }),
    },
    '/api/competitor-videos': {
      post: operatorOp('Analyse one competitor video by URL (platform from the host); an analysed URL starts nothing', {
        body: ref('AddCompetitorVideo'),
        success: '202',
        extra: { '200': answer('Already analysed: nothing started, nothing paid'), ...competitorsUnavailable },
      }),
    },
  },
} as const;
