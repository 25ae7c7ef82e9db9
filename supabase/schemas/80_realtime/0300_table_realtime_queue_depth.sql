-- The queue-depth throttle: when each tenant's depth was last published on outbox:<tenant>,
-- and what it was. Publishing triggers publish at most once a second per tenant; the
-- minute flush (internal.realtime_flush_queue_depth) publishes a depth that changed after
-- the last publish without a later one.
create table internal.realtime_queue_depth (
  tenant_id uuid primary key references public.tenants (id) on delete cascade,
  published_at timestamptz not null default '-infinity',
  depth jsonb
);
alter table internal.realtime_queue_depth enable row level security;
comment on table internal.realtime_queue_depth is
  'Per tenant: when its queue depth was last published on outbox:<tenant_id> and the depth published (the once-a-second throttle and the minute flush).';
comment on column internal.realtime_queue_depth.tenant_id is 'The tenant.';
comment on column internal.realtime_queue_depth.published_at is 'When its depth was last published (-infinity: never).';
comment on column internal.realtime_queue_depth.depth is 'The depth published then (counts by status).';
