/**
 * The application's error classes, in one place: each names a situation the
 * CLI, the API (src/api/errors.ts maps them to statuses) or the activities
 * (src/activities/failures.ts maps them to Temporal failures) answer in their
 * own way. No Node imports, so workflow code may import them too.
 *
 * Provider HTTP errors (ProviderError, src/providers/errors.ts) stay with the
 * providers: those clients know nothing of Temporal or of this application,
 * and only src/activities/failures.ts translates them.
 */

/**
 * The base of every class below. `name` is a string literal rather than
 * `new.target.name` so that logs, `err.name` checks and the Temporal failure
 * type src/activities/failures.ts derives from it stay the class's name even
 * in a bundled or minified build.
 */
function named(name: string) {
  return class extends Error {
    override name = name;
  };
}

/** Input that breaks a rule (a field, a flag, a file): API 400, CLI exit 2, a non-retryable job failure. Names the field. */
export class BadInputError extends named('BadInputError') {}

/** No such recommendation, job, token… (API 404, CLI exit 2). */
export class NotFoundError extends named('NotFoundError') {}

/** The request is well formed but the recommendation's state rules it out (API 409, CLI exit 2). */
export class ConflictError extends named('ConflictError') {}

/** A deliberate API answer with its status, e.g. `new ApiError(404, 'no schedule "weekly"')`. */
export class ApiError extends named('ApiError') {
  constructor(
    readonly statusCode: number,
    message: string,
  ) {
    super(message);
  }
}

/** A bad environment variable (named in the message): the process stops before doing anything. */
export class ConfigError extends named('ConfigError') {}

/** The Temporal frontend cannot be reached; the message says how to start it. */
export class TemporalUnavailableError extends named('TemporalUnavailableError') {}

/** The job's deadline passed before it got a provider slot: it is never started (nor paid for). */
export class DeadlineExpiredError extends named('DeadlineExpiredError') {}

/** The job was closed (cancelled, failed, done) while it waited or ran: nothing more to do. */
export class JobClosedError extends named('JobClosedError') {}

/**
 * A post's metrics series whose recommendation is not in the database (deleted, or the database started over while
 * Temporal kept its workflows): nothing to record its readings against, so it ends without reading.
 */
export class RecommendationGoneError extends named('RecommendationGoneError') {}

/**
 * A job waiting hot in its activity was pushed back in its line by later, higher-priority jobs: it waits in its
 * workflow again, with no activity (drizzle/0021 return_to_line).
 */
export class ReturnedToLineError extends named('ReturnedToLineError') {}

/**
 * A post about to leave that the approval policy now asks an editor's yes for, and no editor gave (a policy made
 * stricter while the post waited in its platform's line): it is not made; `reelflow republish` asks for the yes.
 */
export class ApprovalRequiredError extends named('ApprovalRequiredError') {}

/**
 * An attempt Temporal gave up on (its heartbeat timeout, the lost-worker watch) while its process lived on, refused
 * its paid submit: a later attempt of the job runs, or its task is known (drizzle/0054). It stops touching nothing.
 */
export class SupersededAttemptError extends named('SupersededAttemptError') {}

/** A paid submit whose outcome is unknown (the worker died mid-request): never repeated, so never paid twice. */
export class SubmitOutcomeUnknownError extends named('SubmitOutcomeUnknownError') {}

/** The model's competitor analysis does not match the contract: the analyse step is asked again. */
export class MalformedAnalysisError extends named('MalformedAnalysisError') {}

/** A competitor video that cannot be saved as given (e.g. a URL that is not a video). */
export class InvalidVideoError extends named('InvalidVideoError') {}

/** Recommendations were saved but their workflows could not be started; their ids say which to start again. */
export class EnqueueFailedError extends named('EnqueueFailedError') {
  constructor(
    readonly recommendationIds: string[],
    cause: unknown,
  ) {
    super(
      `could not start the workflow of ${recommendationIds.length} recommendation(s) (${recommendationIds.join(', ')}): ` +
        String((cause as Error)?.message ?? cause),
    );
  }
}
