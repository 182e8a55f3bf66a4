/**
 * Local KIE.ai Veo 3.1: same routes, envelope and successFlag lifecycle as
 * api.kie.ai. A task renders for taskDurationMs, then points at a real MP4
 * this simulator serves itself (clips.ts: test pattern and tone, 8 s). An
 * extend continues a finished task: its video is the chain so far plus a new clip.
 */
import { readFile } from 'node:fs/promises';
import { Readable } from 'node:stream';
import { createHash } from 'node:crypto';
import {
  SimHttpError,
  SimulatorServer,
  STATUS_OF,
  type SimErrorKind,
  type SimReply,
  type SimRequest,
  type SimTask,
  type SimTaskJson,
  type SimulatorOptions,
} from './server';
import { extendRequestSchema, generateRequestSchema } from '../providers/veo3/schemas';
import { VEO3_CLIP_SECONDS } from '../config/reel';
import { clipMaker, type ClipMaker, type ClipSpec } from './clips';
import { sleep } from '../shared/sleep';
import { KieCredits, type KieCreditsOptions } from './kie-credits';

export interface Veo3SimulatorOptions extends SimulatorOptions, KieCreditsOptions {
  /**
   * Answer errors as HTTP 200 with the code only in the envelope, as third-party
   * clients report KIE doing. Default false (HTTP status = envelope code).
   */
  envelopeErrors?: boolean;
  /** Makes the MP4s (default: ffmpeg from FFMPEG_PATH, cached in the system temp directory). */
  clips?: ClipMaker;
}

interface VeoTask {
  taskId: string;
  params: Record<string, unknown>;
  aspectRatio: string;
  task: SimTask;
  /** The tones of the clips its video is made of: one for a generate, the parent's plus one for an extend. */
  chain?: number[];
}

interface SavedVeo3 {
  tasks: Array<Omit<VeoTask, 'task'> & { task: SimTaskJson }>;
  callbacks: Veo3Simulator['callbacks'];
  extends?: number;
}

const KIE_CODES: Record<SimErrorKind, number> = { ...STATUS_OF, invalid: 400, not_found: 404, unavailable: 455 };

export class Veo3Simulator extends SimulatorServer {
  /** See Veo3SimulatorOptions.envelopeErrors; switchable at runtime. */
  envelopeErrors: boolean;
  private tasks = new Map<string, VeoTask>();
  /** Callbacks POSTed to callBackUrl: sent, answered 2xx, answered otherwise, not answered. */
  readonly callbacks = { sent: 0, delivered: 0, rejected: 0, failed: 0 };
  /** The next N videos served are not MP4 at all (a truncated CDN answer): what ffprobe cannot read. */
  corruptNextVideos = 0;
  /** Extend submissions among `submissions` (paid like a generate). */
  extends = 0;
  /** Result videos sent slowly, this many bytes a second (0: at once): a download a test can kill midway. */
  downloadBytesPerSecond = 0;
  /** Result video requests: whole, and the first byte of each ranged one (a resumed download). */
  downloads: { whole: number; rangeStarts: number[] } = { whole: 0, rangeStarts: [] };
  private readonly clips: ClipMaker;

  /** KIE's credit balance (kie-credits.ts): GET /api/v1/chat/credit, a generate spends its model's cost. */
  readonly credits: KieCredits;

  constructor(options: Veo3SimulatorOptions = {}) {
    super('veo3', options);
    this.credits = this.extend(new KieCredits(options, () => this.recordQuotaRefusal()));
    this.envelopeErrors = options.envelopeErrors ?? false;
    this.clips = options.clips ?? clipMaker();
    this.route('POST', /^\/api\/v1\/veo\/generate$/, (req) => this.generate(req));
    this.route('POST', /^\/api\/v1\/veo\/extend$/, (req) => this.extendTask(req));
    this.route('GET', /^\/api\/v1\/veo\/record-info$/, (req) => this.recordInfo(req));
  }

  protected override onReset(): void {
    this.tasks = new Map();
    this.corruptNextVideos = 0;
    this.extends = 0;
    this.downloadBytesPerSecond = 0;
    this.downloads = { whole: 0, rangeStarts: [] };
    Object.assign(this.callbacks, { sent: 0, delivered: 0, rejected: 0, failed: 0 });
  }

  protected override saveState(): SavedVeo3 {
    return {
      tasks: [...this.tasks.values()].map((t) => ({ ...t, task: t.task.toJSON() })),
      callbacks: this.callbacks,
      extends: this.extends,
    };
  }

  protected override loadState(state: SavedVeo3): void {
    Object.assign(this.callbacks, state.callbacks);
    this.extends = state.extends ?? 0;
    for (const saved of state.tasks) {
      const entry: VeoTask = { ...saved, task: this.restoreTask(saved.task) };
      this.tasks.set(entry.taskId, entry);
      // KIE calls back whenever the render ends, whether or not we were listening meanwhile.
      const callBackUrl = saved.params.callBackUrl;
      if (typeof callBackUrl === 'string' && entry.task.state() === 'processing') void this.callBackWhenDone(entry, callBackUrl);
    }
  }

  protected errorReply(kind: SimErrorKind, message: string, extra: Record<string, unknown>): SimReply {
    const code = typeof extra.code === 'number' ? extra.code : KIE_CODES[kind];
    const msg = kind === 'unauthorized' ? 'You do not have access permissions' : message;
    return { status: this.envelopeErrors ? 200 : code, body: { code, msg, data: null } };
  }

  private generate(req: SimRequest): SimReply {
    const parsed = generateRequestSchema.safeParse(req.json());
    if (!parsed.success) {
      const issue = parsed.error.issues[0];
      const field = issue?.path.join('.') || 'body';
      // Missing parameters are KIE's 400; values out of range are its 422 validation error.
      const missing = issue?.code === 'invalid_type' && issue.received === 'undefined';
      const code = missing || field === 'prompt' ? 400 : 422;
      throw new SimHttpError('invalid', `${field}: ${issue?.message ?? 'invalid'}`, undefined, { code });
    }
    const body = parsed.data;
    const images = body.imageUrls?.length ?? 0;
    if (body.generationType !== 'TEXT_2_VIDEO' && images === 0) {
      throw new SimHttpError('invalid', `imageUrls: required for ${body.generationType}`, undefined, { code: 422 });
    }
    if (body.generationType === 'REFERENCE_2_VIDEO' && body.model !== 'veo3_fast') {
      throw new SimHttpError('invalid', 'REFERENCE_2_VIDEO is only available with veo3_fast', undefined, { code: 422 });
    }
    this.credits.spend(this.credits.generateCost[body.model]);
    const taskId = this.newId('veo_task_');
    this.recordSubmission(req);
    // Independent segments differ in prompt, so they differ in tone too.
    const tone = createHash('sha256').update(body.prompt).digest()[0]!;
    const entry: VeoTask = { taskId, params: body, aspectRatio: body.aspectRatio, task: this.startTask(), chain: [tone] };
    this.tasks.set(taskId, entry);
    if (body.callBackUrl) void this.callBackWhenDone(entry, body.callBackUrl);
    // Only the callback then names the task (answerLostNext).
    return this.lostAnswer() ?? ok({ taskId });
  }

  /** The ids of the tasks made so far, oldest first: what an operator would find on KIE's dashboard. */
  taskIds(): string[] {
    return [...this.tasks.keys()];
  }

  /** KIE's extend: a new paid task continuing a finished one (same ratio), whose video is the whole chain. */
  private extendTask(req: SimRequest): SimReply {
    const parsed = extendRequestSchema.safeParse(req.json());
    if (!parsed.success) {
      const issue = parsed.error.issues[0];
      throw new SimHttpError('invalid', `${issue?.path.join('.') || 'body'}: ${issue?.message ?? 'invalid'}`, undefined, { code: 400 });
    }
    const body = parsed.data;
    const parent = this.tasks.get(body.taskId);
    if (!parent) throw new SimHttpError('invalid', 'recordInfo is null', undefined, { code: 422 });
    if (parent.task.state() !== 'succeeded') {
      throw new SimHttpError(
        'invalid',
        `task ${body.taskId} has not generated successfully; only a finished video can be extended`,
        undefined,
        {
          code: 422,
        },
      );
    }
    // An extend is billed like a render of the model that made the task it continues.
    const model = parent.params.model === 'veo3' ? 'veo3' : 'veo3_fast';
    this.credits.spend(this.credits.generateCost[model]);
    const taskId = this.newId('veo_extend_');
    this.recordSubmission(req);
    this.extends += 1;
    const chain = parent.chain ?? [0];
    const entry: VeoTask = {
      taskId,
      params: { ...body, parentTaskId: body.taskId },
      aspectRatio: parent.aspectRatio,
      task: this.startTask(),
      // Each link sounds one tone higher than the one it continues.
      chain: [...chain, chain.at(-1)! + 1],
    };
    this.tasks.set(taskId, entry);
    if (body.callBackUrl) void this.callBackWhenDone(entry, body.callBackUrl);
    // Only the callback then names the task (answerLostNext).
    return this.lostAnswer() ?? ok({ taskId });
  }

  /** A finished task's video, made on first request; anything else is the CDN's 404. */
  protected override async mediaFile(name: string, req?: SimRequest): Promise<SimReply> {
    const entry = this.tasks.get(name);
    if (!entry || entry.task.state() !== 'succeeded') return { status: 404, body: 'not found' };
    if (this.corruptNextVideos > 0) {
      this.corruptNextVideos -= 1;
      return { status: 200, headers: { 'Content-Type': 'video/mp4' }, body: Buffer.from('<html>upstream timeout</html>'.repeat(40)) };
    }
    const [width, height] = entry.aspectRatio === '16:9' ? [1280, 720] : [720, 1280];
    const specs: ClipSpec[] = (entry.chain ?? [0]).map((tone) => ({ tone, width, height, seconds: VEO3_CLIP_SECONDS }));
    const file = await this.clips.chain(specs);
    return this.sendVideo(await readFile(file), req?.header('range'));
  }

  /** A CDN's answer: byte ranges (206, as KIE's CDN answers them), at downloadBytesPerSecond when set. */
  private sendVideo(bytes: Buffer, range: string | undefined): SimReply {
    const m = /^bytes=(\d+)-(\d*)$/.exec(range ?? '');
    const start = m ? Number(m[1]) : 0;
    const end = m?.[2] ? Math.min(Number(m[2]), bytes.length - 1) : bytes.length - 1;
    if (m && (start >= bytes.length || start > end)) {
      return { status: 416, headers: { 'Content-Range': `bytes */${bytes.length}` }, body: '' };
    }
    if (m) this.downloads.rangeStarts.push(start);
    else this.downloads.whole += 1;
    const part = bytes.subarray(start, end + 1);
    const headers: Record<string, string> = {
      'Content-Type': 'video/mp4',
      'Accept-Ranges': 'bytes',
      'Content-Length': String(part.length),
      ...(m ? { 'Content-Range': `bytes ${start}-${end}/${bytes.length}` } : {}),
    };
    const status = m ? 206 : 200;
    if (this.downloadBytesPerSecond <= 0) return { status, headers, body: part };
    return { status, headers, stream: Readable.from(trickle(part, this.downloadBytesPerSecond)) };
  }

  /** KIE's callback: one POST when the task ends (success or failure); nothing if it never does or the simulator is reset. */
  private async callBackWhenDone(entry: VeoTask, url: string): Promise<void> {
    for (;;) {
      await sleep(Math.max(1, Math.min(100, entry.task.readyAt - Date.now())));
      if (this.tasks.get(entry.taskId) !== entry) return;
      if (entry.task.state() !== 'processing') break;
    }
    const succeeded = entry.task.state() === 'succeeded';
    const video = this.mediaUrl(entry.taskId);
    const body = succeeded
      ? {
          code: 200,
          msg: 'Veo3 video generated successfully.',
          data: {
            taskId: entry.taskId,
            info: { resultUrls: [video], originUrls: entry.aspectRatio === '16:9' ? null : [video], resolution: '720p' },
            fallbackFlag: false,
          },
        }
      : { code: 501, msg: 'Generation failed (simulated failTasks)', data: { taskId: entry.taskId, info: null, fallbackFlag: false } };
    this.callbacks.sent += 1;
    // KIE gives the receiver 15 s; its retry policy is undocumented, so the simulator does not retry.
    await fetch(url, {
      method: 'POST',
      headers: { 'Content-Type': 'application/json' },
      body: JSON.stringify(body),
      signal: AbortSignal.timeout(15_000),
    })
      .then((res) => (res.ok ? (this.callbacks.delivered += 1) : (this.callbacks.rejected += 1)))
      .catch(() => (this.callbacks.failed += 1));
  }

  private recordInfo(req: SimRequest): SimReply {
    const taskId = req.url.searchParams.get('taskId');
    if (!taskId) throw new SimHttpError('invalid', 'taskId is required', undefined, { code: 400 });
    const entry = this.tasks.get(taskId);
    if (!entry) throw new SimHttpError('invalid', 'recordInfo is null', undefined, { code: 422 });
    const state = entry.task.state();
    const successFlag = state === 'processing' ? 0 : state === 'succeeded' ? 1 : 3;
    const video = this.mediaUrl(taskId);
    return ok({
      taskId,
      paramJson: JSON.stringify(entry.params),
      createTime: entry.task.createdAt,
      completeTime: state === 'processing' ? null : entry.task.readyAt,
      successFlag,
      errorCode: state === 'failed' ? 501 : null,
      errorMessage: state === 'failed' ? 'Generation failed (simulated failTasks)' : null,
      fallbackFlag: false,
      response:
        state === 'succeeded'
          ? {
              taskId,
              resultUrls: [video],
              // KIE only returns originUrls when the ratio is not 16:9.
              originUrls: entry.aspectRatio === '16:9' ? null : [video],
              resolution: '720p',
            }
          : null,
    });
  }
}

/** `bytes` in 16 KiB pieces, paced to `perSecond`. */
async function* trickle(bytes: Buffer, perSecond: number): AsyncGenerator<Buffer> {
  const piece = 16_384;
  for (let at = 0; at < bytes.length; at += piece) {
    const chunk = bytes.subarray(at, at + piece);
    yield chunk;
    await sleep((chunk.length / perSecond) * 1000);
  }
}

function ok(data: unknown): SimReply {
  return { status: 200, body: { code: 200, msg: 'success', data } };
}
