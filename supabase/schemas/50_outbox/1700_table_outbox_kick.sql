-- Enqueue kick: after a statement inserts envelopes, invoke the drain through pg_net (sent
-- after commit), at most once per debounce interval (internal.outbox_kick_drain); the
-- every-minute schedule is the safety net. This is its one debounce row.
create table internal.outbox_kick (
  id boolean primary key default true check (id),
  last_kick_at timestamptz not null default '-infinity',
  debounce_ms integer not null default 2000 check (debounce_ms >= 0)
);
alter table internal.outbox_kick enable row level security;
insert into internal.outbox_kick default values;
comment on table internal.outbox_kick is
  'The one debounce row of the enqueue kick: when the drain was last kicked and how long to wait before kicking again.';
comment on column internal.outbox_kick.id is 'Always true: a single row.';
comment on column internal.outbox_kick.last_kick_at is 'When the last kick was queued.';
comment on column internal.outbox_kick.debounce_ms is 'Minimum time between two kicks, in ms.';
