-- Tenancy that holds (issue: invitations, membership checked at query time, plan limits, no
-- cross-tenant references, no sequences for the API roles). The current definitions are in
-- supabase/schemas (00_base/0500_functions_active_tenant, 20_tenancy/0250_table_plans,
-- 0400_table_tenant_members, 0450_table_tenant_invitations, 0460_function_accept_invitation,
-- 0470_table_user_settings, 0500 hook, 0600 guardrails; the composite foreign keys in their
-- tables). Drafted with `deno task db:diff`, completed by hand: data, column grants, backfills.

set local check_function_bodies = off;

ALTER DEFAULT PRIVILEGES FOR ROLE "postgres" IN SCHEMA "public" REVOKE ALL ON SEQUENCES FROM "anon";

ALTER DEFAULT PRIVILEGES FOR ROLE "postgres" IN SCHEMA "public" REVOKE ALL ON SEQUENCES FROM "authenticated";

DROP POLICY "approvals_select_member" ON "public"."approvals";

DROP POLICY "audit_log_select_member" ON "public"."audit_log";

DROP POLICY "catalog_audit_select_member" ON "public"."catalog_audit";

DROP POLICY "connected_accounts_delete_owner" ON "public"."connected_accounts";

DROP POLICY "connected_accounts_insert_owner" ON "public"."connected_accounts";

DROP POLICY "connected_accounts_select_member" ON "public"."connected_accounts";

DROP POLICY "connected_accounts_update_owner" ON "public"."connected_accounts";

DROP POLICY "edits_insert_owner" ON "public"."edits";

DROP POLICY "edits_select_member" ON "public"."edits";

DROP POLICY "evidence_select_member" ON "public"."evidence";

DROP POLICY "evidence_embeddings_select_member" ON "public"."evidence_embeddings";

DROP POLICY "grades_insert_owner" ON "public"."grades";

DROP POLICY "grades_select_member" ON "public"."grades";

DROP POLICY "guardrails_select_member" ON "public"."guardrails";

DROP POLICY "guardrails_update_owner" ON "public"."guardrails";

DROP POLICY "job_runs_select_member" ON "public"."job_runs";

DROP POLICY "objectives_delete_owner" ON "public"."objectives";

DROP POLICY "objectives_insert_owner" ON "public"."objectives";

DROP POLICY "objectives_select_member" ON "public"."objectives";

DROP POLICY "objectives_update_owner" ON "public"."objectives";

DROP POLICY "outbox_select_member" ON "public"."outbox";

DROP POLICY "outbox_dlq_select_member" ON "public"."outbox_dlq";

DROP POLICY "rate_buckets_select_member" ON "public"."rate_buckets";

DROP POLICY "tasks_delete_own" ON "public"."tasks";

DROP POLICY "tasks_insert_own" ON "public"."tasks";

DROP POLICY "tasks_select_own" ON "public"."tasks";

DROP POLICY "tasks_update_own" ON "public"."tasks";

DROP POLICY "tenant_members_delete_owner" ON "public"."tenant_members";

DROP POLICY "tenant_members_insert_owner" ON "public"."tenant_members";

DROP POLICY "tenant_members_select_member" ON "public"."tenant_members";

DROP POLICY "tenant_members_update_owner" ON "public"."tenant_members";

DROP POLICY "tenants_select_member" ON "public"."tenants";

DROP POLICY "tool_catalog_select_member" ON "public"."tool_catalog";

DROP INDEX "public"."approvals_envelope_idx";

DROP INDEX "public"."edits_envelope_idx";

DROP INDEX "public"."evidence_envelope_idx";

DROP INDEX "public"."grades_approval_idx";

DROP INDEX "public"."grades_envelope_idx";

DROP INDEX "public"."tasks_objective_idx";

DROP INDEX "public"."tenant_members_user_idx";

ALTER TABLE "public"."approvals" DROP CONSTRAINT "approvals_envelope_id_fkey";

ALTER TABLE "public"."edits" DROP CONSTRAINT "edits_envelope_id_fkey";

ALTER TABLE "public"."evidence" DROP CONSTRAINT "evidence_envelope_id_fkey";

ALTER TABLE "public"."grades" DROP CONSTRAINT "grades_approval_id_fkey";

ALTER TABLE "public"."grades" DROP CONSTRAINT "grades_envelope_id_fkey";

ALTER TABLE "public"."tasks" DROP CONSTRAINT "idx_tasks_correlation_id";

ALTER TABLE "public"."tasks" DROP CONSTRAINT "tasks_objective_id_fkey";

ALTER TABLE "public"."tenants" DROP CONSTRAINT "tenants_plan_check";

CREATE TABLE "public"."plans" ("slug" text NOT NULL, "name" text NOT NULL, "concurrency_cap_max" integer NOT NULL, "max_attempts_max" integer NOT NULL, "trust_threshold_min" numeric NOT NULL, "fairness_weight" integer NOT NULL, "task_quota_per_day" integer NOT NULL, "search_per_minute" integer NOT NULL, "created_at" timestamp with time zone NOT NULL DEFAULT now(), "updated_at" timestamp with time zone NOT NULL DEFAULT now(), CONSTRAINT "plans_concurrency_cap_max_check" CHECK ((concurrency_cap_max >= 1)), CONSTRAINT "plans_fairness_weight_check" CHECK (((fairness_weight >= 1) AND (fairness_weight <= 1000))), CONSTRAINT "plans_max_attempts_max_check" CHECK ((max_attempts_max >= 1)), CONSTRAINT "plans_name_check" CHECK ((btrim(name) <> ''::text)), CONSTRAINT "plans_pkey" PRIMARY KEY (slug), CONSTRAINT "plans_search_per_minute_check" CHECK ((search_per_minute >= 1)), CONSTRAINT "plans_slug_check" CHECK ((slug ~ '^[a-z][a-z0-9_]*$'::text)), CONSTRAINT "plans_task_quota_per_day_check" CHECK ((task_quota_per_day >= 0)), CONSTRAINT "plans_trust_threshold_min_check" CHECK (((trust_threshold_min >= (0)::numeric) AND (trust_threshold_min <= (1)::numeric))));

ALTER TABLE "public"."plans" ENABLE ROW LEVEL SECURITY;

insert into public.plans (slug, name, concurrency_cap_max, max_attempts_max,
                          trust_threshold_min, fairness_weight, task_quota_per_day,
                          search_per_minute) values
  ('free', 'Free', 2, 5, 0.5, 1, 100, 30),
  ('pro', 'Pro', 16, 10, 0.3, 2, 5000, 120),
  ('enterprise', 'Enterprise', 1000, 100, 0, 4, 1000000, 600);
-- A tenant on a plan slug nobody defined gets that plan with the free plan's limits, so the
-- foreign key below holds; the service then sets real limits.
insert into public.plans (slug, name, concurrency_cap_max, max_attempts_max,
                          trust_threshold_min, fairness_weight, task_quota_per_day,
                          search_per_minute)
select distinct t.plan, t.plan, 2, 5, 0.5, 1, 100, 30
  from public.tenants t
 where not exists (select 1 from public.plans p where p.slug = t.plan);

CREATE TABLE "public"."tenant_invitations" ("id" uuid NOT NULL DEFAULT gen_random_uuid(), "tenant_id" uuid NOT NULL, "email" text, "user_id" uuid, "role" text NOT NULL DEFAULT 'member'::text, "invited_by" uuid, "created_at" timestamp with time zone NOT NULL DEFAULT now(), "expires_at" timestamp with time zone NOT NULL DEFAULT (now() + '7 days'::interval), "accepted_at" timestamp with time zone, "accepted_by" uuid, CONSTRAINT "tenant_invitations_accepted_with_user" CHECK (((accepted_at IS NULL) = (accepted_by IS NULL))), CONSTRAINT "tenant_invitations_email_check" CHECK (((email = lower(btrim(email))) AND (email ~ '^[^@\s]+@[^@\s]+$'::text))), CONSTRAINT "tenant_invitations_one_invitee" CHECK ((num_nonnulls(email, user_id) = 1)), CONSTRAINT "tenant_invitations_pkey" PRIMARY KEY (id), CONSTRAINT "tenant_invitations_role_check" CHECK ((role = ANY (ARRAY['owner'::text, 'member'::text]))));

ALTER TABLE "public"."tenant_invitations" ENABLE ROW LEVEL SECURITY;

CREATE TABLE "public"."user_settings" ("active_tenant_id" uuid, "updated_at" timestamp with time zone NOT NULL DEFAULT now(), "user_id" uuid NOT NULL DEFAULT auth.uid(), CONSTRAINT "user_settings_pkey" PRIMARY KEY (user_id));

ALTER TABLE "public"."user_settings" ENABLE ROW LEVEL SECURITY;

ALTER TABLE "public"."tenant_members" ADD COLUMN "accepted_at" timestamp with time zone NOT NULL DEFAULT now();

-- Memberships that exist were accepted when they were made.
update public.tenant_members set accepted_at = created_at;

ALTER TABLE "public"."tenant_members" ADD COLUMN "invited_by" uuid;

CREATE OR REPLACE FUNCTION internal.active_tenant_id()
 RETURNS uuid
 LANGUAGE plpgsql
 STABLE SECURITY DEFINER
 SET search_path TO ''
AS $function$
declare
  v_claims jsonb := coalesce(nullif(pg_catalog.current_setting('request.jwt.claims', true), ''),
                             '{}')::jsonb;
  v_uuid constant text := '^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$';
  v_tenant uuid;
begin
  if coalesce(v_claims ->> 'tenant_id', '') !~* v_uuid or coalesce(v_claims ->> 'sub', '') !~* v_uuid
  then
    return null;
  end if;
  select m.tenant_id into v_tenant
    from public.tenant_members m
   where m.tenant_id = (v_claims ->> 'tenant_id')::uuid and m.user_id = (v_claims ->> 'sub')::uuid;
  return v_tenant;
end
$function$;

CREATE OR REPLACE FUNCTION internal.active_tenant_role()
 RETURNS text
 LANGUAGE plpgsql
 STABLE SECURITY DEFINER
 SET search_path TO ''
AS $function$
declare
  v_claims jsonb := coalesce(nullif(pg_catalog.current_setting('request.jwt.claims', true), ''),
                             '{}')::jsonb;
  v_uuid constant text := '^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$';
  v_role text;
begin
  if coalesce(v_claims ->> 'tenant_id', '') !~* v_uuid or coalesce(v_claims ->> 'sub', '') !~* v_uuid
  then
    return null;
  end if;
  select m.role into v_role
    from public.tenant_members m
   where m.tenant_id = (v_claims ->> 'tenant_id')::uuid and m.user_id = (v_claims ->> 'sub')::uuid;
  return v_role;
end
$function$;

CREATE OR REPLACE FUNCTION internal.decide_envelope(p_envelope_id uuid, p_decision text, p_reason text, p_summary text)
 RETURNS public.outbox
 LANGUAGE plpgsql
 SET search_path TO ''
AS $function$
declare
  v_caller text := coalesce(nullif(current_setting('role', true), 'none'), session_user);
  v_end_user boolean := v_caller in ('anon', 'authenticated');
  v_env public.outbox;
begin
  select * into v_env from public.outbox where id = p_envelope_id for update;
  -- An end user learns nothing about other tenants' envelopes: "not found" either way.
  if not found
     or (v_end_user and v_env.tenant_id is distinct from internal.active_tenant_id()) then
    raise exception 'envelope % not found', p_envelope_id using errcode = 'PT404';
  end if;
  if v_end_user and internal.active_tenant_role() is distinct from 'owner' then
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
$function$;

CREATE OR REPLACE FUNCTION internal.guardrails_follow_plan()
 RETURNS trigger
 LANGUAGE plpgsql
 SECURITY DEFINER
 SET search_path TO ''
AS $function$
begin
  update public.guardrails g
     set concurrency_cap = least(g.concurrency_cap, p.concurrency_cap_max),
         trust_threshold = greatest(g.trust_threshold, p.trust_threshold_min),
         max_attempts = (select jsonb_object_agg(a.key, least((a.value::text)::int,
                                                              p.max_attempts_max))
                           from jsonb_each(g.max_attempts) as a (key, value))
    from new_rows n
    join old_rows o on o.id = n.id
    join public.plans p on p.slug = n.plan
   where g.tenant_id = n.id and n.plan is distinct from o.plan;
  return null;
end
$function$;

CREATE OR REPLACE FUNCTION internal.guardrails_within_plan()
 RETURNS trigger
 LANGUAGE plpgsql
 SECURITY DEFINER
 SET search_path TO ''
AS $function$
declare
  p public.plans;
  v_tier text;
begin
  select pl.* into p from public.plans pl
    join public.tenants t on t.plan = pl.slug
   where t.id = new.tenant_id;
  if not found then
    return new; -- the tenant is being created in this statement; its plan row exists (FK)
  end if;
  if new.concurrency_cap > p.concurrency_cap_max then
    raise exception 'guardrails.concurrency_cap % is above the % plan''s limit of %',
      new.concurrency_cap, p.slug, p.concurrency_cap_max
      using errcode = '23514', column = 'concurrency_cap';
  end if;
  if new.trust_threshold < p.trust_threshold_min then
    raise exception 'guardrails.trust_threshold % is below the % plan''s floor of %',
      new.trust_threshold, p.slug, p.trust_threshold_min
      using errcode = '23514', column = 'trust_threshold';
  end if;
  select t.key into v_tier from jsonb_each(new.max_attempts) as t (key, value)
   where (t.value::text)::numeric > p.max_attempts_max limit 1;
  if v_tier is not null then
    raise exception 'guardrails.max_attempts.% % is above the % plan''s limit of %',
      v_tier, new.max_attempts ->> v_tier, p.slug, p.max_attempts_max
      using errcode = '23514', column = 'max_attempts';
  end if;
  return new;
end
$function$;

CREATE OR REPLACE FUNCTION internal.tenant_invitation_defaults()
 RETURNS trigger
 LANGUAGE plpgsql
 SET search_path TO ''
AS $function$
begin
  new.invited_by := coalesce(auth.uid(), new.invited_by);
  new.created_at := now();
  new.expires_at := now() + interval '7 days';
  new.accepted_at := null;
  new.accepted_by := null;
  return new;
end
$function$;

CREATE OR REPLACE FUNCTION internal.tenant_keeps_an_owner()
 RETURNS trigger
 LANGUAGE plpgsql
 SECURITY DEFINER
 SET search_path TO ''
AS $function$
begin
  if pg_catalog.current_setting('role', true) is distinct from 'authenticated'
     or old.role <> 'owner'
     or (tg_op = 'UPDATE' and new.role = 'owner') then
    return case tg_op when 'DELETE' then old else new end;
  end if;
  if not exists (select 1 from public.tenant_members m
                  where m.tenant_id = old.tenant_id and m.role = 'owner'
                    and m.user_id <> old.user_id) then
    raise exception 'tenant % would be left without an owner', old.tenant_id
      using errcode = 'PT409', hint = 'make another member an owner first';
  end if;
  return case tg_op when 'DELETE' then old else new end;
end
$function$;

CREATE OR REPLACE FUNCTION public.accept_invitation(p_invitation_id uuid)
 RETURNS public.tenant_members
 LANGUAGE plpgsql
 SECURITY DEFINER
 SET search_path TO ''
AS $function$
declare
  v_user uuid := auth.uid();
  v_email text;
  v_inv public.tenant_invitations;
  v_member public.tenant_members;
begin
  if v_user is null then
    raise exception 'accepting an invitation needs a signed-in user' using errcode = '42501';
  end if;
  select lower(u.email) into v_email from auth.users u where u.id = v_user;
  select * into v_inv from public.tenant_invitations i
   where i.id = p_invitation_id and i.accepted_at is null
     and (i.user_id = v_user or (i.email is not null and i.email = v_email))
   for update;
  if not found then
    raise exception 'invitation % not found', p_invitation_id using errcode = 'PT404';
  end if;
  if v_inv.expires_at <= now() then
    raise exception 'invitation % expired at %', p_invitation_id, v_inv.expires_at
      using errcode = 'PT410';
  end if;
  update public.tenant_invitations
     set accepted_at = now(), accepted_by = v_user
   where id = v_inv.id;
  -- Already a member: the invitation is used up, the membership stays as it is.
  insert into public.tenant_members (tenant_id, user_id, role, invited_by, accepted_at)
  values (v_inv.tenant_id, v_user, v_inv.role, v_inv.invited_by, now())
  on conflict (tenant_id, user_id) do nothing;
  select * into v_member from public.tenant_members m
   where m.tenant_id = v_inv.tenant_id and m.user_id = v_user;
  return v_member;
end
$function$;

CREATE OR REPLACE FUNCTION public.custom_access_token_hook(event jsonb)
 RETURNS jsonb
 LANGUAGE plpgsql
 STABLE
 SET search_path TO ''
AS $function$
declare
  claims jsonb := coalesce(event -> 'claims', '{}') - 'tenant_id' - 'tenant_role';
  v_uuid constant text := '^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$';
  v_user uuid;
  v_chosen uuid;
  v_named uuid;
  m record;
begin
  if coalesce(event ->> 'user_id', '') !~* v_uuid then
    return jsonb_build_object('claims', claims);
  end if;
  v_user := (event ->> 'user_id')::uuid;
  select s.active_tenant_id into v_chosen from public.user_settings s where s.user_id = v_user;
  select case when u.raw_app_meta_data ->> 'tenant_id' ~* v_uuid
              then (u.raw_app_meta_data ->> 'tenant_id')::uuid end
    into v_named
    from auth.users u
   where u.id = v_user;

  select tm.tenant_id, tm.role into m
    from public.tenant_members tm
   where tm.user_id = v_user
   order by tm.tenant_id = v_chosen desc nulls last, tm.tenant_id = v_named desc nulls last,
            tm.accepted_at, tm.tenant_id
   limit 1;

  if found then
    claims := claims || jsonb_build_object('tenant_id', m.tenant_id, 'tenant_role', m.role);
  end if;
  return jsonb_build_object('claims', claims);
end
$function$;

ALTER TABLE "public"."approvals" ADD CONSTRAINT "approvals_tenant_id_id_key" UNIQUE (tenant_id, id);

ALTER TABLE "public"."grades" ADD CONSTRAINT "grades_approval_fkey" FOREIGN KEY (tenant_id, approval_id) REFERENCES public.approvals(tenant_id, id) ON DELETE CASCADE;

ALTER TABLE "public"."objectives" ADD CONSTRAINT "objectives_tenant_id_id_key" UNIQUE (tenant_id, id);

ALTER TABLE "public"."outbox" ADD CONSTRAINT "outbox_tenant_id_id_key" UNIQUE (tenant_id, id);

ALTER TABLE "public"."approvals" ADD CONSTRAINT "approvals_envelope_fkey" FOREIGN KEY (tenant_id, envelope_id) REFERENCES public.outbox(tenant_id, id) ON DELETE SET NULL (envelope_id);

ALTER TABLE "public"."edits" ADD CONSTRAINT "edits_envelope_fkey" FOREIGN KEY (tenant_id, envelope_id) REFERENCES public.outbox(tenant_id, id) ON DELETE SET NULL (envelope_id);

ALTER TABLE "public"."evidence" ADD CONSTRAINT "evidence_envelope_fkey" FOREIGN KEY (tenant_id, envelope_id) REFERENCES public.outbox(tenant_id, id) ON DELETE SET NULL (envelope_id);

ALTER TABLE "public"."grades" ADD CONSTRAINT "grades_envelope_fkey" FOREIGN KEY (tenant_id, envelope_id) REFERENCES public.outbox(tenant_id, id) ON DELETE SET NULL (envelope_id);

ALTER TABLE "public"."tasks" ADD CONSTRAINT "tasks_objective_fkey" FOREIGN KEY (tenant_id, objective_id) REFERENCES public.objectives(tenant_id, id) ON DELETE SET NULL (objective_id);

ALTER TABLE "public"."tasks" ADD CONSTRAINT "tasks_tenant_correlation_id_key" UNIQUE (tenant_id, correlation_id);

ALTER TABLE "public"."tenant_invitations" ADD CONSTRAINT "tenant_invitations_accepted_by_fkey" FOREIGN KEY (accepted_by) REFERENCES auth.users(id) ON DELETE SET NULL;

ALTER TABLE "public"."tenant_invitations" ADD CONSTRAINT "tenant_invitations_invited_by_fkey" FOREIGN KEY (invited_by) REFERENCES auth.users(id) ON DELETE SET NULL;

ALTER TABLE "public"."tenant_invitations" ADD CONSTRAINT "tenant_invitations_tenant_id_fkey" FOREIGN KEY (tenant_id) REFERENCES public.tenants(id) ON DELETE CASCADE;

ALTER TABLE "public"."tenant_invitations" ADD CONSTRAINT "tenant_invitations_user_id_fkey" FOREIGN KEY (user_id) REFERENCES auth.users(id) ON DELETE CASCADE;

ALTER TABLE "public"."tenant_members" ADD CONSTRAINT "tenant_members_invited_by_fkey" FOREIGN KEY (invited_by) REFERENCES auth.users(id) ON DELETE SET NULL;

ALTER TABLE "public"."tenants" ADD CONSTRAINT "tenants_plan_fkey" FOREIGN KEY (plan) REFERENCES public.plans(slug);

CREATE INDEX approvals_envelope_idx ON public.approvals USING btree (envelope_id, tenant_id);

CREATE INDEX edits_envelope_idx ON public.edits USING btree (envelope_id, tenant_id);

CREATE INDEX evidence_envelope_idx ON public.evidence USING btree (envelope_id, tenant_id);

CREATE INDEX grades_approval_idx ON public.grades USING btree (approval_id, tenant_id);

CREATE INDEX grades_envelope_idx ON public.grades USING btree (envelope_id, tenant_id);

CREATE INDEX tasks_objective_idx ON public.tasks USING btree (objective_id, tenant_id) WHERE (objective_id IS NOT NULL);

CREATE INDEX tenant_invitations_accepted_by_idx ON public.tenant_invitations USING btree (accepted_by) WHERE (accepted_by IS NOT NULL);

CREATE INDEX tenant_invitations_email_idx ON public.tenant_invitations USING btree (email) WHERE (email IS NOT NULL);

CREATE INDEX tenant_invitations_invited_by_idx ON public.tenant_invitations USING btree (invited_by) WHERE (invited_by IS NOT NULL);

CREATE UNIQUE INDEX tenant_invitations_open_email_uidx ON public.tenant_invitations USING btree (tenant_id, email) WHERE ((accepted_at IS NULL) AND (email IS NOT NULL));

CREATE UNIQUE INDEX tenant_invitations_open_user_uidx ON public.tenant_invitations USING btree (tenant_id, user_id) WHERE ((accepted_at IS NULL) AND (user_id IS NOT NULL));

CREATE INDEX tenant_invitations_user_idx ON public.tenant_invitations USING btree (user_id) WHERE (user_id IS NOT NULL);

CREATE INDEX tenant_members_invited_by_idx ON public.tenant_members USING btree (invited_by) WHERE (invited_by IS NOT NULL);

CREATE INDEX tenant_members_user_idx ON public.tenant_members USING btree (user_id, accepted_at);

CREATE TRIGGER guardrails_within_plan BEFORE INSERT OR UPDATE ON public.guardrails FOR EACH ROW EXECUTE FUNCTION internal.guardrails_within_plan();

CREATE TRIGGER audit_change AFTER INSERT OR DELETE OR UPDATE ON public.plans FOR EACH ROW EXECUTE FUNCTION internal.audit_row_change();

CREATE TRIGGER touch_updated_at BEFORE UPDATE ON public.plans FOR EACH ROW EXECUTE FUNCTION internal.touch_updated_at();

CREATE TRIGGER audit_change AFTER INSERT OR DELETE OR UPDATE ON public.tenant_invitations FOR EACH ROW EXECUTE FUNCTION internal.audit_row_change();

CREATE TRIGGER tenant_invitation_defaults BEFORE INSERT ON public.tenant_invitations FOR EACH ROW EXECUTE FUNCTION internal.tenant_invitation_defaults();

CREATE TRIGGER tenant_keeps_an_owner BEFORE DELETE OR UPDATE OF role ON public.tenant_members FOR EACH ROW EXECUTE FUNCTION internal.tenant_keeps_an_owner();

CREATE TRIGGER guardrails_follow_plan AFTER UPDATE ON public.tenants REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION internal.guardrails_follow_plan();

CREATE TRIGGER touch_updated_at BEFORE UPDATE ON public.user_settings FOR EACH ROW EXECUTE FUNCTION internal.touch_updated_at();

CREATE POLICY "approvals_select_member" ON "public"."approvals" FOR SELECT TO "authenticated" USING ((tenant_id = ( SELECT internal.active_tenant_id() AS active_tenant_id)));

CREATE POLICY "audit_log_select_member" ON "public"."audit_log" FOR SELECT TO "authenticated" USING ((tenant_id = ( SELECT internal.active_tenant_id() AS active_tenant_id)));

CREATE POLICY "catalog_audit_select_member" ON "public"."catalog_audit" FOR SELECT TO "authenticated" USING ((tenant_id = ( SELECT internal.active_tenant_id() AS active_tenant_id)));

CREATE POLICY "connected_accounts_delete_owner" ON "public"."connected_accounts" FOR DELETE TO "authenticated" USING (((tenant_id = ( SELECT internal.active_tenant_id() AS active_tenant_id)) AND (( SELECT internal.active_tenant_role() AS active_tenant_role) = 'owner'::text)));

CREATE POLICY "connected_accounts_insert_owner" ON "public"."connected_accounts" FOR INSERT TO "authenticated" WITH CHECK (((tenant_id = ( SELECT internal.active_tenant_id() AS active_tenant_id)) AND (( SELECT internal.active_tenant_role() AS active_tenant_role) = 'owner'::text)));

CREATE POLICY "connected_accounts_select_member" ON "public"."connected_accounts" FOR SELECT TO "authenticated" USING ((tenant_id = ( SELECT internal.active_tenant_id() AS active_tenant_id)));

CREATE POLICY "connected_accounts_update_owner" ON "public"."connected_accounts" FOR UPDATE TO "authenticated" USING (((tenant_id = ( SELECT internal.active_tenant_id() AS active_tenant_id)) AND (( SELECT internal.active_tenant_role() AS active_tenant_role) = 'owner'::text))) WITH CHECK (((tenant_id = ( SELECT internal.active_tenant_id() AS active_tenant_id)) AND (( SELECT internal.active_tenant_role() AS active_tenant_role) = 'owner'::text)));

CREATE POLICY "edits_insert_owner" ON "public"."edits" FOR INSERT TO "authenticated" WITH CHECK (((tenant_id = ( SELECT internal.active_tenant_id() AS active_tenant_id)) AND (( SELECT internal.active_tenant_role() AS active_tenant_role) = 'owner'::text) AND (editor_id = ( SELECT auth.uid() AS uid))));

CREATE POLICY "edits_select_member" ON "public"."edits" FOR SELECT TO "authenticated" USING ((tenant_id = ( SELECT internal.active_tenant_id() AS active_tenant_id)));

CREATE POLICY "evidence_select_member" ON "public"."evidence" FOR SELECT TO "authenticated" USING ((tenant_id = ( SELECT internal.active_tenant_id() AS active_tenant_id)));

CREATE POLICY "evidence_embeddings_select_member" ON "public"."evidence_embeddings" FOR SELECT TO "authenticated" USING ((tenant_id = ( SELECT internal.active_tenant_id() AS active_tenant_id)));

CREATE POLICY "grades_insert_owner" ON "public"."grades" FOR INSERT TO "authenticated" WITH CHECK (((tenant_id = ( SELECT internal.active_tenant_id() AS active_tenant_id)) AND (( SELECT internal.active_tenant_role() AS active_tenant_role) = 'owner'::text) AND (grader_id = ( SELECT auth.uid() AS uid))));

CREATE POLICY "grades_select_member" ON "public"."grades" FOR SELECT TO "authenticated" USING ((tenant_id = ( SELECT internal.active_tenant_id() AS active_tenant_id)));

CREATE POLICY "guardrails_select_member" ON "public"."guardrails" FOR SELECT TO "authenticated" USING ((tenant_id = ( SELECT internal.active_tenant_id() AS active_tenant_id)));

CREATE POLICY "guardrails_update_owner" ON "public"."guardrails" FOR UPDATE TO "authenticated" USING (((tenant_id = ( SELECT internal.active_tenant_id() AS active_tenant_id)) AND (( SELECT internal.active_tenant_role() AS active_tenant_role) = 'owner'::text))) WITH CHECK (((tenant_id = ( SELECT internal.active_tenant_id() AS active_tenant_id)) AND (( SELECT internal.active_tenant_role() AS active_tenant_role) = 'owner'::text)));

CREATE POLICY "job_runs_select_member" ON "public"."job_runs" FOR SELECT TO "authenticated" USING ((tenant_id = ( SELECT internal.active_tenant_id() AS active_tenant_id)));

CREATE POLICY "objectives_delete_owner" ON "public"."objectives" FOR DELETE TO "authenticated" USING (((tenant_id = ( SELECT internal.active_tenant_id() AS active_tenant_id)) AND (( SELECT internal.active_tenant_role() AS active_tenant_role) = 'owner'::text)));

CREATE POLICY "objectives_insert_owner" ON "public"."objectives" FOR INSERT TO "authenticated" WITH CHECK (((tenant_id = ( SELECT internal.active_tenant_id() AS active_tenant_id)) AND (( SELECT internal.active_tenant_role() AS active_tenant_role) = 'owner'::text)));

CREATE POLICY "objectives_select_member" ON "public"."objectives" FOR SELECT TO "authenticated" USING ((tenant_id = ( SELECT internal.active_tenant_id() AS active_tenant_id)));

CREATE POLICY "objectives_update_owner" ON "public"."objectives" FOR UPDATE TO "authenticated" USING (((tenant_id = ( SELECT internal.active_tenant_id() AS active_tenant_id)) AND (( SELECT internal.active_tenant_role() AS active_tenant_role) = 'owner'::text))) WITH CHECK (((tenant_id = ( SELECT internal.active_tenant_id() AS active_tenant_id)) AND (( SELECT internal.active_tenant_role() AS active_tenant_role) = 'owner'::text)));

CREATE POLICY "outbox_select_member" ON "public"."outbox" FOR SELECT TO "authenticated" USING ((tenant_id = ( SELECT internal.active_tenant_id() AS active_tenant_id)));

CREATE POLICY "outbox_dlq_select_member" ON "public"."outbox_dlq" FOR SELECT TO "authenticated" USING ((tenant_id = ( SELECT internal.active_tenant_id() AS active_tenant_id)));

CREATE POLICY "plans_select_authenticated" ON "public"."plans" FOR SELECT TO "authenticated" USING (true);

CREATE POLICY "rate_buckets_select_member" ON "public"."rate_buckets" FOR SELECT TO "authenticated" USING ((tenant_id = ( SELECT internal.active_tenant_id() AS active_tenant_id)));

CREATE POLICY "tasks_delete_own" ON "public"."tasks" FOR DELETE TO "authenticated" USING (((user_id = ( SELECT auth.uid() AS uid)) AND (tenant_id = ( SELECT internal.active_tenant_id() AS active_tenant_id))));

CREATE POLICY "tasks_insert_own" ON "public"."tasks" FOR INSERT TO "authenticated" WITH CHECK (((user_id = ( SELECT auth.uid() AS uid)) AND (tenant_id = ( SELECT internal.active_tenant_id() AS active_tenant_id))));

CREATE POLICY "tasks_select_own" ON "public"."tasks" FOR SELECT TO "authenticated" USING (((user_id = ( SELECT auth.uid() AS uid)) AND (tenant_id = ( SELECT internal.active_tenant_id() AS active_tenant_id))));

CREATE POLICY "tasks_update_own" ON "public"."tasks" FOR UPDATE TO "authenticated" USING (((user_id = ( SELECT auth.uid() AS uid)) AND (tenant_id = ( SELECT internal.active_tenant_id() AS active_tenant_id)))) WITH CHECK (((user_id = ( SELECT auth.uid() AS uid)) AND (tenant_id = ( SELECT internal.active_tenant_id() AS active_tenant_id))));

CREATE POLICY "tenant_invitations_delete_owner_or_invitee" ON "public"."tenant_invitations" FOR DELETE TO "authenticated" USING (((accepted_at IS NULL) AND (((tenant_id = ( SELECT internal.active_tenant_id() AS active_tenant_id)) AND (( SELECT internal.active_tenant_role() AS active_tenant_role) = 'owner'::text)) OR (user_id = ( SELECT auth.uid() AS uid)) OR (email = lower(( SELECT auth.email() AS email))))));

CREATE POLICY "tenant_invitations_insert_owner" ON "public"."tenant_invitations" FOR INSERT TO "authenticated" WITH CHECK (((tenant_id = ( SELECT internal.active_tenant_id() AS active_tenant_id)) AND (( SELECT internal.active_tenant_role() AS active_tenant_role) = 'owner'::text)));

CREATE POLICY "tenant_invitations_select_owner_or_invitee" ON "public"."tenant_invitations" FOR SELECT TO "authenticated" USING ((((tenant_id = ( SELECT internal.active_tenant_id() AS active_tenant_id)) AND (( SELECT internal.active_tenant_role() AS active_tenant_role) = 'owner'::text)) OR (user_id = ( SELECT auth.uid() AS uid)) OR (email = lower(( SELECT auth.email() AS email)))));

CREATE POLICY "tenant_members_delete_owner_or_self" ON "public"."tenant_members" FOR DELETE TO "authenticated" USING ((((tenant_id = ( SELECT internal.active_tenant_id() AS active_tenant_id)) AND (( SELECT internal.active_tenant_role() AS active_tenant_role) = 'owner'::text)) OR (user_id = ( SELECT auth.uid() AS uid))));

CREATE POLICY "tenant_members_select_member" ON "public"."tenant_members" FOR SELECT TO "authenticated" USING (((tenant_id = ( SELECT internal.active_tenant_id() AS active_tenant_id)) OR (user_id = ( SELECT auth.uid() AS uid))));

CREATE POLICY "tenant_members_update_owner" ON "public"."tenant_members" FOR UPDATE TO "authenticated" USING (((tenant_id = ( SELECT internal.active_tenant_id() AS active_tenant_id)) AND (( SELECT internal.active_tenant_role() AS active_tenant_role) = 'owner'::text))) WITH CHECK (((tenant_id = ( SELECT internal.active_tenant_id() AS active_tenant_id)) AND (( SELECT internal.active_tenant_role() AS active_tenant_role) = 'owner'::text)));

CREATE POLICY "tenants_select_member" ON "public"."tenants" FOR SELECT TO "authenticated" USING ((id = ( SELECT internal.active_tenant_id() AS active_tenant_id)));

CREATE POLICY "tool_catalog_select_member" ON "public"."tool_catalog" FOR SELECT TO "authenticated" USING ((tenant_id = ( SELECT internal.active_tenant_id() AS active_tenant_id)));

CREATE POLICY "user_settings_select_auth_admin" ON "public"."user_settings" FOR SELECT TO "supabase_auth_admin" USING (true);

COMMENT ON COLUMN "public"."plans"."concurrency_cap_max" IS 'Highest guardrails.concurrency_cap a tenant on this plan may set.';

COMMENT ON COLUMN "public"."plans"."created_at" IS 'When the plan was created.';

COMMENT ON COLUMN "public"."plans"."fairness_weight" IS 'Share of a busy drain a tenant gets relative to others (1 = one share).';

COMMENT ON COLUMN "public"."plans"."max_attempts_max" IS 'Highest value of any tier in guardrails.max_attempts.';

COMMENT ON COLUMN "public"."plans"."name" IS 'Display name.';

COMMENT ON COLUMN "public"."plans"."search_per_minute" IS 'Evidence searches each user of the tenant may run per minute.';

COMMENT ON COLUMN "public"."plans"."slug" IS 'Plan id, referenced by tenants.plan.';

COMMENT ON COLUMN "public"."plans"."task_quota_per_day" IS 'Tasks a tenant may start per day (the tasks gateway).';

COMMENT ON COLUMN "public"."plans"."trust_threshold_min" IS 'Lowest guardrails.trust_threshold: below it, envelopes would skip approval too easily.';

COMMENT ON COLUMN "public"."plans"."updated_at" IS 'Last change, maintained by trigger.';

COMMENT ON COLUMN "public"."tasks"."correlation_id" IS 'Id shared with the gateway and workers for this task; unique within the tenant.';

COMMENT ON COLUMN "public"."tenant_invitations"."accepted_at" IS 'When the invitee accepted (server time); NULL while open.';

COMMENT ON COLUMN "public"."tenant_invitations"."accepted_by" IS 'The user who accepted.';

COMMENT ON COLUMN "public"."tenant_invitations"."created_at" IS 'When the invitation was made (server time).';

COMMENT ON COLUMN "public"."tenant_invitations"."email" IS 'The invitee''s email, lower case; or NULL when invited by user id.';

COMMENT ON COLUMN "public"."tenant_invitations"."expires_at" IS 'Past this, it can no longer be accepted (server time).';

COMMENT ON COLUMN "public"."tenant_invitations"."id" IS 'Invitation id (accept_invitation takes it).';

COMMENT ON COLUMN "public"."tenant_invitations"."invited_by" IS 'The owner who invited (set by the server).';

COMMENT ON COLUMN "public"."tenant_invitations"."role" IS 'The role the membership gets: owner or member.';

COMMENT ON COLUMN "public"."tenant_invitations"."tenant_id" IS 'The tenant invited to.';

COMMENT ON COLUMN "public"."tenant_invitations"."user_id" IS 'The invitee''s user id; or NULL when invited by email.';

COMMENT ON COLUMN "public"."tenant_members"."accepted_at" IS 'When the user accepted (server time); a user in several tenants defaults to the earliest accepted.';

COMMENT ON COLUMN "public"."tenant_members"."created_at" IS 'When the row was made (server time).';

COMMENT ON COLUMN "public"."tenant_members"."invited_by" IS 'The owner whose invitation the user accepted (NULL when the service added them).';

COMMENT ON COLUMN "public"."tenant_members"."role" IS 'owner (changes tenant configuration, decides approvals, invites) or member (reads).';

COMMENT ON COLUMN "public"."tenants"."plan" IS 'The plan (public.plans) whose limits the tenant''s owners choose guardrails within; set by the service; indexed for plan-wide jobs.';

COMMENT ON COLUMN "public"."user_settings"."active_tenant_id" IS 'The tenant the user wants their tokens to name; ignored unless they are a member of it.';

COMMENT ON COLUMN "public"."user_settings"."updated_at" IS 'Last change, maintained by trigger.';

COMMENT ON FUNCTION "internal"."active_tenant_id"() IS 'The tenant of the caller''s token (claim tenant_id) while the caller (claim sub) is a member of it, else NULL. Tenant policies compare tenant_id with it, once per statement.';

COMMENT ON FUNCTION "internal"."active_tenant_role"() IS 'The caller''s role (owner or member) in the tenant of their token, from tenant_members at query time, else NULL. Owner policies compare it with owner.';

COMMENT ON FUNCTION "internal"."guardrails_follow_plan"() IS 'AFTER UPDATE statement trigger on tenants: a tenant moved to another plan has its guardrails brought inside the new plan''s limits (cap and attempts lowered, trust threshold raised).';

COMMENT ON FUNCTION "internal"."guardrails_within_plan"() IS 'BEFORE INSERT/UPDATE trigger on guardrails: concurrency_cap, every max_attempts tier and trust_threshold must be within the tenant''s plan (23514 naming the field and the limit). SECURITY DEFINER: it reads the tenant''s plan whatever the writer may read.';

COMMENT ON FUNCTION "internal"."tenant_invitation_defaults"() IS 'BEFORE INSERT trigger on tenant_invitations: the inviter is the caller, created_at and expires_at the server''s, and a new invitation is open.';

COMMENT ON FUNCTION "internal"."tenant_keeps_an_owner"() IS 'BEFORE UPDATE/DELETE trigger on tenant_members: an end user (authenticated) cannot demote or remove the last owner of a tenant (PT409).';

COMMENT ON FUNCTION "public"."accept_invitation"(uuid) IS 'The caller accepts an open invitation made to their user id or to their user''s email: the membership is made with the invitation''s role and the server''s timestamps. PT404 when there is no such open invitation for the caller, PT410 when it expired. Returns the membership.';

COMMENT ON FUNCTION "public"."custom_access_token_hook"(jsonb) IS 'Supabase Custom Access Token Hook: returns {claims} with tenant_id and tenant_role from an accepted membership (the user''s user_settings.active_tenant_id, else app_metadata.tenant_id, while a member there; else the earliest accepted). Executable by supabase_auth_admin only.';

COMMENT ON TABLE "public"."plans" IS 'Service-owned plans a tenant is on (tenants.plan): the limits its owners choose guardrails within, its fairness weight, quotas. Every user may read them; only the service writes.';

COMMENT ON TABLE "public"."tenant_invitations" IS 'Invitations to join a tenant, by email or user id. Owners create and withdraw them; the invitee sees theirs and accepts with accept_invitation. Nothing changes for the invitee before acceptance.';

COMMENT ON TABLE "public"."tenant_members" IS 'Accepted memberships: which users belong to which tenant and as what. Made by accepting an invitation (or by the service); read by the access-token hook and, at query time, by internal.active_tenant_id / active_tenant_role.';

COMMENT ON TABLE "public"."user_settings" IS 'Per-user settings the user owns: active_tenant_id picks the tenant their next token names (among their memberships). Read by the access-token hook.';

REVOKE ALL ON FUNCTION "internal"."active_tenant_id"() FROM PUBLIC;

GRANT EXECUTE ON FUNCTION "internal"."active_tenant_id"() TO "authenticated", "postgres";

REVOKE ALL ON FUNCTION "internal"."active_tenant_role"() FROM PUBLIC;

GRANT EXECUTE ON FUNCTION "internal"."active_tenant_role"() TO "authenticated", "postgres";

REVOKE ALL ON FUNCTION "internal"."guardrails_follow_plan"() FROM PUBLIC;

GRANT EXECUTE ON FUNCTION "internal"."guardrails_follow_plan"() TO "postgres";

REVOKE ALL ON FUNCTION "internal"."guardrails_within_plan"() FROM PUBLIC;

GRANT EXECUTE ON FUNCTION "internal"."guardrails_within_plan"() TO "postgres";

REVOKE ALL ON FUNCTION "internal"."tenant_invitation_defaults"() FROM PUBLIC;

GRANT EXECUTE ON FUNCTION "internal"."tenant_invitation_defaults"() TO "postgres";

REVOKE ALL ON FUNCTION "internal"."tenant_keeps_an_owner"() FROM PUBLIC;

GRANT EXECUTE ON FUNCTION "internal"."tenant_keeps_an_owner"() TO "postgres";

REVOKE ALL ON FUNCTION "public"."accept_invitation"(uuid) FROM PUBLIC;

GRANT EXECUTE ON FUNCTION "public"."accept_invitation"(uuid) TO "authenticated", "postgres", "service_role";

REVOKE ALL ON TABLE "public"."plans" FROM "anon";

GRANT SELECT ON TABLE "public"."plans" TO "anon";

REVOKE ALL ON TABLE "public"."plans" FROM "authenticated";

GRANT SELECT ON TABLE "public"."plans" TO "authenticated";

GRANT DELETE, INSERT, REFERENCES, SELECT, TRIGGER, TRUNCATE, UPDATE ON TABLE "public"."plans" TO "postgres", "service_role";

REVOKE ALL ON TABLE "public"."tenant_invitations" FROM "anon";

GRANT DELETE, SELECT ON TABLE "public"."tenant_invitations" TO "anon";

REVOKE ALL ("email") ON TABLE "public"."tenant_invitations" FROM "authenticated";

GRANT INSERT ("email") ON TABLE "public"."tenant_invitations" TO "authenticated";

REVOKE ALL ("role") ON TABLE "public"."tenant_invitations" FROM "authenticated";

GRANT INSERT ("role") ON TABLE "public"."tenant_invitations" TO "authenticated";

REVOKE ALL ("tenant_id") ON TABLE "public"."tenant_invitations" FROM "authenticated";

GRANT INSERT ("tenant_id") ON TABLE "public"."tenant_invitations" TO "authenticated";

REVOKE ALL ("user_id") ON TABLE "public"."tenant_invitations" FROM "authenticated";

GRANT INSERT ("user_id") ON TABLE "public"."tenant_invitations" TO "authenticated";

REVOKE ALL ON TABLE "public"."tenant_invitations" FROM "authenticated";

GRANT DELETE, SELECT ON TABLE "public"."tenant_invitations" TO "authenticated";

GRANT DELETE, INSERT, REFERENCES, SELECT, TRIGGER, TRUNCATE, UPDATE ON TABLE "public"."tenant_invitations" TO "postgres", "service_role";

REVOKE ALL ON TABLE "public"."tenant_members" FROM "anon";

GRANT DELETE, SELECT ON TABLE "public"."tenant_members" TO "anon";

REVOKE ALL ("role") ON TABLE "public"."tenant_members" FROM "authenticated";

GRANT UPDATE ("role") ON TABLE "public"."tenant_members" TO "authenticated";

REVOKE ALL ON TABLE "public"."tenant_members" FROM "authenticated";

GRANT DELETE, SELECT ON TABLE "public"."tenant_members" TO "authenticated";

REVOKE ALL ON TABLE "public"."user_settings" FROM "anon";

GRANT DELETE, INSERT, SELECT, UPDATE ON TABLE "public"."user_settings" TO "anon";

REVOKE ALL ON TABLE "public"."user_settings" FROM "authenticated";

GRANT DELETE, INSERT, SELECT, UPDATE ON TABLE "public"."user_settings" TO "authenticated";

GRANT DELETE, INSERT, REFERENCES, SELECT, TRIGGER, TRUNCATE, UPDATE ON TABLE "public"."user_settings" TO "postgres", "service_role";

GRANT SELECT ON TABLE "public"."user_settings" TO "supabase_auth_admin";

ALTER TABLE "public"."user_settings" ADD CONSTRAINT "user_settings_user_id_fkey" FOREIGN KEY (user_id) REFERENCES auth.users(id) ON DELETE CASCADE;

CREATE POLICY "user_settings_delete_self" ON "public"."user_settings" FOR DELETE TO "authenticated" USING ((user_id = ( SELECT auth.uid() AS uid)));

CREATE POLICY "user_settings_insert_self" ON "public"."user_settings" FOR INSERT TO "authenticated" WITH CHECK ((user_id = ( SELECT auth.uid() AS uid)));

CREATE POLICY "user_settings_select_self" ON "public"."user_settings" FOR SELECT TO "authenticated" USING ((user_id = ( SELECT auth.uid() AS uid)));

CREATE POLICY "user_settings_update_self" ON "public"."user_settings" FOR UPDATE TO "authenticated" USING ((user_id = ( SELECT auth.uid() AS uid))) WITH CHECK ((user_id = ( SELECT auth.uid() AS uid)));

COMMENT ON COLUMN "public"."user_settings"."user_id" IS 'The user (auth.users).';

-- By hand: what db:diff does not write.
revoke insert, update, delete on public.plans from anon, authenticated;
revoke insert, update on public.tenant_members from anon, authenticated;
grant update (role) on public.tenant_members to authenticated;
revoke insert, update on public.tenant_invitations from anon, authenticated;
grant insert (tenant_id, email, user_id, role) on public.tenant_invitations to authenticated;
revoke execute on function public.accept_invitation(uuid) from public, anon;
grant execute on function public.accept_invitation(uuid) to authenticated, service_role;
revoke all on all sequences in schema public from anon, authenticated;

-- Rows saved before plans existed: brought inside their plan's limits.
update public.guardrails g
   set concurrency_cap = least(g.concurrency_cap, p.concurrency_cap_max),
       trust_threshold = greatest(g.trust_threshold, p.trust_threshold_min),
       max_attempts = (select jsonb_object_agg(a.key, least((a.value::text)::int,
                                                            p.max_attempts_max))
                         from jsonb_each(g.max_attempts) as a (key, value))
  from public.tenants t
  join public.plans p on p.slug = t.plan
 where t.id = g.tenant_id
   and (g.concurrency_cap > p.concurrency_cap_max or g.trust_threshold < p.trust_threshold_min
        or exists (select 1 from jsonb_each(g.max_attempts) as a (key, value)
                    where (a.value::text)::int > p.max_attempts_max));
