import { ApplicationFailure } from '@temporalio/common';
import { describe, expect, it } from 'vitest';
import * as errors from '../../src/shared/errors';
import { classified, classifyFailure } from '../../src/activities/failures';

// The classes share one base (named() in src/shared/errors.ts); these are the
// properties the API, the CLI and the activities rely on.
describe('error classes', () => {
  const simple = Object.entries(errors).filter(([key]) => key !== 'ApiError' && key !== 'EnqueueFailedError') as [
    string,
    new (message: string) => Error,
  ][];

  it.each(simple)('%s keeps its name, message, cause and instanceof', (key, ErrorClass) => {
    const cause = new Error('root');
    const err = new (ErrorClass as new (message: string, options?: ErrorOptions) => Error)('what went wrong', { cause });
    expect(err).toBeInstanceOf(ErrorClass);
    expect(err).toBeInstanceOf(Error);
    expect(err.name).toBe(key);
    expect(err.message).toBe('what went wrong');
    expect(err.cause).toBe(cause);
    expect(String(err)).toBe(`${key}: what went wrong`);
  });

  it('no class is an instance of another', () => {
    expect(new errors.NotFoundError('x')).not.toBeInstanceOf(errors.BadInputError);
    expect(new errors.BadInputError('x')).not.toBeInstanceOf(errors.ConflictError);
  });

  it('ApiError and EnqueueFailedError keep their fields', () => {
    const api = new errors.ApiError(404, 'no schedule "weekly"');
    expect([api.name, api.statusCode, api.message]).toEqual(['ApiError', 404, 'no schedule "weekly"']);
    const enqueue = new errors.EnqueueFailedError(['r1', 'r2'], new Error('Temporal down'));
    expect(enqueue.name).toBe('EnqueueFailedError');
    expect(enqueue.recommendationIds).toEqual(['r1', 'r2']);
    expect(enqueue.message).toBe('could not start the workflow of 2 recommendation(s) (r1, r2): Temporal down');
  });

  it('an unmapped error becomes a retryable Temporal failure typed by its name', () => {
    const { failure, retryable } = classifyFailure(new errors.MalformedAnalysisError('analysis field "players"'));
    expect(failure.type).toBe('MalformedAnalysisError');
    expect(retryable).toBe(true);
    expect(failure.category).toBeUndefined();
  });

  it('a job pushed back in its line ends its activity as a benign failure (the SDK logs it at debug, not as a warning)', () => {
    const { failure, retryable } = classifyFailure(new errors.ReturnedToLineError('job j was pushed back in its line'));
    expect(failure.type).toBe('ReturnedToLine');
    expect(failure.category).toBe('BENIGN');
    expect(retryable).toBe(false);
    expect(classifyFailure(new errors.JobClosedError('job j is cancelled')).failure.category).toBeUndefined();
  });

  it('classified passes a result through and turns what is thrown into the classified Temporal failure', async () => {
    await expect(classified(async () => 42)).resolves.toBe(42);
    const err = await classified(() => Promise.reject(new errors.BadInputError('priority: must be P0-P3'))).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ApplicationFailure);
    expect(err).toMatchObject({ type: 'BadInput', nonRetryable: true, message: 'priority: must be P0-P3' });
  });
});
