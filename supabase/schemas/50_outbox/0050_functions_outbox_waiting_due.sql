-- An envelope is *waiting* when its status is pending, retry or deferred, and *due* when it
-- is waiting and its next_run_at has come: the one definition the claim, the drain's and the
-- status route's checks and the partial indexes use. Both are inlinable SQL functions (no
-- SET clause, which would prevent inlining, hence schema-qualified operators), so the planner
-- matches the partial indexes written with them.
create function internal.outbox_waiting(p_status text) returns boolean
language sql
immutable
parallel safe
as $$
  select p_status operator(pg_catalog.=) any ('{pending,retry,deferred}'::text[])
$$;
revoke execute on function internal.outbox_waiting(text) from public;
-- Postgres checks EXECUTE on a partial index's predicate functions as the writing role, and
-- the service (service_role) writes the outbox.
grant execute on function internal.outbox_waiting(text) to service_role;
comment on function internal.outbox_waiting(text) is
  'An envelope in this status waits for the drain: pending, retry or deferred. Inlinable (no SET clause), so partial indexes written with it match queries written with it.';

create function internal.outbox_due(p_status text, p_next_run_at timestamptz) returns boolean
language sql
stable
parallel safe
as $$
  select internal.outbox_waiting(p_status) and p_next_run_at operator(pg_catalog.<=) pg_catalog.now()
$$;
revoke execute on function internal.outbox_due(text, timestamptz) from public;
comment on function internal.outbox_due(text, timestamptz) is
  'An envelope is due: waiting (internal.outbox_waiting) and its next_run_at has come. The one definition the claim, the drain and the status route use.';
