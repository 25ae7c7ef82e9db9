create table public.guardrails (
  id uuid primary key default gen_random_uuid(),
  tenant_id uuid not null unique references public.tenants (id) on delete cascade,
  quiet_hours jsonb not null default '{"timezone": "UTC", "windows": []}'
    check (internal.is_valid_quiet_hours(quiet_hours)),
  trust_threshold numeric not null default 0.7 check (trust_threshold between 0 and 1),
  allowed_toolkits text[],
  allowed_scopes text[],
  require_evidence boolean not null default false,
  max_attempts jsonb not null default '{"low": 5, "medium": 3, "high": 1}'
    check (internal.is_valid_max_attempts(max_attempts)),
  approval_risk_tiers text[] not null default '{high}'
    check (approval_risk_tiers <@ array['low', 'medium', 'high']),
  concurrency_cap int not null default 1 check (concurrency_cap >= 1),
  created_at timestamptz not null default now(),
  updated_at timestamptz not null default now(),
  -- Checked on every write (https, no credentials, a public host; the error names the
  -- problem) and again at delivery, where the name's addresses are checked too.
  drift_webhook_url text constraint guardrails_drift_webhook_url_check
    check (internal.webhook_url_problem(drift_webhook_url, 'guardrails.drift_webhook_url')
           is null)
);
create trigger touch_updated_at before update on public.guardrails
  for each row execute function internal.touch_updated_at();
create trigger audit_change after insert or update or delete on public.guardrails
  for each row execute function internal.audit_row_change();

comment on table public.guardrails is
  'One row per tenant, created with the tenant (its column defaults are the guardrail defaults): the rules outbox-drain applies before executing an envelope. Owners change it, members read it.';
comment on column public.guardrails.id is 'Row id.';
comment on column public.guardrails.tenant_id is 'The tenant (one guardrails row each).';
comment on column public.guardrails.quiet_hours is
  'No execution inside these windows: {"timezone": IANA name, "windows": [{"start": "22:00", "end": "07:00", "days": [1..7]}]}; times are in the timezone, days (optional) are ISO weekdays of the window start, end < start crosses midnight.';
comment on column public.guardrails.trust_threshold is 'Minimum trust score (outbox.trust_context->>score) to execute without approval, in [0, 1].';
comment on column public.guardrails.allowed_toolkits is 'Toolkits envelopes may use; NULL allows every toolkit.';
comment on column public.guardrails.allowed_scopes is 'Scopes tools may require; NULL means no tenant-level restriction.';
comment on column public.guardrails.require_evidence is 'When true, an envelope needs evidence ids in trust_context->evidence to execute.';
comment on column public.guardrails.max_attempts is 'Maximum execution attempts per risk tier: {"low": n, "medium": n, "high": n}, positive integers.';
comment on column public.guardrails.approval_risk_tiers is 'Risk tiers that always need a human approval, whatever the trust score.';
comment on column public.guardrails.concurrency_cap is 'Maximum envelopes of this tenant running at once (at least 1).';
comment on column public.guardrails.created_at is 'When the row was created.';
comment on column public.guardrails.updated_at is 'Last change, maintained by trigger.';
comment on column public.guardrails.drift_webhook_url is
  'Optional https URL drift-monitor POSTs to when it finds breaking catalog drift for the tenant (queued in webhook_deliveries, sent by drift-monitor to a checked public address); NULL for none. Refused on write: http, credentials, IP literals that are not public, localhost, single-label and special-use names (internal.webhook_url_problem).';

revoke truncate, references, trigger on public.guardrails from anon, authenticated;
alter table public.guardrails enable row level security;
create policy guardrails_select_member on public.guardrails for select to authenticated
  using (tenant_id = (select internal.active_tenant_id()));
create policy guardrails_update_owner on public.guardrails for update to authenticated
  using (tenant_id = (select internal.active_tenant_id())
         and (select internal.active_tenant_role()) = 'owner')
  with check (tenant_id = (select internal.active_tenant_id())
              and (select internal.active_tenant_role()) = 'owner');

-- Every tenant has its row from the moment it exists: its column defaults are the guardrail
-- defaults, written nowhere else.
create function internal.guardrails_for_new_tenants() returns trigger
language plpgsql
security definer
set search_path = ''
as $$
begin
  insert into public.guardrails (tenant_id)
  select n.id from new_rows n
  on conflict (tenant_id) do nothing;
  return null;
end
$$;
revoke execute on function internal.guardrails_for_new_tenants() from public;
comment on function internal.guardrails_for_new_tenants() is
  'AFTER INSERT statement trigger on tenants: gives every new tenant its guardrails row with the column defaults, the one place the defaults are written. SECURITY DEFINER: the creating role need not write guardrails.';

create trigger guardrails_for_new_tenant after insert on public.tenants
  referencing new table as new_rows for each statement
  execute function internal.guardrails_for_new_tenants();

-- ... and keeps it while the tenant exists: removing the tenant removes it (the cascade runs
-- after the tenant row is gone), nothing else does.
create function internal.guardrails_keep_while_tenant() returns trigger
language plpgsql
set search_path = ''
as $$
begin
  if exists (select 1 from public.tenants t where t.id = old.tenant_id) then
    raise exception 'the guardrails row of tenant % stays while the tenant exists', old.tenant_id
      using errcode = 'PT405',
            hint = 'update it instead; deleting the tenant removes it';
  end if;
  return old;
end
$$;
revoke execute on function internal.guardrails_keep_while_tenant() from public;
comment on function internal.guardrails_keep_while_tenant() is
  'BEFORE DELETE trigger on guardrails: refuses (PT405) to delete the row of a tenant that still exists, so every tenant always has its rules.';
create trigger guardrails_keep_while_tenant before delete on public.guardrails
  for each row execute function internal.guardrails_keep_while_tenant();

-- Owners choose within their plan: the cap, every tier's attempts and the trust threshold
-- must sit inside public.plans' limits for the tenant's plan. Checked on every write (the
-- service's too: the plan is the contract); a plan change brings the row inside the new
-- limits (guardrails_follow_plan).
create function internal.guardrails_within_plan() returns trigger
language plpgsql
security definer
set search_path = ''
as $$
declare
  p public.plans;
  v_tier text;
begin
  select pl.* into p from public.plans pl
    join public.tenants t on t.plan = pl.slug
   where t.id = new.tenant_id;
  if not found then
    return new; -- the tenant is being created in this statement; its plan row exists (FK)
  end if;
  if new.concurrency_cap > p.concurrency_cap_max then
    raise exception 'guardrails.concurrency_cap % is above the % plan''s limit of %',
      new.concurrency_cap, p.slug, p.concurrency_cap_max
      using errcode = '23514', column = 'concurrency_cap';
  end if;
  if new.trust_threshold < p.trust_threshold_min then
    raise exception 'guardrails.trust_threshold % is below the % plan''s floor of %',
      new.trust_threshold, p.slug, p.trust_threshold_min
      using errcode = '23514', column = 'trust_threshold';
  end if;
  select t.key into v_tier from jsonb_each(new.max_attempts) as t (key, value)
   where (t.value::text)::numeric > p.max_attempts_max limit 1;
  if v_tier is not null then
    raise exception 'guardrails.max_attempts.% % is above the % plan''s limit of %',
      v_tier, new.max_attempts ->> v_tier, p.slug, p.max_attempts_max
      using errcode = '23514', column = 'max_attempts';
  end if;
  return new;
end
$$;
revoke execute on function internal.guardrails_within_plan() from public;
comment on function internal.guardrails_within_plan() is
  'BEFORE INSERT/UPDATE trigger on guardrails: concurrency_cap, every max_attempts tier and trust_threshold must be within the tenant''s plan (23514 naming the field and the limit). SECURITY DEFINER: it reads the tenant''s plan whatever the writer may read.';
create trigger guardrails_within_plan before insert or update on public.guardrails
  for each row execute function internal.guardrails_within_plan();

create function internal.guardrails_follow_plan() returns trigger
language plpgsql
security definer
set search_path = ''
as $$
begin
  update public.guardrails g
     set concurrency_cap = least(g.concurrency_cap, p.concurrency_cap_max),
         trust_threshold = greatest(g.trust_threshold, p.trust_threshold_min),
         max_attempts = (select jsonb_object_agg(a.key, least((a.value::text)::int,
                                                              p.max_attempts_max))
                           from jsonb_each(g.max_attempts) as a (key, value))
    from new_rows n
    join old_rows o on o.id = n.id
    join public.plans p on p.slug = n.plan
   where g.tenant_id = n.id and n.plan is distinct from o.plan;
  return null;
end
$$;
revoke execute on function internal.guardrails_follow_plan() from public;
comment on function internal.guardrails_follow_plan() is
  'AFTER UPDATE statement trigger on tenants: a tenant moved to another plan has its guardrails brought inside the new plan''s limits (cap and attempts lowered, trust threshold raised).';
create trigger guardrails_follow_plan after update on public.tenants
  referencing old table as old_rows new table as new_rows for each statement
  execute function internal.guardrails_follow_plan();
