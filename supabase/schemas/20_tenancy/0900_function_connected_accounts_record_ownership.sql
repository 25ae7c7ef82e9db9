-- The drain's ownership check, recorded: for each account it asked Composio about, which
-- external id it checked and whether Composio's user_id for it was the tenant's. Recorded
-- once per account and external id, so the drain asks once, not per envelope. A check is
-- written only while the account still has that external id (the service may have changed
-- it meanwhile). An account found to be another user's also gets an audit row of its own
-- (connected_account_not_owned); the other user's id is never recorded, it is not the
-- tenant's to read.
create function internal.connected_accounts_record_ownership(p_checks jsonb)
returns integer
language plpgsql
set search_path = ''
as $$
declare
  c record;
  n integer := 0;
  v_hit boolean;
begin
  if jsonb_typeof(p_checks) is distinct from 'array' then
    raise exception 'connected_accounts_record_ownership: p_checks must be a JSON array'
      using errcode = '22023';
  end if;
  -- Tenant order: audit_log's per-tenant chain heads are locked in the order rows arrive.
  for c in
    select x.account_id, x.external_account_id, x.owned, a.tenant_id, a.toolkit
      from jsonb_to_recordset(p_checks) as x (account_id uuid, external_account_id text,
                                               owned boolean)
      join public.connected_accounts a
        on a.id = x.account_id and a.external_account_id = x.external_account_id
     where x.owned is not null
     order by a.tenant_id, a.id
  loop
    update public.connected_accounts
       set verified_external_account_id = c.external_account_id,
           verified_owned = c.owned,
           verified_at = now()
     where id = c.account_id and external_account_id = c.external_account_id
       and (verified_external_account_id, verified_owned)
           is distinct from (c.external_account_id, c.owned)
    returning true into v_hit;
    if v_hit then
      n := n + 1;
      if not c.owned then
        insert into public.audit_log (tenant_id, actor_type, actor_id, category, payload)
        values (c.tenant_id, 'job', 'outbox-drain', 'connected_account_not_owned',
                jsonb_build_object('account_id', c.account_id, 'toolkit', c.toolkit,
                                   'external_account_id', c.external_account_id));
      end if;
    end if;
    v_hit := false;
  end loop;
  return n;
end
$$;
revoke execute on function internal.connected_accounts_record_ownership(jsonb) from public;
comment on function internal.connected_accounts_record_ownership(jsonb) is
  'Records the drain''s ownership checks [{account_id, external_account_id, owned}]: sets verified_external_account_id, verified_owned, verified_at where the account still has that external id and the answer is new; an account found not owned (another Composio user''s) also gets a connected_account_not_owned audit row. Returns how many accounts changed.';
