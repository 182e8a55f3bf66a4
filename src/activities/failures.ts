/**
 * The only place that turns provider and queue errors into Temporal failures.
 * Retryable failures let Temporal's retry policy (max 3 attempts) try again;
 * non-retryable ones end the job at once with the provider's message kept.
 */
import { ApplicationFailure, ApplicationFailureCategory } from '@temporalio/common';
import { ProviderError } from '../providers/errors';
import {
  ApprovalRequiredError,
  BadInputError,
  DeadlineExpiredError,
  JobClosedError,
  RecommendationGoneError,
  ReturnedToLineError,
  SubmitOutcomeUnknownError,
  SupersededAttemptError,
} from '../shared/errors';
import { FAILURE_TYPES } from '../shared/messages';
import { sqlStateOf } from '../shared/connection-errors';

export interface ClassifiedFailure {
  failure: ApplicationFailure;
  /** Whether retrying could help; false ends the job now. */
  retryable: boolean;
}

/**
 * Failures a provider job's attempt logged itself ('job attempt failed', with its job id and whether it was final).
 * The SDK logs every failed activity again ('Activity failed'); a log sink beside a person (the demo) drops that
 * second line for these, and keeps it for every other activity.
 */
const loggedByTheJob = new WeakSet<object>();
export function markLoggedByTheJob<T extends object>(failure: T): T {
  loggedByTheJob.add(failure);
  return failure;
}
export const loggedByTheJobAlready = (err: unknown): boolean => typeof err === 'object' && err !== null && loggedByTheJob.has(err);

export function classifyFailure(err: unknown): ClassifiedFailure {
  if (err instanceof ApplicationFailure) return { failure: err, retryable: !err.nonRetryable };
  if (err instanceof ProviderError) {
    const type = err.kind === 'rate_limited' ? FAILURE_TYPES.rateLimited : FAILURE_TYPES.provider;
    const failure = ApplicationFailure.create({
      message: err.message,
      type,
      nonRetryable: !err.retryable,
      details: [{ provider: err.provider, kind: err.kind, ...err.details }],
      // Honour Retry-After instead of the policy's backoff.
      nextRetryDelay: err.details.retryAfterMs,
    });
    return { failure, retryable: err.retryable };
  }
  const final = (type: string, e: Error, category?: ApplicationFailureCategory) => ({
    failure: ApplicationFailure.create({ message: e.message, type, nonRetryable: true, category }),
    retryable: false,
  });
  if (err instanceof BadInputError) return final(FAILURE_TYPES.badInput, err);
  if (err instanceof DeadlineExpiredError) return final(FAILURE_TYPES.deadlineExpired, err);
  if (err instanceof JobClosedError) return final(FAILURE_TYPES.jobClosed, err);
  if (err instanceof RecommendationGoneError) return final(FAILURE_TYPES.recommendationGone, err);
  if (err instanceof SubmitOutcomeUnknownError) return final(FAILURE_TYPES.submitOutcomeUnknown, err);
  if (err instanceof ApprovalRequiredError) return final(FAILURE_TYPES.approvalRequired, err);
  // Retryable: Temporal ignores a given-up attempt's failure, and an attempt whose own mark failed tries again.
  if (err instanceof SupersededAttemptError) {
    return { failure: ApplicationFailure.create({ message: err.message, type: FAILURE_TYPES.supersededAttempt }), retryable: true };
  }
  // The line at work, not a fault: benign, so the SDK logs it at debug, not as a warning with a stack trace.
  if (err instanceof ReturnedToLineError) return final(FAILURE_TYPES.returnedToLine, err, ApplicationFailureCategory.BENIGN);
  // PostgreSQL refused a value (SQLSTATE class 22: too long, out of range, a NUL, not a number): the same value is
  // refused on every attempt, and a workflow retrying its database step for ever would be stuck, unseen.
  const sqlState = sqlStateOf(err);
  if (sqlState?.startsWith('22')) {
    return final(FAILURE_TYPES.badInput, new Error(`the database refused a value (${sqlState}): ${(err as Error).message}`));
  }
  const e = err instanceof Error ? err : new Error(String(err));
  // Database hiccups and the like: retryable.
  return { failure: ApplicationFailure.create({ message: e.message, type: e.name, cause: e }), retryable: true };
}

/** Runs `fn`; whatever it throws leaves as the Temporal failure classifyFailure makes of it. */
export async function classified<T>(fn: () => Promise<T>): Promise<T> {
  try {
    return await fn();
  } catch (err) {
    throw classifyFailure(err).failure;
  }
}
