-- Read-back declarations: how the drain may settle a write's unknown_outcome by reading
-- instead of asking a person (reconciliation, outbox-drain/reconcile.ts). One row per write
-- tool, for every tenant (tenant_id null) or one tenant (which wins over the global row).
-- Without a row, an unknown_outcome envelope waits for the operator as it always did.
--
-- A row is the service's configuration, like the catalog's semantics: written by operators
-- as postgres, never through the Data API (schema internal is closed to the API roles), and
-- every change is audited (config_change), because it decides when a write may run again.
create table internal.tool_readbacks (
  id bigint generated always as identity primary key,
  tenant_id uuid references public.tenants (id) on delete cascade,
  tool_slug text not null check (tool_slug ~ '^[A-Z][A-Z0-9_]*$'),
  read_tool_slug text not null check (read_tool_slug ~ '^[A-Z][A-Z0-9_]*$'),
  read_arguments jsonb not null default '{}',
  match jsonb not null,
  marker_argument text,
  authoritative boolean not null default false,
  settle_delay_ms integer not null default 0 check (settle_delay_ms between 0 and 86400000),
  max_attempts integer not null default 5 check (max_attempts between 1 and 50),
  created_at timestamptz not null default now(),
  updated_at timestamptz not null default now(),
  constraint tool_readbacks_tenant_tool_key unique nulls not distinct (tenant_id, tool_slug),
  constraint tool_readbacks_read_is_another_tool check (read_tool_slug <> tool_slug),
  constraint tool_readbacks_declaration_check
    check (internal.tool_readback_problem(read_arguments, match, marker_argument,
                                          'internal.tool_readbacks') is null)
);
create trigger touch_updated_at before update on internal.tool_readbacks
  for each row execute function internal.touch_updated_at();
create trigger audit_change after insert or update or delete on internal.tool_readbacks
  for each row execute function internal.audit_row_change();
alter table internal.tool_readbacks enable row level security;

comment on table internal.tool_readbacks is
  'Read-back declarations: for a write tool, the read that settles its unknown_outcome envelopes (found: succeeded; absent where the read is authoritative, after the settle delay: retry; otherwise left for the operator). Global (tenant_id null) or per tenant; service only, changes audited.';
comment on column internal.tool_readbacks.id is 'Row id.';
comment on column internal.tool_readbacks.tenant_id is 'The tenant it applies to; null for every tenant (a tenant''s own row wins).';
comment on column internal.tool_readbacks.tool_slug is 'The write tool whose unknown outcomes it settles.';
comment on column internal.tool_readbacks.read_tool_slug is 'The read tool to run (must be read_only in the tenant''s catalog when used).';
comment on column internal.tool_readbacks.read_arguments is 'The read''s arguments: a JSON object; a value {"$ref": "/id" | "/external_id" | "/arguments/<pointer>"} is replaced by that field of the envelope.';
comment on column internal.tool_readbacks.match is '{items, field, value, mode}: items points at the list in the read''s answer, field into each item, value is a reference to the envelope; mode equals, or contains (the value as a whole token of the field''s text).';
comment on column internal.tool_readbacks.marker_argument is 'Pointer into the write''s arguments that carries the match value (the caller puts it there, e.g. the external id in an issue body); checked before any read. Required when match.value is /id or /external_id.';
comment on column internal.tool_readbacks.authoritative is 'Absence in this read is conclusive for the key (an exact-key lookup on a consistent API): only then may an absent item send the write back to retry.';
comment on column internal.tool_readbacks.settle_delay_ms is 'No absence is concluded before the envelope became unknown_outcome plus this long (the write may still land, or be invisible to the read).';
comment on column internal.tool_readbacks.max_attempts is 'Reads per unknown_outcome before it is left for the operator (never before the settle delay has passed).';
comment on column internal.tool_readbacks.created_at is 'When it was declared.';
comment on column internal.tool_readbacks.updated_at is 'Last change, maintained by trigger.';
