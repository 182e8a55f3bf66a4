/**
 * docs/limits.md, rendered from the limits table so the page cannot drift
 * from the code: `npm run docs:limits` writes it, and a unit test fails when
 * the committed page differs from what this renders.
 */
import {
  JOB_ESTIMATES_SECONDS,
  JOB_TYPES,
  PROVIDER_QUOTAS,
  PROVIDERS,
  PROVIDER_LIMITS,
  SLOT_LEASE,
  START_MARGIN_MS,
  type JobType,
  type QuotaDefinition,
} from './providers';

const seconds = (ms: number) => `${ms / 1000} s`;
const yesNo = (b: boolean) => (b ? 'yes' : 'no');

export function renderLimitsDoc(): string {
  const rows = PROVIDERS.map((p) => {
    const l = PROVIDER_LIMITS[p];
    const cells = [
      p,
      l.maxConcurrent,
      seconds(l.minStartIntervalMs),
      `${l.estimatedDurationSeconds} s`,
      seconds(l.heartbeatTimeoutMs),
      seconds(l.pollIntervalMs),
      l.maxAttempts,
      yesNo(l.submitRepeatable),
      yesNo(l.cancellable),
      l.reason,
    ];
    return `| ${cells.join(' | ')} |`;
  });
  const quotas = (Object.entries(PROVIDER_QUOTAS) as Array<[string, QuotaDefinition]>).map(([name, q]) => {
    const slice = (seconds: number | 'month') => (seconds === 'month' ? 'month' : seconds === 86_400 ? 'day' : `${seconds} s`);
    const window =
      q.window.kind === 'moving' ? `moving ${q.window.seconds / 3600} h` : `calendar ${slice(q.window.seconds)} (${q.window.timeZone})`;
    const costs = Object.entries(q.costs)
      .map(([t, units]) => `${t} ${units}`)
      .join(', ');
    const share = q.lowPriorityShare < 1 ? `${Math.round(q.lowPriorityShare * 100)} %` : '–';
    const cells = [name, q.provider, q.account, `${q.limit.toLocaleString('en')} ${q.unit}`, window, costs, share, q.reason];
    return `| ${cells.join(' | ')} |`;
  });
  const jobs = (Object.keys(JOB_TYPES) as JobType[]).map((t) => `| ${t} | ${JOB_TYPES[t]} | ${JOB_ESTIMATES_SECONDS[t]} s |`);
  return [
    '# The limits table',
    '',
    '<!-- Generated from src/config/providers.ts by `npm run docs:limits`; edit the code, not this page. -->',
    '',
    'One place: `src/config/providers.ts` (it imports nothing from Node, so workflows use it too).',
    '`npm run db:migrate` and every worker write it, with `REELFLOW_LIMITS` applied, into',
    '`provider_limits`, which the gate reads on every grant: an operator can change a cap live with SQL',
    "(`UPDATE provider_limits SET max_concurrent = 3 WHERE provider = 'veo3'`; the next worker start",
    'rewrites it from the config).',
    '',
    '| provider | cap | min start interval | estimated duration | heartbeat timeout | poll | attempts | ' +
      'submit repeatable | cancellable | why |',
    '|---|---|---|---|---|---|---|---|---|---|',
    ...rows,
    '',
    '- **submit repeatable: no** means a submit whose answer never arrived (the worker died mid-request, a',
    "  gateway's 504, a 200 we could not read) is not sent again: the next attempt takes the task KIE's callback",
    '  names, or the job fails as `SubmitOutcomeUnknown` rather than pay or post twice (a TikTok post pulls its',
    "  video whether or not video/init's answer came back; YouTube's upload session, before any byte, makes nothing).",
    "- **cancellable: no** means a cancelled job's task runs on at the provider (and is paid): its slot stays",
    '  counted until the task ends, followed by the worker; if nobody can follow it, until its start + 2x the estimate.',
    `- Every non-zero start interval gets a further ${START_MARGIN_MS} ms margin so the provider, one HTTP request`,
    '  later, still sees at least the interval. A start whose request could not leave within half the margin (a busy',
    '  process) is claimed again from the moment it can, and one that left later than that after its check moves the',
    '  spacing clock to when it left: the next start is spaced from when the request really left.',
    `- Slots are leases: renewed every ${seconds(SLOT_LEASE.leaseRenewMs)} by the process running the job, handed on after`,
    `  ${seconds(SLOT_LEASE.leaseTtlMs)} of silence; every process re-runs the grant every ${seconds(SLOT_LEASE.sweepMs)}.`,
    '',
    '## Quotas and spend budgets',
    '',
    "The gate grants a slot only when the job's cost fits every quota pricing its job type and account (each",
    'platform posts as one account today, `default`; the gate keys quotas by account for when there are several:',
    "a job's `job_config.accounts[provider]`); a job that does not fit waits in line, spending no attempt,",
    'and holds back the jobs behind it priced by the same quota. P2/P3 may use only the low-priority share of a',
    'budget; P0/P1 the whole of it. Written to `provider_quotas` and `quota_costs` (with `REELFLOW_QUOTAS`',
    'applied) on every migrate; live-editable in SQL like the caps.',
    '',
    '| quota | provider | account | limit | window | cost per job type | P2/P3 share | why |',
    '|---|---|---|---|---|---|---|---|',
    ...quotas,
    '',
    '## Estimates per job type',
    '',
    'Written to `automation_queue.estimated_duration_seconds`; a job whose work (from its first start at the provider) ' +
      'runs past 2x its estimate is stuck.',
    '',
    '| job type | provider | estimate |',
    '|---|---|---|',
    ...jobs,
    '',
  ].join('\n');
}
