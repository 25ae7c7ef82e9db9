-- The payload of an outbox audit row, in one place (outbox_audit and outbox_settle).
create function internal.outbox_audit_payload(
  p_status text,
  p_attempts integer,
  p_tool_slug text,
  p_outcome text,
  p_reason text,
  p_details jsonb
) returns jsonb
language sql
immutable
set search_path = ''
as $$
  select jsonb_build_object('status', p_status, 'attempts', p_attempts, 'tool_slug', p_tool_slug,
                            'outcome', p_outcome, 'reason', p_reason)
         || (coalesce(p_details, '{}'::jsonb) - 'arguments')
$$;
revoke execute on function internal.outbox_audit_payload(text, integer, text, text, text, jsonb)
  from public;
comment on function internal.outbox_audit_payload(text, integer, text, text, text, jsonb) is
  'The payload of an outbox outcome''s audit row: status, attempts, tool_slug, outcome, reason, then the caller''s details (duration_ms, worker, …) without any arguments key.';
