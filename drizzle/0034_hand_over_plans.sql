-- The hand-over's two transactions (the callback's hear_callback: release, grant, the start claimed in the grant;
-- the next job's claim_start when the grant could not claim) keep one plan per statement for the session. With the
-- default plan_cache_mode a PL/pgSQL statement is planned again on each of its first five runs in a session, and
-- for ever after when the planner prices its generic plan above the custom ones (a provider's name as a constant
-- always looks cheaper). A pool spreads the callbacks over its sessions, each of which sees a few: in a bench run
-- (bench/README.md, "The hand-over's transaction") 42 of 50 hear_callback calls took over 4 ms in the server, and
-- 2.0 ms once warm. Forced generic plans: 24 of 50, and the grant inside it 2 ms instead of 4 (p50). Every
-- statement in them selects by key or walks an index in its order (the line's in_line_idx, the task index, the
-- slots' provider), which a generic plan does as well as a custom one; the history tests in sql.test.ts read the
-- blocks these calls fetch over 100,000 finished jobs. Set on the two entry points only: it holds for what they
-- call, and other callers of the same helpers plan as before.
ALTER FUNCTION hear_callback(text, text, text, integer, jsonb, text, text, text, text) SET plan_cache_mode = force_generic_plan;
--> statement-breakpoint
ALTER FUNCTION claim_start(text, uuid, boolean, text, boolean, integer) SET plan_cache_mode = force_generic_plan;
