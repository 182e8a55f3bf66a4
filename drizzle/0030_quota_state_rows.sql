-- quota_state and quota_use return one row per quota, but were declared as set-returning functions of PostgreSQL's
-- default 1,000 rows. quota_status calls quota_state for each quota (a lateral join), so its plan was estimated at
-- 220,000 rows and a cost over jit_above_cost (100,000): PostgreSQL compiled it with LLVM on every read, 10 ms of its
-- 11 ms (EXPLAIN ANALYZE: "JIT ... Emission 8.9 ms" for 6 rows). The ETA read it every second, and the capacity
-- endpoints, the dashboard's poll and /metrics read it too. pg_stat_statements over one bench utilisation run: the
-- only statements compiled were these reads, 12.7 ms a call. Declared as the one row they are, the view is planned
-- at about 1/3,500 of that cost (0.8 ms a read here) and read without compiling anything.
ALTER FUNCTION quota_use(provider_quotas, timestamptz) ROWS 1;
--> statement-breakpoint
ALTER FUNCTION quota_state(provider_quotas, timestamptz) ROWS 1;
