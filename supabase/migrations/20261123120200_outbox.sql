-- The outbox: envelopes (approved tool calls) awaiting execution by outbox-drain, the
-- dead-letter queue, and the human decisions around them (approvals, grades, edits).
-- Envelopes enter through public.enqueue_envelope (service_role); owners decide
-- needs_approval envelopes through public.approve_envelope / public.reject_envelope.
--
-- Error codes raised here use PostgREST's PTxxx convention, so a Data API caller gets that
-- HTTP status and SQL callers can match on the code:
--   PT404  unknown tool for the tenant (enqueue), or envelope not found (approve/reject)
--   PT410  the tool is deprecated for the tenant (enqueue)
--   PT409  the envelope is not needs_approval (approve/reject), or its external_id was
--          dead-lettered (enqueue)
--   42501  the caller is not an owner of the envelope's tenant (approve/reject)

create table public.outbox (
  id uuid primary key default gen_random_uuid(),
  tenant_id uuid not null references public.tenants (id) on delete cascade,
  tool_slug text not null,
  toolkit text not null,
  arguments jsonb not null default '{}' check (jsonb_typeof(arguments) = 'object'),
  connected_account_id text,
  risk text not null check (risk in ('low', 'medium', 'high')),
  read_only boolean not null default false,
  external_id text,
  trust_context jsonb not null default '{}' check (jsonb_typeof(trust_context) = 'object'),
  metadata jsonb not null default '{}' check (jsonb_typeof(metadata) = 'object'),
  status text not null default 'pending'
    check (status in ('pending', 'running', 'succeeded', 'retry', 'deferred', 'needs_approval',
                      'conflict', 'unknown_outcome', 'rejected')),
  attempts int not null default 0 check (attempts >= 0),
  next_run_at timestamptz not null default now(),
  last_error text,
  lease_token uuid,
  lease_expires_at timestamptz,
  claimed_by text,
  result jsonb,
  outcome text,
  created_at timestamptz not null default now(),
  updated_at timestamptz not null default now(),
  completed_at timestamptz,
  -- Idempotency key per tenant. Not global: a global unique index would tell one tenant
  -- that another already used an id.
  constraint outbox_tenant_external_id_key unique (tenant_id, external_id),
  -- A running envelope is always under a lease, so an expired lease can be reclaimed.
  constraint outbox_running_has_lease
    check (status <> 'running' or (lease_token is not null and lease_expires_at is not null))
);
-- Due polling: only the statuses drain picks up, ordered by when they are due.
create index outbox_due_idx on public.outbox (next_run_at)
  where status in ('pending', 'retry', 'deferred');
-- Reclaiming envelopes whose lease expired.
create index outbox_lease_expiry_idx on public.outbox (lease_expires_at) where status = 'running';
-- Tenant dashboards and per-tenant counts (queue depth, running vs concurrency cap).
create index outbox_tenant_created_idx on public.outbox (tenant_id, created_at desc);
create index outbox_tenant_status_idx on public.outbox (tenant_id, status);
create trigger touch_updated_at before update on public.outbox
  for each row execute function internal.touch_updated_at();

comment on table public.outbox is
  'Envelopes: tool calls accepted for execution, one row each, executed by outbox-drain under guardrails. Enqueued with enqueue_envelope; written by the service; members read.';
comment on column public.outbox.id is 'Envelope id (kept when moved to outbox_dlq).';
comment on column public.outbox.tenant_id is 'The tenant.';
comment on column public.outbox.tool_slug is 'Composio tool to execute.';
comment on column public.outbox.toolkit is 'Toolkit of the tool, copied from the catalog at enqueue (rate buckets, allowed toolkits).';
comment on column public.outbox.arguments is 'Tool arguments (a JSON object). Never logged.';
comment on column public.outbox.connected_account_id is 'Composio connected account to execute with.';
comment on column public.outbox.risk is 'low, medium or high, copied from the catalog at enqueue; selects max attempts and approval.';
comment on column public.outbox.read_only is 'The tool only reads (catalog read_only at enqueue).';
comment on column public.outbox.external_id is 'Caller''s idempotency key, unique per tenant; enqueueing it again returns the existing envelope.';
comment on column public.outbox.trust_context is 'Why the agent trusts the call: score in [0, 1] at ->score, evidence ids at ->evidence.';
comment on column public.outbox.metadata is 'Free-form details from the proposer (objective, task, proposal summary).';
comment on column public.outbox.status is 'pending, running, succeeded, retry, deferred, needs_approval, conflict, unknown_outcome or rejected.';
comment on column public.outbox.attempts is 'Execution attempts so far (>= 0).';
comment on column public.outbox.next_run_at is 'Not executed before this time (backoff, quiet hours).';
comment on column public.outbox.last_error is 'Error of the last failed attempt.';
comment on column public.outbox.lease_token is 'Token of the current claim; completing requires it, so a stale worker cannot overwrite.';
comment on column public.outbox.lease_expires_at is 'When the current claim lapses and the envelope may be reclaimed.';
comment on column public.outbox.claimed_by is 'Which worker invocation holds the claim (for operators).';
comment on column public.outbox.result is 'Tool output of the successful execution.';
comment on column public.outbox.outcome is 'How the last execution ended, in the executor''s words (e.g. success, http_409, timeout).';
comment on column public.outbox.created_at is 'When the envelope was enqueued.';
comment on column public.outbox.updated_at is 'Last change, maintained by trigger.';
comment on column public.outbox.completed_at is 'When the envelope reached a final status.';

-- ---------------------------------------------------------------------------------------
-- Same envelope columns, in the same order, so `insert into outbox_dlq select o.*, …`
-- moves a row; the original id is kept.
create table public.outbox_dlq (
  id uuid primary key,
  tenant_id uuid not null references public.tenants (id) on delete cascade,
  tool_slug text not null,
  toolkit text not null,
  arguments jsonb not null default '{}' check (jsonb_typeof(arguments) = 'object'),
  connected_account_id text,
  risk text not null check (risk in ('low', 'medium', 'high')),
  read_only boolean not null default false,
  external_id text,
  trust_context jsonb not null default '{}' check (jsonb_typeof(trust_context) = 'object'),
  metadata jsonb not null default '{}' check (jsonb_typeof(metadata) = 'object'),
  status text not null
    check (status in ('pending', 'running', 'succeeded', 'retry', 'deferred', 'needs_approval',
                      'conflict', 'unknown_outcome', 'rejected')),
  attempts int not null default 0 check (attempts >= 0),
  next_run_at timestamptz not null default now(),
  last_error text,
  lease_token uuid,
  lease_expires_at timestamptz,
  claimed_by text,
  result jsonb,
  outcome text,
  created_at timestamptz not null default now(),
  updated_at timestamptz not null default now(),
  completed_at timestamptz,
  moved_at timestamptz not null default now(),
  reason text,
  constraint outbox_dlq_tenant_external_id_key unique (tenant_id, external_id)
);
create index outbox_dlq_tenant_moved_idx on public.outbox_dlq (tenant_id, moved_at desc);
create trigger touch_updated_at before update on public.outbox_dlq
  for each row execute function internal.touch_updated_at();

comment on table public.outbox_dlq is
  'Dead-letter queue: envelopes that failed for good, moved out of outbox with their id. Operators requeue them; members read.';
comment on column public.outbox_dlq.id is 'The envelope''s id in outbox.';
comment on column public.outbox_dlq.tenant_id is 'The tenant.';
comment on column public.outbox_dlq.tool_slug is 'Composio tool.';
comment on column public.outbox_dlq.toolkit is 'Toolkit of the tool.';
comment on column public.outbox_dlq.arguments is 'Tool arguments. Never logged.';
comment on column public.outbox_dlq.connected_account_id is 'Composio connected account.';
comment on column public.outbox_dlq.risk is 'low, medium or high.';
comment on column public.outbox_dlq.read_only is 'The tool only reads.';
comment on column public.outbox_dlq.external_id is 'Caller''s idempotency key, unique per tenant.';
comment on column public.outbox_dlq.trust_context is 'Trust score and evidence ids at enqueue.';
comment on column public.outbox_dlq.metadata is 'Proposer details.';
comment on column public.outbox_dlq.status is 'Status when the envelope was dead-lettered.';
comment on column public.outbox_dlq.attempts is 'Attempts made before it was dead-lettered.';
comment on column public.outbox_dlq.next_run_at is 'next_run_at when it was dead-lettered.';
comment on column public.outbox_dlq.last_error is 'The error that dead-lettered it.';
comment on column public.outbox_dlq.lease_token is 'Lease token when moved (normally null).';
comment on column public.outbox_dlq.lease_expires_at is 'Lease expiry when moved (normally null).';
comment on column public.outbox_dlq.claimed_by is 'Last worker that held it.';
comment on column public.outbox_dlq.result is 'Tool output, if any.';
comment on column public.outbox_dlq.outcome is 'How the last execution ended.';
comment on column public.outbox_dlq.created_at is 'When the envelope was enqueued.';
comment on column public.outbox_dlq.updated_at is 'Last change, maintained by trigger.';
comment on column public.outbox_dlq.completed_at is 'When it reached a final status, if it did.';
comment on column public.outbox_dlq.moved_at is 'When it was moved to the DLQ.';
comment on column public.outbox_dlq.reason is 'Why it was dead-lettered (non_retryable, max_attempts, …).';

-- ---------------------------------------------------------------------------------------
create table public.approvals (
  id uuid primary key default gen_random_uuid(),
  tenant_id uuid not null references public.tenants (id) on delete cascade,
  envelope_id uuid references public.outbox (id) on delete set null,
  reviewer_id uuid references auth.users (id) on delete set null,
  decision text not null check (decision in ('approved', 'rejected')),
  reason text,
  proposal_summary text,
  created_at timestamptz not null default now()
);
create index approvals_tenant_created_idx on public.approvals (tenant_id, created_at desc);
-- Also serves the ON DELETE SET NULL from outbox (moving an envelope to the DLQ).
create index approvals_envelope_idx on public.approvals (envelope_id);
-- Foreign keys to auth.users get an index too: deleting a user must not scan the table.
create index approvals_reviewer_idx on public.approvals (reviewer_id);

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

create table public.grades (
  id uuid primary key default gen_random_uuid(),
  tenant_id uuid not null references public.tenants (id) on delete cascade,
  approval_id uuid references public.approvals (id) on delete cascade,
  envelope_id uuid references public.outbox (id) on delete set null,
  grader_id uuid references auth.users (id) on delete set null,
  score numeric not null check (score between 0 and 1),
  rubric text,
  note text,
  created_at timestamptz not null default now()
);
create index grades_tenant_created_idx on public.grades (tenant_id, created_at desc);
create index grades_approval_idx on public.grades (approval_id);
create index grades_envelope_idx on public.grades (envelope_id);
create index grades_grader_idx on public.grades (grader_id);

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

create table public.edits (
  id uuid primary key default gen_random_uuid(),
  tenant_id uuid not null references public.tenants (id) on delete cascade,
  envelope_id uuid references public.outbox (id) on delete set null,
  editor_id uuid references auth.users (id) on delete set null,
  before jsonb,
  after jsonb not null,
  reason text,
  created_at timestamptz not null default now()
);
create index edits_tenant_created_idx on public.edits (tenant_id, created_at desc);
create index edits_envelope_idx on public.edits (envelope_id);
create index edits_editor_idx on public.edits (editor_id);

comment on table public.edits is 'Changes a reviewer made to a proposed envelope before deciding it. Owners add, members read.';
comment on column public.edits.id is 'Edit id.';
comment on column public.edits.tenant_id is 'The tenant.';
comment on column public.edits.envelope_id is 'The envelope edited (NULL once it left the outbox).';
comment on column public.edits.editor_id is 'Who edited.';
comment on column public.edits.before is 'The proposal before the edit (e.g. its arguments).';
comment on column public.edits.after is 'The proposal after the edit.';
comment on column public.edits.reason is 'Why it was edited.';
comment on column public.edits.created_at is 'When the edit was made.';

-- ---------------------------------------------------------------------------------------
-- Enqueue. SECURITY INVOKER: its callers (service_role, postgres) bypass RLS anyway.
create function public.enqueue_envelope(
  p_tenant_id uuid,
  p_tool_slug text,
  p_arguments jsonb default '{}',
  p_external_id text default null,
  p_connected_account_id text default null,
  p_trust_context jsonb default '{}',
  p_metadata jsonb default '{}'
) returns public.outbox
language plpgsql
set search_path = ''
as $$
declare
  v_tool public.tool_catalog;
  v_env public.outbox;
begin
  -- Idempotent: an envelope with this key is returned as it is, whatever changed since.
  if p_external_id is not null then
    select * into v_env from public.outbox
     where tenant_id = p_tenant_id and external_id = p_external_id;
    if found then
      return v_env;
    end if;
    if exists (select 1 from public.outbox_dlq
                where tenant_id = p_tenant_id and external_id = p_external_id) then
      raise exception 'envelope with external_id % was dead-lettered', p_external_id
        using errcode = 'PT409',
              hint = 'Requeue it from outbox_dlq instead of enqueueing it again.';
    end if;
  end if;

  select * into v_tool from public.tool_catalog
   where tenant_id = p_tenant_id and tool_slug = p_tool_slug and is_current;
  if not found then
    raise exception 'unknown tool % for tenant %', p_tool_slug, p_tenant_id
      using errcode = 'PT404',
            hint = 'The tool is not in the tenant''s catalog: check the slug or run catalog-sync.';
  end if;
  if v_tool.deprecated_at is not null then
    raise exception 'tool % is deprecated for tenant % since %',
                    p_tool_slug, p_tenant_id, v_tool.deprecated_at
      using errcode = 'PT410';
  end if;

  insert into public.outbox (tenant_id, tool_slug, toolkit, arguments, connected_account_id,
                             risk, read_only, external_id, trust_context, metadata)
  values (p_tenant_id, p_tool_slug, v_tool.toolkit, coalesce(p_arguments, '{}'),
          p_connected_account_id, v_tool.risk, v_tool.read_only, p_external_id,
          coalesce(p_trust_context, '{}'), coalesce(p_metadata, '{}'))
  on conflict (tenant_id, external_id) do nothing
  returning * into v_env;
  if not found then
    -- A concurrent call with the same key won the insert.
    select * into v_env from public.outbox
     where tenant_id = p_tenant_id and external_id = p_external_id;
  end if;
  return v_env;
end
$$;
revoke execute on function public.enqueue_envelope(uuid, text, jsonb, text, text, jsonb, jsonb)
  from public, anon, authenticated;
grant execute on function public.enqueue_envelope(uuid, text, jsonb, text, text, jsonb, jsonb)
  to service_role;
comment on function public.enqueue_envelope(uuid, text, jsonb, text, text, jsonb, jsonb) is
  'Adds a pending envelope for the tenant''s current catalog version of the tool (toolkit, risk and read_only copied from it). Idempotent per (tenant, external_id). Raises PT404 for an unknown tool, PT410 for a deprecated one, PT409 when the external_id was dead-lettered. Executable by service_role (and postgres).';

-- ---------------------------------------------------------------------------------------
-- Approval decisions. The public functions are SECURITY DEFINER because owners may not
-- write outbox or approvals directly; this one does the work and the permission check.
-- The caller is the role the session switched to (PostgREST: set local role), not the
-- definer: authenticated callers must own the envelope's tenant per their JWT; other
-- callers reach this only through EXECUTE, granted to service_role (and held by postgres).
create function internal.decide_envelope(
  p_envelope_id uuid,
  p_decision text,
  p_reason text,
  p_summary text
) returns public.outbox
language plpgsql
set search_path = ''
as $$
declare
  v_caller text := coalesce(nullif(current_setting('role', true), 'none'), session_user);
  v_end_user boolean := v_caller in ('anon', 'authenticated');
  v_claims jsonb := coalesce(auth.jwt(), '{}');
  v_env public.outbox;
begin
  select * into v_env from public.outbox where id = p_envelope_id for update;
  -- An end user learns nothing about other tenants' envelopes: "not found" either way.
  if not found
     or (v_end_user and v_env.tenant_id is distinct from (v_claims ->> 'tenant_id')::uuid) then
    raise exception 'envelope % not found', p_envelope_id using errcode = 'PT404';
  end if;
  if v_end_user and (v_claims ->> 'tenant_role') is distinct from 'owner' then
    raise exception 'only an owner of the tenant may approve or reject its envelopes'
      using errcode = '42501';
  end if;
  if v_env.status <> 'needs_approval' then
    raise exception 'envelope % is %, only a needs_approval envelope can be decided',
                    p_envelope_id, v_env.status
      using errcode = 'PT409';
  end if;

  insert into public.approvals (tenant_id, envelope_id, reviewer_id, decision, reason,
                                proposal_summary)
  values (v_env.tenant_id, v_env.id, auth.uid(), p_decision, p_reason, p_summary);

  update public.outbox
     set status = case p_decision when 'approved' then 'pending' else 'rejected' end,
         next_run_at = case p_decision when 'approved' then now() else next_run_at end,
         completed_at = case p_decision when 'approved' then null else now() end
   where id = v_env.id
  returning * into v_env;
  return v_env;
end
$$;
revoke execute on function internal.decide_envelope(uuid, text, text, text) from public;
comment on function internal.decide_envelope(uuid, text, text, text) is
  'Shared body of approve_envelope / reject_envelope: checks the caller, records the decision in approvals, moves the envelope to pending or rejected.';

create function public.approve_envelope(
  p_envelope_id uuid,
  p_reason text default null,
  p_summary text default null
) returns public.outbox
language sql
security definer
set search_path = ''
as $$
  select * from internal.decide_envelope(p_envelope_id, 'approved', p_reason, p_summary)
$$;
revoke execute on function public.approve_envelope(uuid, text, text) from public, anon;
grant execute on function public.approve_envelope(uuid, text, text) to authenticated, service_role;
comment on function public.approve_envelope(uuid, text, text) is
  'Approves a needs_approval envelope: records the decision and makes it pending (due now). Callable by owners of its tenant (JWT claims) and service_role. PT404 not found, 42501 not an owner, PT409 not needs_approval.';

create function public.reject_envelope(
  p_envelope_id uuid,
  p_reason text default null,
  p_summary text default null
) returns public.outbox
language sql
security definer
set search_path = ''
as $$
  select * from internal.decide_envelope(p_envelope_id, 'rejected', p_reason, p_summary)
$$;
revoke execute on function public.reject_envelope(uuid, text, text) from public, anon;
grant execute on function public.reject_envelope(uuid, text, text) to authenticated, service_role;
comment on function public.reject_envelope(uuid, text, text) is
  'Rejects a needs_approval envelope: records the decision and parks it as rejected (never executed). Callable by owners of its tenant (JWT claims) and service_role. PT404 not found, 42501 not an owner, PT409 not needs_approval.';

-- ---------------------------------------------------------------------------------------
revoke truncate, references, trigger on public.outbox, public.outbox_dlq, public.approvals,
  public.grades, public.edits from anon, authenticated;

alter table public.outbox enable row level security;
alter table public.outbox_dlq enable row level security;
alter table public.approvals enable row level security;
alter table public.grades enable row level security;
alter table public.edits enable row level security;

-- The queue is written by the service; decisions go through the functions above.
create policy outbox_select_member on public.outbox for select to authenticated
  using (tenant_id = ((select auth.jwt()) ->> 'tenant_id')::uuid);
create policy outbox_dlq_select_member on public.outbox_dlq for select to authenticated
  using (tenant_id = ((select auth.jwt()) ->> 'tenant_id')::uuid);
create policy approvals_select_member on public.approvals for select to authenticated
  using (tenant_id = ((select auth.jwt()) ->> 'tenant_id')::uuid);

-- Owners grade and edit in their own name; the rows are then immutable feedback.
create policy grades_select_member on public.grades for select to authenticated
  using (tenant_id = ((select auth.jwt()) ->> 'tenant_id')::uuid);
create policy grades_insert_owner on public.grades for insert to authenticated
  with check (tenant_id = ((select auth.jwt()) ->> 'tenant_id')::uuid
              and ((select auth.jwt()) ->> 'tenant_role') = 'owner'
              and grader_id = (select auth.uid()));
create policy edits_select_member on public.edits for select to authenticated
  using (tenant_id = ((select auth.jwt()) ->> 'tenant_id')::uuid);
create policy edits_insert_owner on public.edits for insert to authenticated
  with check (tenant_id = ((select auth.jwt()) ->> 'tenant_id')::uuid
              and ((select auth.jwt()) ->> 'tenant_role') = 'owner'
              and editor_id = (select auth.uid()));
