-- Security: optional API token expiry, and an append-only audit trail.

-- Null: the token works until revoked. Checked on every request (src/api/auth.ts).
ALTER TABLE "api_tokens" ADD COLUMN IF NOT EXISTS "expires_at" timestamp with time zone;
--> statement-breakpoint

-- The audit trail is evidence: nobody rewrites it, not the application, not a
-- superuser by mistake. A trigger binds every role (a REVOKE would not bind the
-- table's owner, which is the role the application connects as); dropping the
-- trigger is a deliberate, visible act.
CREATE OR REPLACE FUNCTION audit_log_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  RAISE EXCEPTION 'audit_log is append-only: % is not allowed', TG_OP
    USING ERRCODE = 'insufficient_privilege', HINT = 'audit rows are never changed or removed';
END $$;
--> statement-breakpoint

DROP TRIGGER IF EXISTS audit_log_append_only ON "audit_log";
--> statement-breakpoint
CREATE TRIGGER audit_log_append_only BEFORE UPDATE OR DELETE ON "audit_log"
  FOR EACH ROW EXECUTE FUNCTION audit_log_append_only();
--> statement-breakpoint
DROP TRIGGER IF EXISTS audit_log_no_truncate ON "audit_log";
--> statement-breakpoint
CREATE TRIGGER audit_log_no_truncate BEFORE TRUNCATE ON "audit_log"
  FOR EACH STATEMENT EXECUTE FUNCTION audit_log_append_only();
--> statement-breakpoint

-- Roles other than the owner (a read-only reporting role, PUBLIC) never get to change it either.
REVOKE UPDATE, DELETE, TRUNCATE ON "audit_log" FROM PUBLIC;
