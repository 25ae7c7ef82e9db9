create table public.edits (
  id uuid primary key default gen_random_uuid(),
  tenant_id uuid not null references public.tenants (id) on delete cascade,
  envelope_id uuid,
  editor_id uuid references auth.users (id) on delete set null,
  before jsonb,
  after jsonb not null,
  reason text,
  created_at timestamptz not null default now(),
  constraint edits_envelope_fkey foreign key (tenant_id, envelope_id)
    references public.outbox (tenant_id, id) on delete set null (envelope_id)
);
create index edits_tenant_created_idx on public.edits (tenant_id, created_at desc);
create index edits_envelope_idx on public.edits (envelope_id, tenant_id);
create index edits_editor_idx on public.edits (editor_id);
create trigger audit_change after insert or update or delete on public.edits
  for each row execute function internal.audit_row_change();

comment on table public.edits is 'Changes a reviewer made to a proposed envelope before deciding it. Owners add, members read.';
comment on column public.edits.id is 'Edit id.';
comment on column public.edits.tenant_id is 'The tenant.';
comment on column public.edits.envelope_id is 'The envelope edited (NULL once it left the outbox).';
comment on column public.edits.editor_id is 'Who edited.';
comment on column public.edits.before is 'The proposal before the edit (e.g. its arguments).';
comment on column public.edits.after is 'The proposal after the edit.';
comment on column public.edits.reason is 'Why it was edited.';
comment on column public.edits.created_at is 'When the edit was made.';

revoke truncate, references, trigger on public.edits from anon, authenticated;
alter table public.edits enable row level security;
-- Owners edit in their own name; the rows are then immutable feedback.
create policy edits_select_member on public.edits for select to authenticated
  using (tenant_id = (select internal.active_tenant_id()));
create policy edits_insert_owner on public.edits for insert to authenticated
  with check (tenant_id = (select internal.active_tenant_id())
              and (select internal.active_tenant_role()) = 'owner'
              and editor_id = (select auth.uid()));
