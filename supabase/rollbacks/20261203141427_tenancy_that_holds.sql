-- Reverts 20261203141427_tenancy_that_holds.sql. A draft by `deno task db:diff tenancy_that_holds` (the reverse diff):
-- review it. Drops without CASCADE, so an object a later migration made stops it.

set local check_function_bodies = off;

REVOKE ALL ("role") ON TABLE "public"."tenant_members" FROM "authenticated";

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

DROP POLICY "tenant_invitations_delete_owner_or_invitee" ON "public"."tenant_invitations";

DROP POLICY "tenant_invitations_insert_owner" ON "public"."tenant_invitations";

DROP POLICY "tenant_invitations_select_owner_or_invitee" ON "public"."tenant_invitations";

DROP POLICY "tenant_members_delete_owner_or_self" ON "public"."tenant_members";

DROP POLICY "tenant_members_select_member" ON "public"."tenant_members";

DROP POLICY "tenant_members_update_owner" ON "public"."tenant_members";

DROP POLICY "tenants_select_member" ON "public"."tenants";

DROP POLICY "tool_catalog_select_member" ON "public"."tool_catalog";

DROP TRIGGER "guardrails_within_plan" ON "public"."guardrails";

DROP TRIGGER "tenant_keeps_an_owner" ON "public"."tenant_members";

DROP TRIGGER "guardrails_follow_plan" ON "public"."tenants";

DROP INDEX "public"."approvals_envelope_idx";

DROP INDEX "public"."edits_envelope_idx";

DROP INDEX "public"."evidence_envelope_idx";

DROP INDEX "public"."grades_approval_idx";

DROP INDEX "public"."grades_envelope_idx";

DROP INDEX "public"."tasks_objective_idx";

DROP INDEX "public"."tenant_members_invited_by_idx";

DROP INDEX "public"."tenant_members_user_idx";

ALTER TABLE "public"."approvals" DROP CONSTRAINT "approvals_envelope_fkey";

ALTER TABLE "public"."edits" DROP CONSTRAINT "edits_envelope_fkey";

ALTER TABLE "public"."evidence" DROP CONSTRAINT "evidence_envelope_fkey";

ALTER TABLE "public"."grades" DROP CONSTRAINT "grades_approval_fkey";

ALTER TABLE "public"."approvals" DROP CONSTRAINT "approvals_tenant_id_id_key";

ALTER TABLE "public"."grades" DROP CONSTRAINT "grades_envelope_fkey";

ALTER TABLE "public"."outbox" DROP CONSTRAINT "outbox_tenant_id_id_key";

ALTER TABLE "public"."tasks" DROP CONSTRAINT "tasks_objective_fkey";

ALTER TABLE "public"."objectives" DROP CONSTRAINT "objectives_tenant_id_id_key";

ALTER TABLE "public"."tasks" DROP CONSTRAINT "tasks_tenant_correlation_id_key";

ALTER TABLE "public"."tenant_invitations" DROP CONSTRAINT "tenant_invitations_accepted_by_fkey";

ALTER TABLE "public"."tenant_invitations" DROP CONSTRAINT "tenant_invitations_invited_by_fkey";

ALTER TABLE "public"."tenant_invitations" DROP CONSTRAINT "tenant_invitations_tenant_id_fkey";

ALTER TABLE "public"."tenant_invitations" DROP CONSTRAINT "tenant_invitations_user_id_fkey";

ALTER TABLE "public"."tenant_members" DROP CONSTRAINT "tenant_members_invited_by_fkey";

ALTER TABLE "public"."tenants" DROP CONSTRAINT "tenants_plan_fkey";

ALTER TABLE "public"."user_settings" DROP CONSTRAINT "user_settings_user_id_fkey";

DROP FUNCTION "internal"."active_tenant_id"();

DROP FUNCTION "internal"."active_tenant_role"();

DROP FUNCTION "internal"."guardrails_follow_plan"();

DROP FUNCTION "internal"."guardrails_within_plan"();

DROP FUNCTION "internal"."tenant_keeps_an_owner"();

DROP FUNCTION "public"."accept_invitation"(uuid);

ALTER TABLE "public"."tenant_members" DROP COLUMN "accepted_at";

ALTER TABLE "public"."tenant_members" DROP COLUMN "invited_by";

DROP TABLE "public"."plans";

DROP TABLE "public"."tenant_invitations";

DROP FUNCTION "internal"."tenant_invitation_defaults"();

DROP TABLE "public"."user_settings";

CREATE OR REPLACE FUNCTION internal.decide_envelope(p_envelope_id uuid, p_decision text, p_reason text, p_summary text)
 RETURNS public.outbox
 LANGUAGE plpgsql
 SET search_path TO ''
AS $function$
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
$function$;

CREATE OR REPLACE FUNCTION public.custom_access_token_hook(event jsonb)
 RETURNS jsonb
 LANGUAGE plpgsql
 STABLE
 SET search_path TO ''
AS $function$
declare
  claims jsonb := coalesce(event -> 'claims', '{}') - 'tenant_id' - 'tenant_role';
  v_user uuid := (event ->> 'user_id')::uuid;
  v_wanted uuid;
  m record;
begin
  select case when u.raw_app_meta_data ->> 'tenant_id'
                   ~* '^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$'
              then (u.raw_app_meta_data ->> 'tenant_id')::uuid end
    into v_wanted
    from auth.users u
   where u.id = v_user;

  select tm.tenant_id, tm.role into m
    from public.tenant_members tm
   where tm.user_id = v_user
   order by tm.tenant_id = v_wanted desc nulls last, tm.created_at, tm.tenant_id
   limit 1;

  if found then
    claims := claims || jsonb_build_object('tenant_id', m.tenant_id, 'tenant_role', m.role);
  end if;
  return jsonb_build_object('claims', claims);
end
$function$;

ALTER TABLE "public"."approvals" ADD CONSTRAINT "approvals_envelope_id_fkey" FOREIGN KEY (envelope_id) REFERENCES public.outbox(id) ON DELETE SET NULL;

ALTER TABLE "public"."edits" ADD CONSTRAINT "edits_envelope_id_fkey" FOREIGN KEY (envelope_id) REFERENCES public.outbox(id) ON DELETE SET NULL;

ALTER TABLE "public"."evidence" ADD CONSTRAINT "evidence_envelope_id_fkey" FOREIGN KEY (envelope_id) REFERENCES public.outbox(id) ON DELETE SET NULL;

ALTER TABLE "public"."grades" ADD CONSTRAINT "grades_approval_id_fkey" FOREIGN KEY (approval_id) REFERENCES public.approvals(id) ON DELETE CASCADE;

ALTER TABLE "public"."grades" ADD CONSTRAINT "grades_envelope_id_fkey" FOREIGN KEY (envelope_id) REFERENCES public.outbox(id) ON DELETE SET NULL;

ALTER TABLE "public"."tasks" ADD CONSTRAINT "idx_tasks_correlation_id" UNIQUE (correlation_id);

ALTER TABLE "public"."tasks" ADD CONSTRAINT "tasks_objective_id_fkey" FOREIGN KEY (objective_id) REFERENCES public.objectives(id) ON DELETE SET NULL;

ALTER TABLE "public"."tenants" ADD CONSTRAINT "tenants_plan_check" CHECK ((plan ~ '^[a-z][a-z0-9_]*$'::text));

CREATE INDEX approvals_envelope_idx ON public.approvals USING btree (envelope_id);

CREATE INDEX edits_envelope_idx ON public.edits USING btree (envelope_id);

CREATE INDEX evidence_envelope_idx ON public.evidence USING btree (envelope_id);

CREATE INDEX grades_approval_idx ON public.grades USING btree (approval_id);

CREATE INDEX grades_envelope_idx ON public.grades USING btree (envelope_id);

CREATE INDEX tasks_objective_idx ON public.tasks USING btree (objective_id) WHERE (objective_id IS NOT NULL);

CREATE INDEX tenant_members_user_idx ON public.tenant_members USING btree (user_id, created_at);

CREATE POLICY "approvals_select_member" ON "public"."approvals" FOR SELECT TO "authenticated" USING ((tenant_id = ((( SELECT auth.jwt() AS jwt) ->> 'tenant_id'::text))::uuid));

CREATE POLICY "audit_log_select_member" ON "public"."audit_log" FOR SELECT TO "authenticated" USING ((tenant_id = ((( SELECT auth.jwt() AS jwt) ->> 'tenant_id'::text))::uuid));

CREATE POLICY "catalog_audit_select_member" ON "public"."catalog_audit" FOR SELECT TO "authenticated" USING ((tenant_id = ((( SELECT auth.jwt() AS jwt) ->> 'tenant_id'::text))::uuid));

CREATE POLICY "connected_accounts_delete_owner" ON "public"."connected_accounts" FOR DELETE TO "authenticated" USING (((tenant_id = ((( SELECT auth.jwt() AS jwt) ->> 'tenant_id'::text))::uuid) AND ((( SELECT auth.jwt() AS jwt) ->> 'tenant_role'::text) = 'owner'::text)));

CREATE POLICY "connected_accounts_insert_owner" ON "public"."connected_accounts" FOR INSERT TO "authenticated" WITH CHECK (((tenant_id = ((( SELECT auth.jwt() AS jwt) ->> 'tenant_id'::text))::uuid) AND ((( SELECT auth.jwt() AS jwt) ->> 'tenant_role'::text) = 'owner'::text)));

CREATE POLICY "connected_accounts_select_member" ON "public"."connected_accounts" FOR SELECT TO "authenticated" USING ((tenant_id = ((( SELECT auth.jwt() AS jwt) ->> 'tenant_id'::text))::uuid));

CREATE POLICY "connected_accounts_update_owner" ON "public"."connected_accounts" FOR UPDATE TO "authenticated" USING (((tenant_id = ((( SELECT auth.jwt() AS jwt) ->> 'tenant_id'::text))::uuid) AND ((( SELECT auth.jwt() AS jwt) ->> 'tenant_role'::text) = 'owner'::text))) WITH CHECK (((tenant_id = ((( SELECT auth.jwt() AS jwt) ->> 'tenant_id'::text))::uuid) AND ((( SELECT auth.jwt() AS jwt) ->> 'tenant_role'::text) = 'owner'::text)));

CREATE POLICY "edits_insert_owner" ON "public"."edits" FOR INSERT TO "authenticated" WITH CHECK (((tenant_id = ((( SELECT auth.jwt() AS jwt) ->> 'tenant_id'::text))::uuid) AND ((( SELECT auth.jwt() AS jwt) ->> 'tenant_role'::text) = 'owner'::text) AND (editor_id = ( SELECT auth.uid() AS uid))));

CREATE POLICY "edits_select_member" ON "public"."edits" FOR SELECT TO "authenticated" USING ((tenant_id = ((( SELECT auth.jwt() AS jwt) ->> 'tenant_id'::text))::uuid));

CREATE POLICY "evidence_select_member" ON "public"."evidence" FOR SELECT TO "authenticated" USING ((tenant_id = ((( SELECT auth.jwt() AS jwt) ->> 'tenant_id'::text))::uuid));

CREATE POLICY "evidence_embeddings_select_member" ON "public"."evidence_embeddings" FOR SELECT TO "authenticated" USING ((tenant_id = ((( SELECT auth.jwt() AS jwt) ->> 'tenant_id'::text))::uuid));

CREATE POLICY "grades_insert_owner" ON "public"."grades" FOR INSERT TO "authenticated" WITH CHECK (((tenant_id = ((( SELECT auth.jwt() AS jwt) ->> 'tenant_id'::text))::uuid) AND ((( SELECT auth.jwt() AS jwt) ->> 'tenant_role'::text) = 'owner'::text) AND (grader_id = ( SELECT auth.uid() AS uid))));

CREATE POLICY "grades_select_member" ON "public"."grades" FOR SELECT TO "authenticated" USING ((tenant_id = ((( SELECT auth.jwt() AS jwt) ->> 'tenant_id'::text))::uuid));

CREATE POLICY "guardrails_select_member" ON "public"."guardrails" FOR SELECT TO "authenticated" USING ((tenant_id = ((( SELECT auth.jwt() AS jwt) ->> 'tenant_id'::text))::uuid));

CREATE POLICY "guardrails_update_owner" ON "public"."guardrails" FOR UPDATE TO "authenticated" USING (((tenant_id = ((( SELECT auth.jwt() AS jwt) ->> 'tenant_id'::text))::uuid) AND ((( SELECT auth.jwt() AS jwt) ->> 'tenant_role'::text) = 'owner'::text))) WITH CHECK (((tenant_id = ((( SELECT auth.jwt() AS jwt) ->> 'tenant_id'::text))::uuid) AND ((( SELECT auth.jwt() AS jwt) ->> 'tenant_role'::text) = 'owner'::text)));

CREATE POLICY "job_runs_select_member" ON "public"."job_runs" FOR SELECT TO "authenticated" USING ((tenant_id = ((( SELECT auth.jwt() AS jwt) ->> 'tenant_id'::text))::uuid));

CREATE POLICY "objectives_delete_owner" ON "public"."objectives" FOR DELETE TO "authenticated" USING (((tenant_id = ((( SELECT auth.jwt() AS jwt) ->> 'tenant_id'::text))::uuid) AND ((( SELECT auth.jwt() AS jwt) ->> 'tenant_role'::text) = 'owner'::text)));

CREATE POLICY "objectives_insert_owner" ON "public"."objectives" FOR INSERT TO "authenticated" WITH CHECK (((tenant_id = ((( SELECT auth.jwt() AS jwt) ->> 'tenant_id'::text))::uuid) AND ((( SELECT auth.jwt() AS jwt) ->> 'tenant_role'::text) = 'owner'::text)));

CREATE POLICY "objectives_select_member" ON "public"."objectives" FOR SELECT TO "authenticated" USING ((tenant_id = ((( SELECT auth.jwt() AS jwt) ->> 'tenant_id'::text))::uuid));

CREATE POLICY "objectives_update_owner" ON "public"."objectives" FOR UPDATE TO "authenticated" USING (((tenant_id = ((( SELECT auth.jwt() AS jwt) ->> 'tenant_id'::text))::uuid) AND ((( SELECT auth.jwt() AS jwt) ->> 'tenant_role'::text) = 'owner'::text))) WITH CHECK (((tenant_id = ((( SELECT auth.jwt() AS jwt) ->> 'tenant_id'::text))::uuid) AND ((( SELECT auth.jwt() AS jwt) ->> 'tenant_role'::text) = 'owner'::text)));

CREATE POLICY "outbox_select_member" ON "public"."outbox" FOR SELECT TO "authenticated" USING ((tenant_id = ((( SELECT auth.jwt() AS jwt) ->> 'tenant_id'::text))::uuid));

CREATE POLICY "outbox_dlq_select_member" ON "public"."outbox_dlq" FOR SELECT TO "authenticated" USING ((tenant_id = ((( SELECT auth.jwt() AS jwt) ->> 'tenant_id'::text))::uuid));

CREATE POLICY "rate_buckets_select_member" ON "public"."rate_buckets" FOR SELECT TO "authenticated" USING ((tenant_id = ((( SELECT auth.jwt() AS jwt) ->> 'tenant_id'::text))::uuid));

CREATE POLICY "tasks_delete_own" ON "public"."tasks" FOR DELETE TO "authenticated" USING (((user_id = ( SELECT auth.uid() AS uid)) AND (tenant_id = ((( SELECT auth.jwt() AS jwt) ->> 'tenant_id'::text))::uuid)));

CREATE POLICY "tasks_insert_own" ON "public"."tasks" FOR INSERT TO "authenticated" WITH CHECK (((user_id = ( SELECT auth.uid() AS uid)) AND (tenant_id = ((( SELECT auth.jwt() AS jwt) ->> 'tenant_id'::text))::uuid)));

CREATE POLICY "tasks_select_own" ON "public"."tasks" FOR SELECT TO "authenticated" USING (((user_id = ( SELECT auth.uid() AS uid)) AND (tenant_id = ((( SELECT auth.jwt() AS jwt) ->> 'tenant_id'::text))::uuid)));

CREATE POLICY "tasks_update_own" ON "public"."tasks" FOR UPDATE TO "authenticated" USING (((user_id = ( SELECT auth.uid() AS uid)) AND (tenant_id = ((( SELECT auth.jwt() AS jwt) ->> 'tenant_id'::text))::uuid))) WITH CHECK (((user_id = ( SELECT auth.uid() AS uid)) AND (tenant_id = ((( SELECT auth.jwt() AS jwt) ->> 'tenant_id'::text))::uuid)));

CREATE POLICY "tenant_members_delete_owner" ON "public"."tenant_members" FOR DELETE TO "authenticated" USING (((tenant_id = ((( SELECT auth.jwt() AS jwt) ->> 'tenant_id'::text))::uuid) AND ((( SELECT auth.jwt() AS jwt) ->> 'tenant_role'::text) = 'owner'::text)));

CREATE POLICY "tenant_members_insert_owner" ON "public"."tenant_members" FOR INSERT TO "authenticated" WITH CHECK (((tenant_id = ((( SELECT auth.jwt() AS jwt) ->> 'tenant_id'::text))::uuid) AND ((( SELECT auth.jwt() AS jwt) ->> 'tenant_role'::text) = 'owner'::text)));

CREATE POLICY "tenant_members_select_member" ON "public"."tenant_members" FOR SELECT TO "authenticated" USING (((tenant_id = ((( SELECT auth.jwt() AS jwt) ->> 'tenant_id'::text))::uuid) OR (user_id = ( SELECT auth.uid() AS uid))));

CREATE POLICY "tenant_members_update_owner" ON "public"."tenant_members" FOR UPDATE TO "authenticated" USING (((tenant_id = ((( SELECT auth.jwt() AS jwt) ->> 'tenant_id'::text))::uuid) AND ((( SELECT auth.jwt() AS jwt) ->> 'tenant_role'::text) = 'owner'::text))) WITH CHECK (((tenant_id = ((( SELECT auth.jwt() AS jwt) ->> 'tenant_id'::text))::uuid) AND ((( SELECT auth.jwt() AS jwt) ->> 'tenant_role'::text) = 'owner'::text)));

CREATE POLICY "tenants_select_member" ON "public"."tenants" FOR SELECT TO "authenticated" USING ((id = ((( SELECT auth.jwt() AS jwt) ->> 'tenant_id'::text))::uuid));

CREATE POLICY "tool_catalog_select_member" ON "public"."tool_catalog" FOR SELECT TO "authenticated" USING ((tenant_id = ((( SELECT auth.jwt() AS jwt) ->> 'tenant_id'::text))::uuid));

COMMENT ON COLUMN "public"."tasks"."correlation_id" IS 'Id shared with the gateway and workers for this task; globally unique.';

COMMENT ON COLUMN "public"."tenant_members"."created_at" IS 'When the user joined; a user in several tenants defaults to the earliest.';

COMMENT ON COLUMN "public"."tenant_members"."role" IS 'owner (changes tenant configuration, decides approvals) or member (reads).';

COMMENT ON COLUMN "public"."tenants"."plan" IS 'Billing plan slug (free, pro, …); indexed for plan-wide jobs.';

COMMENT ON FUNCTION "public"."custom_access_token_hook"(jsonb) IS 'Supabase Custom Access Token Hook: returns {claims} with tenant_id and tenant_role from tenant_members (app_metadata.tenant_id picks among several tenants, else the earliest membership). Executable by supabase_auth_admin only.';

COMMENT ON TABLE "public"."tenant_members" IS 'Which users belong to which tenant and as what. Read by the access-token hook to put tenant_id and tenant_role into the JWT.';

REVOKE ALL ON TABLE "public"."tenant_members" FROM "anon";

GRANT DELETE, INSERT, SELECT, UPDATE ON TABLE "public"."tenant_members" TO "anon";

REVOKE ALL ON TABLE "public"."tenant_members" FROM "authenticated";

GRANT DELETE, INSERT, SELECT, UPDATE ON TABLE "public"."tenant_members" TO "authenticated";

ALTER DEFAULT PRIVILEGES FOR ROLE "postgres" IN SCHEMA "public" GRANT SELECT, UPDATE, USAGE ON SEQUENCES TO "anon";

ALTER DEFAULT PRIVILEGES FOR ROLE "postgres" IN SCHEMA "public" GRANT SELECT, UPDATE, USAGE ON SEQUENCES TO "authenticated";

delete from supabase_migrations.schema_migrations where version = '20261203141427';
