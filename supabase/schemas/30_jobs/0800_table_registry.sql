create table jobs.registry (
  slug text primary key check (slug ~ '^[a-z][a-z0-9-]*$'),
  budget_ms integer not null check (budget_ms between 1000 and 400000),
  interval_seconds integer check (interval_seconds > 0),
  registered_at timestamptz not null default now()
);
comment on table jobs.registry is 'Every job function: its time budget and expected cadence.';
comment on column jobs.registry.slug is 'Edge Function name, called at <project_url>/functions/v1/<slug>.';
comment on column jobs.registry.budget_ms is
  'Time budget of one invocation; jobs.invoke waits this plus a margin before pg_net records a timeout.';
comment on column jobs.registry.interval_seconds is
  'How often the job should run; jobs.health flags it as silent after twice this without a run.';
comment on column jobs.registry.registered_at is 'When the job was registered.';
revoke all on jobs.registry from public, anon, authenticated;
