/**
 * The provider client a command asks before it changes anything (`retry --task` asks KIE about the task,
 * `republish --post` the platform about the post), built only then: the other commands need no credentials.
 */
import { ApiError, ConfigError, ConflictError } from '../shared/errors';

/**
 * Built from `build`, or refused naming `field` with nothing changed: a process given no client (409), or one whose
 * environment cannot make it (a real provider's credentials missing: 503, the variable named), which used to surface
 * as an internal error.
 */
export function checkingClient<T>(build: (() => T) | undefined, field: string, provider: string): T {
  if (!build) throw new ConflictError(`${field}: this process has no ${provider} client to check with; nothing changed`);
  try {
    return build();
  } catch (err) {
    if (!(err instanceof ConfigError)) throw err;
    throw new ApiError(503, `${field}: this process cannot ask ${provider} (${err.message}); nothing changed`);
  }
}
