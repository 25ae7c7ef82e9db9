create function jobs.schedule(p_job_name text, p_cron text, p_slug text, p_body jsonb default '{}')
returns bigint
language plpgsql
set search_path = ''
as $$
begin
  insert into jobs.schedules (job_name, slug, cron, body)
  values (p_job_name, p_slug, p_cron, coalesce(p_body, '{}'))
  on conflict (job_name) do update
    set slug = excluded.slug, cron = excluded.cron, body = excluded.body;
  -- cron.schedule with a name updates the existing job of that name: idempotent.
  return cron.schedule(p_job_name, p_cron,
    format('select jobs.invoke(%L, %L::jsonb)', p_slug, coalesce(p_body, '{}')::text));
end
$$;
comment on function jobs.schedule(text, text, text, jsonb) is
  'Creates or updates the pg_cron job p_job_name that invokes p_slug on p_cron; idempotent by name.';
revoke all on function jobs.schedule(text, text, text, jsonb) from public;
