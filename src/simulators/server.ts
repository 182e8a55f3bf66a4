/**
 * What every provider simulator shares: a node:http server on 127.0.0.1,
 * switchable faults, counters a test can assert on ("exactly one VEO3
 * submission", "never more than 2 in flight"), async task bookkeeping and a
 * media route standing in for the provider's CDN. Each provider's simulator
 * only adds its routes and its error envelope.
 */
import { mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import { createHash, randomBytes } from 'node:crypto';
import type { Readable } from 'node:stream';
import { z } from 'zod';
import { sleep } from '../shared/sleep';

export interface SimFaults {
  /** Delay before answering each API request. */
  latencyMs: number;
  /** Chance (0..1) that an API request is answered 500. */
  errorRate: number;
  /** The next N API requests are answered 429 with `Retry-After: 1`. */
  rateLimitNext: number;
  /** The next N API requests are answered 500 / 503 (alternating). */
  failNext: number;
  /** API requests are held unanswered until hang is cleared or the server stops. */
  hang: boolean;
  /** The next N API requests get HTTP 200 with a body that is not valid JSON. */
  malformedNext: number;
  /** Async tasks stay processing forever. */
  neverFinish: boolean;
  /** Async tasks end failed instead of succeeding. */
  failTasks: boolean;
  /** How long an async task / upload stays processing. */
  taskDurationMs: number;
  /**
   * Delay between handling an API request that changes something (not a GET) and sending its answer: the work is
   * done (a paid task created) while the answer is still on its way, so a client killed meanwhile never learns it.
   */
  answerDelayMs: number;
}

export interface SimStats {
  /** API requests received (control and media routes excluded). */
  requests: number;
  /** Paid / creating calls (VEO3 generate, container create, upload session, model call…). */
  submissions: number;
  /** Async tasks currently processing at the provider. */
  inFlight: number;
  maxInFlight: number;
  /** Epoch ms of each submission. */
  submitTimes: number[];
  /** 429 answers sent, injected or not. */
  rateLimited: number;
  /**
   * Requests refused because a daily / moving-window quota or the credit balance was spent (the provider's own
   * quota answer: Graph 9/2207042, quotaExceeded, uploadLimitExceeded, spam_risk_too_many_posts, errors.requests,
   * KIE 402). A run that respects the quotas keeps this at 0.
   */
  quotaRefusals: number;
}

const DEFAULT_TASK_DURATION_MS = 3_000;

const faultsPatch = z
  .object({
    latencyMs: z.number().min(0),
    errorRate: z.number().min(0).max(1),
    rateLimitNext: z.number().int().min(0),
    failNext: z.number().int().min(0),
    hang: z.boolean(),
    malformedNext: z.number().int().min(0),
    neverFinish: z.boolean(),
    failTasks: z.boolean(),
    taskDurationMs: z.number().min(0),
    answerDelayMs: z.number().min(0),
  })
  .partial()
  .strict();

export interface SimulatorOptions {
  /** 0 (default) picks a free port. */
  port?: number;
  /** Bind address. Default 127.0.0.1; 0.0.0.0 when other containers must reach it. */
  host?: string;
  /**
   * Host put in the URLs the simulator hands out (result videos, upload
   * sessions), i.e. how clients reach it. Default: the bind host, or
   * 127.0.0.1 when binding to all interfaces.
   */
  publicHost?: string;
  /** Default for the taskDurationMs fault, restored by reset(). Default 3000. */
  taskDurationMs?: number;
  /**
   * JSON file keeping provider state (tasks, containers, uploads, publish ids) and the
   * counters across restarts, as a real provider keeps them while our side restarts:
   * a demo stopped mid-render finds its render again. Unset (tests): memory only.
   */
  stateFile?: string;
}

export interface SimRequest {
  method: string;
  url: URL;
  /** Regex capture groups of the matched route. */
  params: string[];
  body: Buffer;
  header(name: string): string | undefined;
  /** The body as JSON; a bad body becomes the provider's 400. */
  json(): unknown;
  /** True once the client went away or the simulator stopped. */
  closed(): boolean;
  /** When its headers were in (Date.now()), before the body, latency or a busy event loop: what a provider's limiter counts. */
  arrivedAt: number;
}

export interface SimReply {
  status: number;
  /** Objects are sent as JSON, Buffers and strings as given. */
  body?: unknown;
  headers?: Record<string, string>;
  /** Sent instead of body, as it comes (a slow CDN); headers must carry its Content-Length. */
  stream?: Readable;
}

export type SimErrorKind = 'unauthorized' | 'rate_limited' | 'server_error' | 'unavailable' | 'invalid' | 'not_found';

/** Thrown by route handlers to answer in the provider's error shape. */
export class SimHttpError extends Error {
  constructor(
    readonly kind: SimErrorKind,
    message: string,
    /** Overrides the default status of the kind. */
    readonly status?: number,
    /** Provider-specific extras (error code, subcode, reason) passed to errorReply. */
    readonly extra: Record<string, unknown> = {},
  ) {
    super(message);
  }
}

export const STATUS_OF: Record<SimErrorKind, number> = {
  unauthorized: 401,
  rate_limited: 429,
  server_error: 500,
  unavailable: 503,
  invalid: 400,
  not_found: 404,
};

export type TaskState = 'processing' | 'succeeded' | 'failed';

/**
 * Something the provider works on after answering (a render, a container, a
 * transcode). Its state is computed when observed so the faults in force at
 * that moment (neverFinish, failTasks) decide how it ends.
 */
export class SimTask {
  private outcome: Exclude<TaskState, 'processing'> | undefined;

  constructor(
    readonly createdAt: number,
    readonly readyAt: number,
    private readonly faults: () => SimFaults,
    private readonly onSettled: (task: SimTask) => void,
  ) {}

  state(now = Date.now()): TaskState {
    if (this.outcome) return this.outcome;
    const f = this.faults();
    if (f.neverFinish || now < this.readyAt) return 'processing';
    this.finish(f.failTasks ? 'failed' : 'succeeded');
    return this.outcome ?? 'processing';
  }

  toJSON(): SimTaskJson {
    return { createdAt: this.createdAt, readyAt: this.readyAt, ...(this.outcome ? { outcome: this.outcome } : {}) };
  }

  /** Restores a settled outcome read from a state file (no onSettled: it never counted as active). */
  restoreOutcome(outcome: Exclude<TaskState, 'processing'>): void {
    this.outcome = outcome;
  }

  /** Settles explicitly (synchronous work such as a model call). */
  finish(outcome: Exclude<TaskState, 'processing'> = 'succeeded'): void {
    if (this.outcome) return;
    this.outcome = outcome;
    this.onSettled(this);
  }
}

/** A task as written to a state file: its clock and, once settled, how it ended. */
export interface SimTaskJson {
  createdAt: number;
  readyAt: number;
  outcome?: Exclude<TaskState, 'processing'>;
}

const STATE_FILE_VERSION = 1;

type Handler = (req: SimRequest) => SimReply | Promise<SimReply>;

interface Route {
  method: string;
  pattern: RegExp;
  handler: Handler;
  /** Narrows a pattern another route shares (Business Discovery and container reads are both GET /<id>). */
  when?: (req: SimRequest) => boolean;
}

/**
 * More routes on a provider's simulator from a file of its own (competitor discovery on the
 * YouTube and Instagram hosts): API routes, /__sim/ control routes, requests that need no
 * credentials, and plain-JSON state that reset() clears and the state file keeps.
 */
export interface SimExtension {
  /** Key of its state in the state file. */
  readonly name: string;
  routes(): Array<{ method: string; pattern: RegExp; handler: Handler; when?: (req: SimRequest) => boolean }>;
  /** Paths under /__sim/ (e.g. /__sim/youtube/channels), answered as control routes: not counted, no faults. */
  controlRoutes(): Array<{ method: string; pattern: RegExp; handler: (req: SimRequest) => SimReply }>;
  /** True for requests the real provider serves without a token (public feeds, an API key in the query). */
  isPublic(req: SimRequest): boolean;
  reset(): void;
  toJSON(): unknown;
  load(state: unknown): void;
}

export abstract class SimulatorServer {
  private server: http.Server | undefined;
  private boundPort = 0;
  private readonly routes: Route[] = [];
  private readonly defaultTaskDurationMs: number;
  private currentFaults: SimFaults;
  private counters = emptyCounters();
  private active = new Set<SimTask>();
  private hangWaiters = new Set<() => void>();
  private failToggle = false;
  private stopped = false;
  private saveTimer: NodeJS.Timeout | undefined;
  private readonly extensions: SimExtension[] = [];

  protected constructor(
    /** Short name used in logs and ids. */
    readonly name: string,
    private readonly options: SimulatorOptions = {},
  ) {
    this.defaultTaskDurationMs = options.taskDurationMs ?? DEFAULT_TASK_DURATION_MS;
    this.currentFaults = this.defaultFaults();
  }

  /** The provider's error envelope for a given kind of failure. */
  protected abstract errorReply(kind: SimErrorKind, message: string, extra: Record<string, unknown>): SimReply;

  /** Default: `Authorization: Bearer <anything>`. */
  protected isAuthorized(req: SimRequest): boolean {
    return /^Bearer\s+\S+/i.test(req.header('authorization') ?? '');
  }

  /**
   * The file behind mediaUrl(name) (`req`: its request, for a Range). Default: a small stand-in for an MP4
   * (enough for uploads that never decode it).
   */
  protected mediaFile(name: string, _req?: SimRequest): SimReply | Promise<SimReply> {
    return mediaReply(name);
  }

  /** Drop provider state (tasks, containers, uploads) on reset(). */
  protected onReset(): void {}

  /** Provider state to keep across restarts, JSON-serialisable (tasks via SimTask.toJSON). Default: none. */
  protected saveState(): unknown {
    return undefined;
  }

  /** Takes back what saveState wrote (restoreTask for tasks). Called before the server listens. */
  protected loadState(_state: unknown): void {}

  /** A task read back from a state file; one still processing counts as in flight again. */
  protected restoreTask(json: SimTaskJson): SimTask {
    const task = new SimTask(
      json.createdAt,
      json.readyAt,
      () => this.currentFaults,
      (t) => this.active.delete(t),
    );
    if (json.outcome) task.restoreOutcome(json.outcome);
    else this.active.add(task);
    return task;
  }

  protected route(method: string, pattern: RegExp, handler: Handler): void {
    this.routes.push({ method, pattern, handler });
  }

  /** Mounts an extension; its routes go before the simulator's own (call it before registering those). */
  protected extend<E extends SimExtension>(extension: E): E {
    this.extensions.push(extension);
    this.routes.push(...extension.routes());
    return extension;
  }

  async start(): Promise<this> {
    if (this.server) return this;
    this.stopped = false;
    this.readStateFile();
    const server = http.createServer((req, res) => {
      this.dispatch(req, res, Date.now()).catch((err: unknown) => {
        if (!res.headersSent && !res.destroyed) {
          res.writeHead(500, { 'Content-Type': 'text/plain' });
          res.end(`simulator crashed: ${String(err)}`);
        }
      });
    });
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(this.options.port ?? 0, this.options.host ?? '127.0.0.1', () => {
        server.off('error', reject);
        resolve();
      });
    });
    this.server = server;
    this.boundPort = (server.address() as AddressInfo).port;
    return this;
  }

  /** Closes the server and destroys open sockets, including hanging requests. */
  async stop(): Promise<void> {
    const server = this.server;
    if (!server) return;
    this.server = undefined;
    this.stopped = true;
    this.releaseHung();
    this.writeStateFile();
    await new Promise<void>((resolve) => {
      server.close(() => resolve());
      server.closeAllConnections();
    });
  }

  get port(): number {
    return this.boundPort;
  }

  /** How clients reach this simulator, e.g. `http://127.0.0.1:<port>` (no trailing slash). */
  get url(): string {
    const bind = this.options.host ?? '127.0.0.1';
    const host = this.options.publicHost ?? (bind === '0.0.0.0' || bind === '::' ? '127.0.0.1' : bind);
    return `http://${host.includes(':') ? `[${host}]` : host}:${this.boundPort}`;
  }

  /** URL of a small MP4 payload served by this simulator (the provider's CDN). */
  mediaUrl(name: string): string {
    return `${this.url}/videos/${encodeURIComponent(name)}.mp4`;
  }

  get faults(): SimFaults {
    return { ...this.currentFaults };
  }

  /** Merges into the current faults; clearing `hang` releases held requests. */
  setFaults(patch: Partial<SimFaults>): SimFaults {
    const parsed = faultsPatch.parse(patch);
    this.currentFaults = { ...this.currentFaults, ...parsed };
    if (!this.currentFaults.hang) this.releaseHung();
    return this.faults;
  }

  /** Default faults, zeroed stats and no provider state: a fresh simulator on the same port. */
  reset(): void {
    this.currentFaults = this.defaultFaults();
    this.counters = emptyCounters();
    this.active = new Set();
    this.failToggle = false;
    this.answerLostNext = 0;
    this.releaseHung();
    this.onReset();
    for (const e of this.extensions) e.reset();
    this.scheduleSave();
  }

  /** Writes the state file soon: every answered request may have changed provider state. */
  protected scheduleSave(): void {
    if (!this.options.stateFile || this.saveTimer) return;
    this.saveTimer = setTimeout(() => {
      this.saveTimer = undefined;
      this.writeStateFile();
    }, 100);
    this.saveTimer.unref();
  }

  private readStateFile(): void {
    const file = this.options.stateFile;
    if (!file) return;
    let text: string;
    try {
      text = readFileSync(file, 'utf8');
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return;
      throw err;
    }
    const saved = JSON.parse(text) as {
      version?: number;
      counters?: Omit<SimStats, 'inFlight'>;
      state?: unknown;
      extensions?: Record<string, unknown>;
    };
    // A file from another layout is not ours to guess at: start empty rather than half-restored.
    if (saved.version !== STATE_FILE_VERSION) return;
    if (saved.counters) this.counters = { ...emptyCounters(), ...saved.counters };
    if (saved.state !== undefined) this.loadState(saved.state);
    for (const e of this.extensions) if (saved.extensions?.[e.name] !== undefined) e.load(saved.extensions[e.name]);
  }

  /** Synchronous and atomic (write, then rename): a Ctrl-C never leaves half a file. */
  private writeStateFile(): void {
    const file = this.options.stateFile;
    if (!file) return;
    if (this.saveTimer) clearTimeout(this.saveTimer);
    this.saveTimer = undefined;
    mkdirSync(path.dirname(file), { recursive: true });
    const tmp = `${file}.${process.pid}.tmp`;
    const extensions = Object.fromEntries(this.extensions.map((e) => [e.name, e.toJSON()]));
    writeFileSync(tmp, JSON.stringify({ version: STATE_FILE_VERSION, counters: this.counters, state: this.saveState(), extensions }));
    renameSync(tmp, file);
  }

  stats(): SimStats {
    return { ...this.counters, submitTimes: [...this.counters.submitTimes], inFlight: this.countInFlight() };
  }

  /**
   * The next N creating calls (a render, a post) make what they were asked for and their answer is lost on its way
   * back: a gateway in front of the provider answers 504, as a proxy that timed out waiting does.
   */
  answerLostNext = 0;

  /** The gateway's 504 when a creating call's answer is to be lost (answerLostNext), else null: answer as made. */
  protected lostAnswer(): SimReply | null {
    if (this.answerLostNext <= 0) return null;
    this.answerLostNext -= 1;
    return { status: 504, headers: { 'Content-Type': 'text/html' }, body: '<html><body><h1>504 Gateway Time-out</h1></body></html>' };
  }

  /** Counts a paid / creating call, at its arrival. */
  protected recordSubmission(req: SimRequest): void {
    this.counters.submissions += 1;
    this.counters.submitTimes.push(req.arrivedAt);
  }

  /** Starts an async task that processes for taskDurationMs (unless given). */
  protected startTask(durationMs = this.currentFaults.taskDurationMs): SimTask {
    const now = Date.now();
    const task = new SimTask(
      now,
      now + durationMs,
      () => this.currentFaults,
      (t) => this.active.delete(t),
    );
    this.active.add(task);
    // In-flight only grows at a start, so sampling here yields the true maximum.
    this.counters.maxInFlight = Math.max(this.counters.maxInFlight, this.countInFlight(now));
    return task;
  }

  /**
   * Holds a synchronous call (a model run) while its task processes, so such
   * calls take taskDurationMs and count as in flight like async ones.
   * Resolves with the final state, or 'failed' if the client gave up.
   */
  protected async runTask(req: SimRequest, task = this.startTask()): Promise<Exclude<TaskState, 'processing'>> {
    for (;;) {
      const state = task.state();
      if (state !== 'processing') return state;
      if (req.closed()) {
        task.finish('failed');
        return 'failed';
      }
      await sleep(Math.max(1, Math.min(25, task.readyAt - Date.now())));
    }
  }

  /** Counts a request refused by a quota (see SimStats.quotaRefusals). */
  protected recordQuotaRefusal(): void {
    this.counters.quotaRefusals += 1;
  }

  /** The quota knobs served at GET /__sim/quotas; undefined: this simulator enforces none. */
  protected quotaKnobs(): unknown {
    return undefined;
  }

  /** POST /__sim/quotas: validates and applies a patch of quotaKnobs(), returns the knobs now in force. */
  protected setQuotaKnobs(_patch: unknown): unknown {
    return undefined;
  }

  /** Provider-looking id: prefix + hex, unique per process. */
  protected newId(prefix = '', bytes = 8): string {
    return `${prefix}${randomBytes(bytes).toString('hex')}`;
  }

  private countInFlight(now = Date.now()): number {
    let n = 0;
    for (const task of [...this.active]) if (task.state(now) === 'processing') n += 1;
    return n;
  }

  private defaultFaults(): SimFaults {
    return {
      latencyMs: 0,
      errorRate: 0,
      rateLimitNext: 0,
      failNext: 0,
      hang: false,
      malformedNext: 0,
      neverFinish: false,
      failTasks: false,
      taskDurationMs: this.defaultTaskDurationMs,
      answerDelayMs: 0,
    };
  }

  private releaseHung(): void {
    const waiters = [...this.hangWaiters];
    this.hangWaiters.clear();
    for (const release of waiters) release();
  }

  private async dispatch(req: http.IncomingMessage, res: http.ServerResponse, arrivedAt: number): Promise<void> {
    const body = await readBody(req);
    const url = new URL(req.url ?? '/', 'http://127.0.0.1');
    const method = (req.method ?? 'GET').toUpperCase();
    const simReq: SimRequest = {
      method,
      url,
      params: [],
      body,
      header: (name) => {
        const value = req.headers[name.toLowerCase()];
        return Array.isArray(value) ? value[0] : value;
      },
      closed: () => this.stopped || res.destroyed || req.socket.destroyed,
      arrivedAt,
      json: () => {
        try {
          return JSON.parse(body.toString('utf8')) as unknown;
        } catch {
          throw new SimHttpError('invalid', 'request body is not valid JSON');
        }
      },
    };

    if (url.pathname.startsWith('/__sim/')) return this.send(res, this.control(simReq));
    const media = method === 'GET' ? /^\/videos\/([^/]+)\.mp4$/.exec(url.pathname) : null;
    if (media) return this.send(res, await this.mediaFile(decodeURIComponent(media[1] ?? 'video'), simReq));

    this.counters.requests += 1;
    const f = this.currentFaults;
    if (f.hang) {
      await new Promise<void>((resolve) => this.hangWaiters.add(resolve));
      // A client that gave up (timeout) or a stopped server gets nothing, as on a real hung backend.
      if (this.stopped || res.destroyed || req.socket.destroyed) return;
    }
    if (f.latencyMs > 0) await sleep(f.latencyMs);
    if (this.stopped || res.destroyed) return;

    const injected = this.injectedFault();
    if (injected) return this.send(res, injected);
    if (!this.isAuthorized(simReq) && !this.extensions.some((e) => e.isPublic(simReq))) {
      return this.send(res, this.errorFor(new SimHttpError('unauthorized', 'missing or invalid credentials')));
    }
    for (const route of this.routes) {
      if (route.method !== method) continue;
      const match = route.pattern.exec(url.pathname);
      if (!match || (route.when && !route.when(simReq))) continue;
      simReq.params = match.slice(1).map((p) => decodeURIComponent(p ?? ''));
      try {
        const reply = await route.handler(simReq);
        if (f.answerDelayMs > 0 && method !== 'GET') await sleep(f.answerDelayMs);
        return this.send(res, reply);
      } catch (err) {
        if (err instanceof SimHttpError) return this.send(res, this.errorFor(err));
        return this.send(res, this.errorFor(new SimHttpError('server_error', `simulator error: ${String(err)}`)));
      } finally {
        this.scheduleSave();
      }
    }
    return this.send(res, this.errorFor(new SimHttpError('not_found', `no route for ${method} ${url.pathname}`)));
  }

  private injectedFault(): SimReply | undefined {
    const f = this.currentFaults;
    if (f.rateLimitNext > 0) {
      f.rateLimitNext -= 1;
      const reply = this.errorFor(new SimHttpError('rate_limited', 'rate limit exceeded (simulated)'));
      return { ...reply, headers: { ...reply.headers, 'Retry-After': '1' } };
    }
    if (f.failNext > 0) {
      f.failNext -= 1;
      this.failToggle = !this.failToggle;
      const kind = this.failToggle ? 'server_error' : 'unavailable';
      return this.errorFor(new SimHttpError(kind, 'internal error (simulated)'));
    }
    if (f.errorRate > 0 && Math.random() < f.errorRate) {
      return this.errorFor(new SimHttpError('server_error', 'internal error (simulated, errorRate)'));
    }
    if (f.malformedNext > 0) {
      f.malformedNext -= 1;
      return { status: 200, headers: { 'Content-Type': 'application/json' }, body: '{"data": {"id": <html>upstream proxy error' };
    }
    return undefined;
  }

  private errorFor(err: SimHttpError): SimReply {
    const reply = this.errorReply(err.kind, err.message, err.extra);
    return err.status !== undefined ? { ...reply, status: err.status } : reply;
  }

  private control(req: SimRequest): SimReply {
    const path = req.url.pathname;
    try {
      if (path === '/__sim/faults' && req.method === 'POST') {
        return { status: 200, body: this.setFaults(req.json() as Partial<SimFaults>) };
      }
      if (path === '/__sim/faults' && req.method === 'GET') return { status: 200, body: this.faults };
      if (path === '/__sim/reset' && req.method === 'POST') {
        this.reset();
        return { status: 200, body: { ok: true } };
      }
      if (path === '/__sim/stats' && req.method === 'GET') return { status: 200, body: this.stats() };
      if (path === '/__sim/quotas' && this.quotaKnobs() !== undefined) {
        if (req.method === 'GET') return { status: 200, body: this.quotaKnobs() };
        if (req.method === 'POST') {
          const body = this.setQuotaKnobs(req.json());
          this.scheduleSave();
          return { status: 200, body };
        }
      }
      for (const route of this.extensions.flatMap((e) => e.controlRoutes())) {
        const match = route.method === req.method ? route.pattern.exec(path) : null;
        if (!match) continue;
        req.params = match.slice(1).map((p) => decodeURIComponent(p ?? ''));
        const reply = route.handler(req);
        this.scheduleSave();
        return reply;
      }
    } catch (err) {
      const message =
        err instanceof z.ZodError ? err.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; ') : String((err as Error).message);
      return { status: 400, body: { ok: false, error: { message } } };
    }
    return { status: 404, body: { ok: false, error: { message: `unknown control route ${req.method} ${path}` } } };
  }

  private send(res: http.ServerResponse, reply: SimReply): void {
    if (res.destroyed || res.writableEnded) return;
    if (reply.status === 429) this.counters.rateLimited += 1;
    const headers: Record<string, string> = { ...reply.headers };
    if (reply.stream) {
      res.writeHead(reply.status, headers);
      // A client that goes away mid-file (a killed worker) just ends the stream.
      reply.stream.on('error', () => res.destroy());
      res.on('close', () => reply.stream!.destroy());
      reply.stream.pipe(res);
      return;
    }
    let payload: Buffer | string | undefined;
    if (reply.body === undefined) {
      payload = undefined;
    } else if (Buffer.isBuffer(reply.body) || typeof reply.body === 'string') {
      payload = reply.body;
      if (!hasHeader(headers, 'content-type')) headers['Content-Type'] = 'text/plain; charset=utf-8';
    } else {
      payload = JSON.stringify(reply.body);
      if (!hasHeader(headers, 'content-type')) headers['Content-Type'] = 'application/json; charset=utf-8';
    }
    headers['Content-Length'] = String(payload === undefined ? 0 : Buffer.byteLength(payload));
    res.writeHead(reply.status, headers);
    res.end(payload);
  }
}

function emptyCounters(): Omit<SimStats, 'inFlight'> {
  return { requests: 0, submissions: 0, maxInFlight: 0, submitTimes: [], rateLimited: 0, quotaRefusals: 0 };
}

function hasHeader(headers: Record<string, string>, name: string): boolean {
  return Object.keys(headers).some((k) => k.toLowerCase() === name);
}

function readBody(req: http.IncomingMessage): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => resolve(Buffer.concat(chunks)));
    req.on('error', reject);
  });
}

/** Size of the simulated video file: big enough to exercise chunked/resumed uploads. */
export const SIM_VIDEO_BYTES = 4096;

/**
 * A deterministic stand-in for an MP4: a real `ftyp` box header so sniffers
 * see video, then bytes derived from the name so each video differs.
 */
function simVideoBytes(name: string): Buffer {
  const ftyp = Buffer.from([
    0, 0, 0, 0x18, 0x66, 0x74, 0x79, 0x70, 0x69, 0x73, 0x6f, 0x6d, 0, 0, 2, 0, 0x69, 0x73, 0x6f, 0x6d, 0x6d, 0x70, 0x34, 0x31,
  ]);
  const out = Buffer.alloc(SIM_VIDEO_BYTES);
  ftyp.copy(out);
  let block = createHash('sha256').update(name).digest();
  for (let offset = ftyp.length; offset < out.length; offset += block.length) {
    block.copy(out, offset);
    block = createHash('sha256').update(block).digest();
  }
  return out;
}

function mediaReply(name: string): SimReply {
  return { status: 200, headers: { 'Content-Type': 'video/mp4' }, body: simVideoBytes(name) };
}
