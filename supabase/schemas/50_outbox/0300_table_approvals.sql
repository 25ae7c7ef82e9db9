-- Human decisions on envelopes that needed approval, written by approve_envelope /
-- reject_envelope (SECURITY DEFINER); members read.
create table public.approvals (
  id uuid primary key default gen_random_uuid(),
  tenant_id uuid not null references public.tenants (id) on delete cascade,
  envelope_id uuid,
  reviewer_id uuid references auth.users (id) on delete set null,
  decision text not null check (decision in ('approved', 'rejected')),
  reason text,
  proposal_summary text,
  created_at timestamptz not null default now(),
  -- The envelope of the same tenant; moving it to the DLQ unlinks it (envelope_id only).
  constraint approvals_envelope_fkey foreign key (tenant_id, envelope_id)
    references public.outbox (tenant_id, id) on delete set null (envelope_id),
  constraint approvals_tenant_id_id_key unique (tenant_id, id)
);
create index approvals_tenant_created_idx on public.approvals (tenant_id, created_at desc);
-- Also serves the ON DELETE SET NULL from outbox (moving an envelope to the DLQ).
create index approvals_envelope_idx on public.approvals (envelope_id, tenant_id);
-- Foreign keys to auth.users get an index too: deleting a user must not scan the table.
create index approvals_reviewer_idx on public.approvals (reviewer_id);
create trigger audit_change after insert or update or delete on public.approvals
  for each row execute function internal.audit_row_change();

comment on table public.approvals is
  'Human decisions on envelopes that needed approval, written by approve_envelope / reject_envelope. Members read.';
comment on column public.approvals.id is 'Decision id.';
comment on column public.approvals.tenant_id is 'The tenant.';
comment on column public.approvals.envelope_id is 'The envelope decided (NULL once it left the outbox).';
comment on column public.approvals.reviewer_id is 'The owner who decided (NULL when the service decided).';
comment on column public.approvals.decision is 'approved or rejected.';
comment on column public.approvals.reason is 'Why, in the reviewer''s words.';
comment on column public.approvals.proposal_summary is 'What was proposed, as shown to the reviewer; embedded for search.';
comment on column public.approvals.created_at is 'When the decision was made.';

revoke truncate, references, trigger on public.approvals from anon, authenticated;
alter table public.approvals enable row level security;
create policy approvals_select_member on public.approvals for select to authenticated
  using (tenant_id = (select internal.active_tenant_id()));
