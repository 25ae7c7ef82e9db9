-- trickle-refresh: the refresh schedule per (tenant, toolkit), beside the tool definitions.
create table internal.trickle_schedule (
  tenant_id uuid not null references public.tenants (id) on delete cascade,
  toolkit text not null check (btrim(toolkit) <> ''),
  interval_seconds integer not null check (interval_seconds between 1800 and 3600),
  phase_seconds integer not null check (phase_seconds >= 0),
  next_due_at timestamptz not null default now(),
  last_window_start timestamptz,
  last_run_at timestamptz,
  primary key (tenant_id, toolkit),
  check (phase_seconds < interval_seconds)
);
create index trickle_schedule_next_due_idx on internal.trickle_schedule (next_due_at);
alter table internal.trickle_schedule enable row level security;
comment on table internal.trickle_schedule is
  'When trickle-refresh next refreshes each (tenant, toolkit): every interval_seconds (30–60 min), windows offset by phase_seconds; both come from a hash of the pair, so refreshes spread over the hour and stay put. Rows are added by catalog-sync for every toolkit it synced.';
comment on column internal.trickle_schedule.tenant_id is 'The tenant.';
comment on column internal.trickle_schedule.toolkit is 'Toolkit slug (the refresh category).';
comment on column internal.trickle_schedule.interval_seconds is 'Refresh interval, 1800–3600 s, stable per pair.';
comment on column internal.trickle_schedule.phase_seconds is 'Offset of the pair''s windows from the Unix epoch grid (the stable jitter).';
comment on column internal.trickle_schedule.next_due_at is 'The pair is due from this time (the start of its next window).';
comment on column internal.trickle_schedule.last_window_start is 'Start of the window last refreshed; envelope external ids carry it.';
comment on column internal.trickle_schedule.last_run_at is 'When the pair was last claimed.';
revoke all on internal.trickle_schedule from public, anon, authenticated;
