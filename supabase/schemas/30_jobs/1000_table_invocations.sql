create table jobs.invocations (
  request_id bigint primary key,
  slug text not null,
  created_at timestamptz not null default now()
);
create index invocations_slug_created_idx on jobs.invocations (slug, created_at desc);
comment on table jobs.invocations is
  'Which job each pg_net request invoked, so health can join net._http_response errors to jobs.';
comment on column jobs.invocations.request_id is 'pg_net request id (net._http_response.id).';
comment on column jobs.invocations.slug is 'The job invoked.';
comment on column jobs.invocations.created_at is 'When the request was queued.';
revoke all on jobs.invocations from public, anon, authenticated;
