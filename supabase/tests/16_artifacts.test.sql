-- Evidence artifacts (20261204200000_evidence_artifacts): the storage schema as hosted has
-- it (owner, no objects of postgres' own there, direct deletes refused), the bucket row,
-- who reaches its objects (members of the object's tenant read; nobody but the service
-- writes), and what outbox_settle and the pending store do with artifacts. Runs as
-- postgres; everything rolls back.
begin;
select plan(40);

-- --- the platform's storage schema ---------------------------------------------------------
select is((select nspowner::regrole::text from pg_namespace where nspname = 'storage'),
          'supabase_storage_admin', 'schema storage belongs to supabase_storage_admin');
select is((select array_agg(tableowner::text order by tablename) from pg_tables
            where schemaname = 'storage' and tablename in ('buckets', 'objects')),
          array['supabase_storage_admin', 'supabase_storage_admin'],
          'storage.buckets and storage.objects belong to it');
select ok(not pg_has_role('postgres', 'supabase_storage_admin', 'member'),
          'postgres is no member of supabase_storage_admin (as on hosted since 2025)');
select throws_ok($$ create table storage.mine (id int) $$, '42501', null,
                 'postgres cannot create objects in schema storage');
select throws_ok($$ alter table storage.objects add column mine int $$, '42501', null,
                 'postgres cannot alter storage.objects');
select is(storage.foldername('a/b/c.json'), array['a', 'b'], 'foldername: the folders');
select is(storage.filename('a/b/c.json'), 'c.json', 'filename: the last segment');
select is(storage.extension('a/b/c.tar.gz'), 'gz', 'extension: after the last dot');
select ok((select attgenerated = 's' from pg_attribute
            where attrelid = 'storage.objects'::regclass and attname = 'path_tokens'),
          'objects.path_tokens is a generated column');

-- --- the bucket ---------------------------------------------------------------------------
select is((select (public, file_size_limit, allowed_mime_types) from storage.buckets
            where id = 'evidence-artifacts'),
          row(false, 52428800::bigint, null::text[]),
          'evidence-artifacts is private, 50 MB per object, any type');

-- --- who reaches its objects --------------------------------------------------------------
\set a '''00000000-0000-0000-0000-00000000000a'''
\set b '''00000000-0000-0000-0000-00000000000b'''
insert into storage.buckets (id, name) values ('pgtap-other', 'pgtap-other');
insert into storage.objects (bucket_id, name, owner_id) values
  ('evidence-artifacts', '00000000-0000-0000-0000-00000000000a/e1/output.json', null),
  ('evidence-artifacts', '00000000-0000-0000-0000-00000000000b/e2/output.json', null),
  -- The same folder in another bucket: the policy is for evidence-artifacts only.
  ('pgtap-other', '00000000-0000-0000-0000-00000000000a/e3/output.json', null);

create function pg_temp.visible() returns text[] language sql as $$
  select coalesce(array_agg(bucket_id || ':' || split_part(name, '/', 2) order by name, bucket_id),
                  '{}')
    from storage.objects where bucket_id in ('evidence-artifacts', 'pgtap-other')
$$;
create function pg_temp.affected(p_sql text) returns int language plpgsql as $$
declare
  v_n int;
begin
  execute p_sql;
  get diagnostics v_n = row_count;
  return v_n;
end
$$;
create function pg_temp.act_as(p_role text, p_sub text, p_tenant text) returns void
language plpgsql as $$
begin
  perform set_config('request.jwt.claims',
                     jsonb_strip_nulls(jsonb_build_object('role', p_role, 'sub', p_sub,
                                                          'tenant_id', p_tenant))::text, true);
  execute format('set local role %I', p_role);
end
$$;

select pg_temp.act_as('authenticated', '00000000-0000-0000-0000-0000000000a2', :a);
select is(pg_temp.visible(), array['evidence-artifacts:e1'], 'a member of A reads A''s artifact only');
select throws_ok($$ insert into storage.objects (bucket_id, name)
                    values ('evidence-artifacts', '00000000-0000-0000-0000-00000000000a/x/y') $$,
                 '42501', null, 'a member cannot upload, even into their tenant''s folder');
select is(pg_temp.affected($$ update storage.objects set owner_id = 'me' $$), 0,
          'a member updates nothing');
do $$ begin perform set_config('storage.allow_delete_query', 'true', true); end $$;
select is(pg_temp.affected($$ delete from storage.objects $$), 0,
          'a member deletes nothing, even through the Storage API');
do $$ begin perform set_config('storage.allow_delete_query', '', true); end $$;
reset role;

select pg_temp.act_as('authenticated', '00000000-0000-0000-0000-0000000000a1', :a);
select is(pg_temp.visible(), array['evidence-artifacts:e1'], 'an owner of A reads the same');
reset role;
select pg_temp.act_as('authenticated', '00000000-0000-0000-0000-0000000000b2', :b);
select is(pg_temp.visible(), array['evidence-artifacts:e2'], 'a member of B reads B''s only');
reset role;
-- A token naming A for a user who is no member of A: the membership decides, not the claim.
select pg_temp.act_as('authenticated', '00000000-0000-0000-0000-0000000000b2', :a);
select is(pg_temp.visible(), '{}'::text[], 'a token claiming a tenant one is not a member of reads nothing');
reset role;
select pg_temp.act_as('authenticated', '00000000-0000-0000-0000-0000000000c1', null);
select is(pg_temp.visible(), '{}'::text[], 'a user without tenant reads nothing');
reset role;
select pg_temp.act_as('anon', null, null);
select is(pg_temp.visible(), '{}'::text[], 'anon reads nothing');
reset role;
select pg_temp.act_as('service_role', null, null);
select is(array_length(pg_temp.visible(), 1), 3, 'service_role reads everything');
reset role;

select throws_ok($$ delete from storage.objects where bucket_id = 'pgtap-other' $$, '42501',
                 'Direct deletion from storage tables is not allowed. Use the Storage API instead.',
                 'a direct delete is refused, as on hosted');

-- --- outbox_settle with artifacts ---------------------------------------------------------
insert into public.tenants (id, name, plan)
values ('15000000-0000-0000-0000-000000000001', 'artifacts', 'enterprise');
update public.guardrails set concurrency_cap = 5
 where tenant_id = '15000000-0000-0000-0000-000000000001';
insert into public.outbox (id, tenant_id, tool_slug, toolkit, risk, read_only)
select ('15000000-0001-0000-0000-00000000000' || n)::uuid,
       '15000000-0000-0000-0000-000000000001', 'T_READ', 'tk', 'low', true
  from generate_series(1, 4) n;
create temporary table c as
select * from public.outbox_claim('w', 10, 60000, '15000000-0000-0000-0000-000000000001');
\set e1 '''15000000-0001-0000-0000-000000000001'''
\set e2 '''15000000-0001-0000-0000-000000000002'''
\set e3 '''15000000-0001-0000-0000-000000000003'''
\set e4 '''15000000-0001-0000-0000-000000000004'''

create function pg_temp.art(p_env uuid, p_status text) returns jsonb language sql as $$
  select jsonb_build_object('bucket', 'evidence-artifacts',
                            'path', '15000000-0000-0000-0000-000000000001/' || p_env || '/output.json',
                            'size', 11, 'content_type', 'application/json',
                            'sha256', encode(sha256('"hello big"'), 'hex'), 'status', p_status)
$$;
create function pg_temp.done(p_env uuid, p_status text) returns jsonb language sql as $$
  select jsonb_build_object('op', 'complete', 'id', p_env,
                            'token', (select lease_token from c where id = p_env),
                            'result', jsonb_build_object('artifact', pg_temp.art(p_env, p_status)),
                            'artifact', pg_temp.art(p_env, p_status), 'details', '{}'::jsonb)
         || case when p_status = 'pending'
                 then jsonb_build_object('artifact_base64', encode('"hello big"', 'base64'))
                 else '{}' end
$$;

select throws_ok(format($$ select * from public.outbox_settle(jsonb_build_array(%L::jsonb)) $$,
                        pg_temp.done(:e1, 'pending') - 'artifact_base64'),
                 '22023', 'outbox_settle: artifact_base64 comes with a pending artifact, and only then',
                 'a pending artifact without its bytes refuses the batch');
select throws_ok(format($$ select * from public.outbox_settle(jsonb_build_array(%L::jsonb)) $$,
                        pg_temp.done(:e1, 'uploaded') || '{"op": "retry", "delay_ms": 1, "reason": "x"}'),
                 '22023', 'outbox_settle: only complete carries an artifact',
                 'an artifact on anything but complete refuses the batch');

-- Room for one pending artifact: e2 is parked, e3 (later in the batch) is dropped.
update internal.artifact_pending_limit set max_rows = 1;
select is((select array_agg(applied) from public.outbox_settle(jsonb_build_array(
             pg_temp.done(:e1, 'uploaded'), pg_temp.done(:e2, 'pending'),
             pg_temp.done(:e3, 'pending')))),
          array[true, true, true], 'a batch of three artifacts settles');
select is((select array_agg(status order by id) from public.outbox where id in (:e1, :e2, :e3)),
          array['succeeded', 'succeeded', 'succeeded'], 'every envelope is settled, whatever its upload did');
select is((select array_agg(artifact_status order by envelope_id) from public.evidence
            where envelope_id in (:e1, :e2, :e3)),
          array['uploaded', 'pending', 'dropped'], 'evidence: uploaded, pending, dropped (store full)');
select is((select content from public.evidence where envelope_id = :e1),
          jsonb_build_object('artifact', pg_temp.art(:e1, 'uploaded') - 'status'),
          'an artifact''s evidence holds its reference, not the output');
select is((select count(*)::int from public.evidence
            where envelope_id in (:e1, :e2, :e3) and content_text is not null), 0,
          'nor any text of it');
select is((select payload -> 'artifact' from public.audit_log where envelope_id = :e1),
          '{"bucket": "evidence-artifacts", "path": "15000000-0000-0000-0000-000000000001/15000000-0001-0000-0000-000000000001/output.json", "size": 11, "status": "uploaded"}'::jsonb,
          'the audit row names the bucket and the path');
select is((select payload -> 'artifact' ->> 'reason' from public.audit_log where envelope_id = :e3),
          'the pending artifact store is full', 'a dropped artifact''s audit row says why');
select is((select convert_from(content, 'UTF8') || '/' || size from internal.artifact_pending),
          '"hello big"/11', 'the pending bytes wait in internal.artifact_pending');

-- --- the later pass: claim, upload, settle ------------------------------------------------
create temporary table p1 as
select * from public.artifact_pending_claim(10, 60000, '15000000-0000-0000-0000-000000000001');
select is((select name from p1),
          '15000000-0000-0000-0000-000000000001/15000000-0001-0000-0000-000000000002/output.json',
          'a drain claims the pending artifact, bytes and all');
select is((select count(*)::int from public.artifact_pending_claim(10, 60000)), 0,
          'a second drain does not get it while the lease lasts');
select is((select array_agg(uploaded) from public.artifact_pending_settle(jsonb_build_array(
             jsonb_build_object('evidence_id', (select evidence_id from p1), 'ok', false,
                                'error', 'storage unreachable', 'delay_ms', 0)))),
          array[false], 'a failed upload is recorded');
select is((select attempts || '/' || last_error from internal.artifact_pending),
          '1/storage unreachable', '… the bytes stay, with the attempt and its error');
select is((select array_agg(uploaded) from public.artifact_pending_settle(jsonb_build_array(
             jsonb_build_object('evidence_id', (select evidence_id
                                                   from public.artifact_pending_claim(10, 60000)),
                                'ok', true)))),
          array[true], 'the next pass uploads it');
select is((select count(*)::int from internal.artifact_pending), 0, '… the bytes leave the store');
select is((select artifact_status from public.evidence where envelope_id = :e2), 'uploaded',
          '… the evidence row says uploaded');
select is((select array_agg(category order by id) from public.audit_log where envelope_id = :e2),
          array['outbox_succeeded', 'artifact_uploaded'],
          '… and one audit row records the upload');
select is((select payload -> 'artifact' ->> 'path' from public.audit_log
            where envelope_id = :e2 and category = 'artifact_uploaded'),
          '15000000-0000-0000-0000-000000000001/15000000-0001-0000-0000-000000000002/output.json',
          '… naming the path');

select * from finish();
rollback;
