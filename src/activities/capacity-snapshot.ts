/**
 * The read behind the capacity workflow's query: the same SQL function the
 * CLI, the API and reports use, so every surface shows the same numbers.
 */
import { PROVIDERS } from '../config/providers';
import { readCapacity } from '../gate/capacity';
import type { CapacitySnapshot } from '../shared/messages';
import type { ActivityDeps } from './deps';

export function createCapacityActivities(deps: Pick<ActivityDeps, 'database'>) {
  return {
    async readCapacitySnapshot(): Promise<CapacitySnapshot> {
      const asOf = new Date().toISOString();
      const rows = await readCapacity(deps.database.pool, PROVIDERS);
      return { asOf, providers: rows.map((r) => ({ ...r, lastStartAt: r.lastStartAt?.toISOString() ?? null })) };
    },
  };
}
