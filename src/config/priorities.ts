/**
 * Priorities P0..P3. P0 is critical (answer within 24 h), P3 is "when there is
 * room". Lower number = more urgent, both here and in Temporal's priorityKey
 * (1 is highest there), so ordering by the stored integer is ordering by urgency.
 * No Node imports: used by workflows.
 */
export const PRIORITIES = ['P0', 'P1', 'P2', 'P3'] as const;
export type Priority = (typeof PRIORITIES)[number];

/** Time to urgency_deadline per priority; P3 has none. */
const PRIORITY_DEADLINE_HOURS: Record<Priority, number | null> = {
  P0: 24,
  P1: 48,
  P2: 24 * 7,
  P3: null,
};

export function priorityRank(priority: Priority): number {
  return PRIORITIES.indexOf(priority);
}

/** Temporal priorityKey: 1 is highest, so P0 -> 1 ... P3 -> 4. */
export function temporalPriorityKey(priority: Priority): number {
  return priorityRank(priority) + 1;
}

export function isPriority(value: string): value is Priority {
  return (PRIORITIES as readonly string[]).includes(value);
}

export function deadlineFor(priority: Priority, from: Date): Date | null {
  const hours = PRIORITY_DEADLINE_HOURS[priority];
  return hours === null ? null : new Date(from.getTime() + hours * 3_600_000);
}
