create table public.grades (
  id uuid primary key default gen_random_uuid(),
  tenant_id uuid not null references public.tenants (id) on delete cascade,
  approval_id uuid,
  envelope_id uuid,
  grader_id uuid references auth.users (id) on delete set null,
  score numeric not null check (score between 0 and 1),
  rubric text,
  note text,
  created_at timestamptz not null default now(),
  -- What a grade refers to belongs to its tenant.
  constraint grades_approval_fkey foreign key (tenant_id, approval_id)
    references public.approvals (tenant_id, id) on delete cascade,
  constraint grades_envelope_fkey foreign key (tenant_id, envelope_id)
    references public.outbox (tenant_id, id) on delete set null (envelope_id)
);
create index grades_tenant_created_idx on public.grades (tenant_id, created_at desc);
create index grades_approval_idx on public.grades (approval_id, tenant_id);
create index grades_envelope_idx on public.grades (envelope_id, tenant_id);
create index grades_grader_idx on public.grades (grader_id);
create trigger audit_change after insert or update or delete on public.grades
  for each row execute function internal.audit_row_change();

comment on table public.grades is 'Quality grades of a decision or an executed envelope, for guardrail learning. Owners add, members read.';
comment on column public.grades.id is 'Grade id.';
comment on column public.grades.tenant_id is 'The tenant.';
comment on column public.grades.approval_id is 'The decision graded, if any.';
comment on column public.grades.envelope_id is 'The envelope graded, if any (NULL once it left the outbox).';
comment on column public.grades.grader_id is 'Who graded.';
comment on column public.grades.score is 'Grade in [0, 1].';
comment on column public.grades.rubric is 'Which rubric the score follows.';
comment on column public.grades.note is 'Free-text note.';
comment on column public.grades.created_at is 'When the grade was given.';

revoke truncate, references, trigger on public.grades from anon, authenticated;
alter table public.grades enable row level security;
-- Owners grade in their own name; the rows are then immutable feedback.
create policy grades_select_member on public.grades for select to authenticated
  using (tenant_id = (select internal.active_tenant_id()));
create policy grades_insert_owner on public.grades for insert to authenticated
  with check (tenant_id = (select internal.active_tenant_id())
              and (select internal.active_tenant_role()) = 'owner'
              and grader_id = (select auth.uid()));
