create function jobs.invoke(p_slug text, p_body jsonb default '{}') returns bigint
language plpgsql
set search_path = ''
as $$
declare
  v_url text;
  v_key text;
  v_budget integer;
  v_missing text[];
  v_request bigint;
begin
  select budget_ms into v_budget from jobs.registry where slug = p_slug;
  if v_budget is null then
    raise exception 'jobs.invoke: unknown job %', p_slug
      using errcode = 'P0002', hint = 'register it with jobs.register(slug, budget_ms, interval_seconds)';
  end if;
  select decrypted_secret into v_url from vault.decrypted_secrets where name = 'project_url';
  select decrypted_secret into v_key from vault.decrypted_secrets where name = 'service_role_key';
  v_missing := array_remove(array[case when v_url is null then 'project_url' end,
                                  case when v_key is null then 'service_role_key' end], null);
  -- pg_net silently drops NULL headers, so a missing key would send an unauthenticated
  -- request: send nothing, and record the state once instead of failing every tick.
  if cardinality(v_missing) > 0 then
    insert into jobs.not_configured as n (slug, missing) values (p_slug, v_missing)
    on conflict (slug) do update
      set missing = excluded.missing, last_seen_at = now(), skipped = n.skipped + 1;
    raise notice 'jobs.invoke(%): not configured, missing Vault secret%: %', p_slug,
      case when cardinality(v_missing) > 1 then 's' else '' end, array_to_string(v_missing, ', ');
    return null;
  end if;
  delete from jobs.not_configured where slug = p_slug;
  -- pg_net's 5 s default would record every long run as timed out: wait the budget + 15 s.
  v_request := net.http_post(
    url := rtrim(v_url, '/') || '/functions/v1/' || p_slug,
    body := coalesce(p_body, '{}'::jsonb),
    headers := jsonb_build_object('Content-Type', 'application/json',
                                  'Authorization', 'Bearer ' || v_key),
    timeout_milliseconds := v_budget + 15000
  );
  insert into jobs.invocations (request_id, slug) values (v_request, p_slug);
  return v_request;
end
$$;
comment on function jobs.invoke(text, jsonb) is
  'POSTs p_body to the job function through pg_net with the service key from Vault; returns the pg_net request id (sent after commit). With a Vault secret missing it sends nothing, records the job in jobs.not_configured and returns NULL.';
revoke all on function jobs.invoke(text, jsonb) from public;
