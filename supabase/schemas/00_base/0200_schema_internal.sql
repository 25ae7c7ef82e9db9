-- Schema internal: not exposed by the Data API (which serves `public` only) and closed to
-- the API roles, so nothing here is reachable by anon or authenticated. Machinery lives
-- here: trigger functions, validators, queues, leases.
create schema internal;
revoke all on schema internal from public, anon, authenticated;
comment on schema internal is
  'Machinery that is not part of the Data API: trigger functions, validators, queues and leases. Closed to anon and authenticated.';
