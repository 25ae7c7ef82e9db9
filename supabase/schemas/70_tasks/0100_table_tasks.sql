-- Tasks: what a user asked an agent to do (seed 004's per-user task) within a tenant
-- (seed 002's planned action towards an objective). A user reaches only their own tasks,
-- and only within the tenant of their token.
create table public.tasks (
  id uuid primary key default gen_random_uuid(),
  tenant_id uuid not null references public.tenants (id) on delete cascade,
  user_id uuid not null references auth.users (id) on delete cascade,
  objective_id uuid,
  correlation_id text not null check (btrim(correlation_id) <> ''),
  mandate text not null check (btrim(mandate) <> ''),
  status text not null default 'pending'
    check (status in ('pending', 'accepted', 'started', 'in_progress', 'completed', 'error',
                      'cancelled')),
  max_ticks int not null default 50 check (max_ticks > 0),
  tick int check (tick >= 0 and tick <= max_ticks),
  result jsonb,
  error text,
  evidence jsonb not null default '[]' check (jsonb_typeof(evidence) = 'array'),
  created_at timestamptz not null default now(),
  updated_at timestamptz not null default now(),
  -- Unique per tenant, not globally as seed 004 has it: a global key would tell one tenant
  -- which ids another uses, and let it reserve them.
  constraint tasks_tenant_correlation_id_key unique (tenant_id, correlation_id),
  constraint tasks_objective_fkey foreign key (tenant_id, objective_id)
    references public.objectives (tenant_id, id) on delete set null (objective_id)
);
-- Seed 004's indexes (its idx_tasks_correlation_id is the per-tenant unique key above). Its
-- idx_tasks_user_id on (user_id) alone is left out: this one serves every lookup by user
-- (and the cascade from auth.users) as well.
create index idx_tasks_user_created on public.tasks (user_id, created_at desc);
-- Active tasks only: the ones workers and the gateway poll.
create index idx_tasks_status on public.tasks (status)
  where status in ('pending', 'accepted', 'started', 'in_progress');
create index tasks_tenant_created_idx on public.tasks (tenant_id, created_at desc);
create index tasks_objective_idx on public.tasks (objective_id, tenant_id)
  where objective_id is not null;
create trigger touch_updated_at before update on public.tasks
  for each row execute function internal.touch_updated_at();

comment on table public.tasks is
  'A task a user gave an agent, within a tenant and optionally towards an objective. Each user reaches only their own tasks in the tenant of their token.';
comment on column public.tasks.id is 'Task id.';
comment on column public.tasks.tenant_id is 'The tenant the task runs in.';
comment on column public.tasks.user_id is 'The user who asked (auth.users); removing the user removes their tasks.';
comment on column public.tasks.objective_id is 'The objective it works towards, if any.';
comment on column public.tasks.correlation_id is 'Id shared with the gateway and workers for this task; unique within the tenant.';
comment on column public.tasks.mandate is 'What the user asked for, in their words.';
comment on column public.tasks.status is 'pending, accepted, started, in_progress, completed, error or cancelled.';
comment on column public.tasks.max_ticks is 'Most agent loop iterations allowed (> 0).';
comment on column public.tasks.tick is 'Agent loop iterations done so far (0..max_ticks), NULL before the first.';
comment on column public.tasks.result is 'Final result of a completed task.';
comment on column public.tasks.error is 'Error of a failed task.';
comment on column public.tasks.evidence is 'Evidence the task relied on: a JSON array (evidence ids or inline references).';
comment on column public.tasks.created_at is 'When the task was created.';
comment on column public.tasks.updated_at is 'Last change, maintained by trigger (the gateway compares it with the workers'' copy).';

revoke truncate, references, trigger on public.tasks from anon, authenticated;
alter table public.tasks enable row level security;
create policy tasks_select_own on public.tasks for select to authenticated
  using (user_id = (select auth.uid())
         and tenant_id = (select internal.active_tenant_id()));
create policy tasks_insert_own on public.tasks for insert to authenticated
  with check (user_id = (select auth.uid())
              and tenant_id = (select internal.active_tenant_id()));
create policy tasks_update_own on public.tasks for update to authenticated
  using (user_id = (select auth.uid())
         and tenant_id = (select internal.active_tenant_id()))
  with check (user_id = (select auth.uid())
              and tenant_id = (select internal.active_tenant_id()));
create policy tasks_delete_own on public.tasks for delete to authenticated
  using (user_id = (select auth.uid())
         and tenant_id = (select internal.active_tenant_id()));
