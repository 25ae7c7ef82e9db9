-- The bound on internal.artifact_pending: at most max_rows artifacts and max_bytes bytes wait
-- at once, whatever fails for however long. One row; operators may change it.
create table internal.artifact_pending_limit (
  id boolean primary key default true check (id),
  max_rows integer not null default 100 check (max_rows >= 0),
  max_bytes bigint not null default 67108864 check (max_bytes >= 0)
);
alter table internal.artifact_pending_limit enable row level security;
insert into internal.artifact_pending_limit default values;
comment on table internal.artifact_pending_limit is
  'The one row bounding internal.artifact_pending: how many artifacts and bytes may wait for a later upload.';
comment on column internal.artifact_pending_limit.id is 'Always true: a single row.';
comment on column internal.artifact_pending_limit.max_rows is 'Most artifacts waiting at once.';
comment on column internal.artifact_pending_limit.max_bytes is 'Most bytes waiting at once (sum of size).';
