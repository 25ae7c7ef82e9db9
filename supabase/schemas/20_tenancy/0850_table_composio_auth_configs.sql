-- Which Composio auth config connects each toolkit: a project setting the operator makes
-- once per toolkit the project offers (in Composio's dashboard, then here). The connection
-- flow initiates with it; a toolkit without a row cannot be connected. Not secret (Composio
-- needs the project's API key to use it), but the service's: closed to the API roles.
create table internal.composio_auth_configs (
  toolkit text primary key check (toolkit ~ '^[a-z][a-z0-9_]{0,63}$'),
  auth_config_id text not null check (auth_config_id ~ '^[A-Za-z0-9_-]{1,128}$'),
  created_at timestamptz not null default now(),
  updated_at timestamptz not null default now()
);
create trigger touch_updated_at before update on internal.composio_auth_configs
  for each row execute function internal.touch_updated_at();
alter table internal.composio_auth_configs enable row level security;
comment on table internal.composio_auth_configs is
  'Per toolkit, the Composio auth config (ac_…) the connected-accounts function initiates connections with. Set by the operator: insert into internal.composio_auth_configs (toolkit, auth_config_id) values (''github'', ''ac_…'').';
comment on column internal.composio_auth_configs.toolkit is 'Toolkit slug, lower case (github, gmail, …).';
comment on column internal.composio_auth_configs.auth_config_id is 'Composio''s auth config id for the toolkit.';
comment on column internal.composio_auth_configs.created_at is 'When the row was created.';
comment on column internal.composio_auth_configs.updated_at is 'Last change, maintained by trigger.';
revoke all on internal.composio_auth_configs from public, anon, authenticated;
