-- Composio's rate limit is per organisation (the whole project's API key), over a rolling
-- window, and every answer says where it stands (X-RateLimit, -Remaining, -Window-Size). One
-- row holds the project's bucket as the last answers told it: every drain takes from it per
-- batch (internal.outbox_rate_take) and feeds it what the batch's answers said
-- (internal.composio_rate_observe). Nothing is hard-coded: until an answer has told the
-- limit, the bucket does not hold anything back; a 429 closes it until Retry-After.
create table internal.composio_rate_limit (
  id boolean primary key default true check (id),
  rate_limit integer check (rate_limit >= 1),
  window_seconds integer check (window_seconds >= 1),
  tokens numeric not null default 0 check (tokens >= 0),
  refilled_at timestamptz not null default now(),
  closed_until timestamptz,
  observed_at timestamptz
);
alter table internal.composio_rate_limit enable row level security;
comment on table internal.composio_rate_limit is
  'The project''s Composio rate limit as its answers report it (one row): requests per window, what is left, and until when a 429 closed it. Service only.';
comment on column internal.composio_rate_limit.id is 'Always true: the one row.';
comment on column internal.composio_rate_limit.rate_limit is 'Requests per window (X-RateLimit); null until an answer said.';
comment on column internal.composio_rate_limit.window_seconds is 'The window (X-RateLimit-Window-Size); null until an answer said.';
comment on column internal.composio_rate_limit.tokens is 'Requests left as of refilled_at: the last X-RateLimit-Remaining, less what drains took since, refilled at rate_limit per window.';
comment on column internal.composio_rate_limit.refilled_at is 'The time tokens were computed for.';
comment on column internal.composio_rate_limit.closed_until is 'A 429''s Retry-After: nothing is sent before it.';
comment on column internal.composio_rate_limit.observed_at is 'When an answer last reported the limit.';
