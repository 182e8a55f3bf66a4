-- A waiting job's place in its provider's line counts only the jobs in line (asking for a slot, or parked): a later
-- step not asking yet is passed over by every grant, yet it counted, so the dashboard showed a render "#4 in line" behind
-- two of its own recommendation's and another's later steps while it was second. A job not in line has no position.
-- Dropped and created again: its q.* now has the columns added to automation_queue since 0001 (no view depends on it).
DROP VIEW queue_pending;
--> statement-breakpoint
CREATE VIEW queue_pending AS
  SELECT q.*, (q.waiting_since IS NOT NULL) AS in_line,
         CASE WHEN q.waiting_since IS NOT NULL THEN
           row_number() OVER (PARTITION BY q.api_provider, q.waiting_since IS NOT NULL ORDER BY q.priority, q.created_at, q.id)
         END AS position
    FROM automation_queue q
   WHERE q.status = 'queued'
   ORDER BY q.priority, q.created_at, q.id;
