-- Audit helper: one row per outcome. Never carries tool arguments.
create function internal.outbox_audit(
  p_env public.outbox,
  p_category text,
  p_actor_type text,
  p_actor_id text,
  p_details jsonb
) returns void
language sql
set search_path = ''
as $$
  insert into public.audit_log (tenant_id, actor_type, actor_id, category, envelope_id, payload)
  values (p_env.tenant_id, p_actor_type, p_actor_id, p_category, p_env.id,
          internal.outbox_audit_payload(p_env.status, p_env.attempts, p_env.tool_slug,
                                        p_env.outcome, p_env.last_error, p_details))
$$;
revoke execute on function internal.outbox_audit(public.outbox, text, text, text, jsonb)
  from public;
comment on function internal.outbox_audit(public.outbox, text, text, text, jsonb) is
  'Writes the one audit_log row of an outbox outcome: status, attempts, tool, outcome, reason and the caller''s details (duration_ms, worker), never the arguments.';
