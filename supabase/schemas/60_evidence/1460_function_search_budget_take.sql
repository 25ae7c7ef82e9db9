-- One search from the caller's budget, in one transaction under the bucket's row lock: refill
-- by elapsed time at the plan's rate (capped at the plan's per-minute figure, so a plan change
-- applies at the next search), then spend one if there is one. The caller is whoever the
-- token names and is a member now (active_tenant_id), never a tenant passed in.
create function public.search_budget_take(out granted boolean, out retry_after_seconds integer,
                                          out limit_per_minute integer)
language plpgsql
security definer
set search_path = ''
as $$
declare
  v_tenant uuid := internal.active_tenant_id();
  v_user uuid;
  v_now timestamptz := pg_catalog.clock_timestamp();
  v_per_second numeric;
  v_tokens numeric;
begin
  if v_tenant is null then
    raise exception 'the token''s user is not a member of its tenant' using errcode = '42501';
  end if;
  -- active_tenant_id has checked that sub is a uuid.
  v_user := (pg_catalog.current_setting('request.jwt.claims', true)::jsonb ->> 'sub')::uuid;
  select p.search_per_minute into limit_per_minute
    from public.tenants t join public.plans p on p.slug = t.plan
   where t.id = v_tenant;
  v_per_second := limit_per_minute / 60.0;

  insert into public.search_budgets (tenant_id, user_id, tokens, refilled_at)
  values (v_tenant, v_user, limit_per_minute, v_now)
  on conflict (tenant_id, user_id) do nothing;
  select least(limit_per_minute,
               b.tokens + v_per_second * greatest(0, extract(epoch from v_now - b.refilled_at)))
    into v_tokens
    from public.search_budgets b
   where b.tenant_id = v_tenant and b.user_id = v_user
     for update;

  granted := v_tokens >= 1;
  update public.search_budgets b
     set tokens = case when granted then v_tokens - 1 else v_tokens end,
         refilled_at = greatest(b.refilled_at, v_now)
   where b.tenant_id = v_tenant and b.user_id = v_user;
  retry_after_seconds := case when granted then 0
                              else ceil((1 - v_tokens) / v_per_second)::integer end;
end
$$;
revoke execute on function public.search_budget_take() from public, anon;
grant execute on function public.search_budget_take() to authenticated;
comment on function public.search_budget_take() is
  'Spends one evidence search from the calling user''s budget in the tenant their token names (plans.search_per_minute per minute, refilled continuously). Returns granted, and when not, the whole seconds until one search is available. Raises 42501 when the caller is not a member of that tenant.';
