-- Embeddings: the queue the triggers feed, its claim / complete / fail functions, the
-- per-model HNSW indexes, the search functions' settings, schedules, and tenant isolation
-- of search where the other tenant's rows are nearer. Everything is rolled back.
begin;
select plan(30);

\set ta '''e5000000-0000-0000-0000-00000000000a'''
\set tb '''e5000000-0000-0000-0000-00000000000b'''
insert into public.tenants (id, name) values (:ta, 'embed A'), (:tb, 'embed B');

-- --- triggers ----------------------------------------------------------------------------
insert into public.evidence (id, tenant_id, content, content_text) values
  ('e5000000-0006-0000-0000-000000000001', :ta, '{}', 'first'),
  ('e5000000-0006-0000-0000-000000000002', :ta, '{}', 'second');
select is((select count(*)::int from internal.embedding_queue where tenant_id = :ta and source_type = 'evidence'),
          2, 'inserting evidence enqueues each row (one statement, two rows)');

update public.evidence set envelope_id = null where tenant_id = :ta;
select is((select array_agg(generation order by source_id) from internal.embedding_queue
            where tenant_id = :ta and source_type = 'evidence'),
          array[1, 1]::bigint[], 'an update that leaves the text alone does not re-enqueue');
update public.evidence set content_text = 'first, edited' where id = 'e5000000-0006-0000-0000-000000000001';
select is((select array_agg(generation order by source_id) from internal.embedding_queue
            where tenant_id = :ta and source_type = 'evidence'),
          array[2, 1]::bigint[], 'a changed content_text bumps the generation of that source only');

insert into public.approvals (id, tenant_id, decision, proposal_summary) values
  ('e5000000-0003-0000-0000-000000000001', :ta, 'approved', 'Archive old tickets'),
  ('e5000000-0003-0000-0000-000000000002', :ta, 'rejected', null);
select is((select array_agg(source_id) from internal.embedding_queue where source_type = 'approval' and tenant_id = :ta),
          array['e5000000-0003-0000-0000-000000000001'], 'approvals are enqueued when they carry a proposal summary');
update public.approvals set proposal_summary = 'Now with a summary' where id = 'e5000000-0003-0000-0000-000000000002';
select is((select count(*)::int from internal.embedding_queue where source_type = 'approval' and tenant_id = :ta),
          2, '… and when the summary changes');

insert into public.audit_log (tenant_id, actor_type, category, payload) values (:ta, 'job', 'embed_test', '{"n": 1}');
insert into public.audit_log (tenant_id, actor_type, category) values (null, 'system', 'embed_test');
select is((select count(*)::int from internal.embedding_queue q
            where q.source_type = 'audit'
              and q.source_id in (select id::text from public.audit_log where category = 'embed_test')),
          1, 'audit entries of a tenant are enqueued, system-wide ones are not');
select ok(exists (select 1 from pg_trigger t where t.tgrelid = 'public.audit_log'::regclass
                    and t.tgname = 'audit_log_embedding_enqueue'
                    and t.tgtype = 4),   -- AFTER (no BEFORE bit), FOR EACH STATEMENT, INSERT only
          'the audit_log trigger is AFTER INSERT FOR EACH STATEMENT (it never modifies audit rows)');

-- --- claim, complete, fail ---------------------------------------------------------------
delete from internal.embedding_queue where tenant_id = :ta and source_type <> 'evidence';
select is((select count(*)::int from internal.embedding_queue_claim('run-1', 10, 60000, :ta)),
          2, 'a claim takes the due rows of the tenant');
select is((select count(*)::int from internal.embedding_queue_claim('run-2', 10, 60000, :ta)),
          0, 'claimed rows are not due for another claim while leased');
select is((select array_agg(claimed_by order by source_id) from internal.embedding_queue where tenant_id = :ta),
          array['run-1', 'run-1'], 'the claim records its holder');

-- A change while claimed: new generation, still leased to its worker.
update public.evidence set content_text = 'first, edited again' where id = 'e5000000-0006-0000-0000-000000000001';
select ok((select generation = 3 and next_attempt_at > now() from internal.embedding_queue
            where source_id = 'e5000000-0006-0000-0000-000000000001'),
          're-enqueueing a claimed row bumps its generation and leaves the lease alone');
select is(internal.embedding_queue_complete('run-1',
            '[{"source_type":"evidence","source_id":"e5000000-0006-0000-0000-000000000001","generation":2},
              {"source_type":"evidence","source_id":"e5000000-0006-0000-0000-000000000002","generation":1}]'),
          1, 'completion deletes only rows still at the claimed generation');
select ok((select claimed_by is null and next_attempt_at <= now() from internal.embedding_queue
            where source_id = 'e5000000-0006-0000-0000-000000000001'),
          'the row changed meanwhile is released and due now');
select is(internal.embedding_queue_complete('run-9',
            '[{"source_type":"evidence","source_id":"e5000000-0006-0000-0000-000000000001","generation":3}]'),
          0, 'a run that does not hold a row cannot complete it');

select is((select count(*)::int from internal.embedding_queue_claim('run-3', 10, 60000, :ta)), 1, 'claimed again');
select is(internal.embedding_queue_fail('run-3',
            '[{"source_type":"evidence","source_id":"e5000000-0006-0000-0000-000000000001","delay_ms":90000}]',
            'provider down'),
          1, 'a failure is recorded on the held row');
select ok((select attempts = 1 and last_error = 'provider down' and claimed_by is null
                  and next_attempt_at = now() + interval '90 seconds'
             from internal.embedding_queue where source_id = 'e5000000-0006-0000-0000-000000000001'),
          'a failed row stays queued with its error, one more attempt and its backoff');

-- --- store and stale -----------------------------------------------------------------------
select is(internal.embeddings_store('hash-test-v1',
  format('[{"tenant_id":%s,"source_type":"evidence","source_id":"e5000000-0006-0000-0000-000000000002","chunk":0,"content_hash":"h0","content":"second","embedding":"[%s]","metadata":{}},
           {"tenant_id":%s,"source_type":"evidence","source_id":"e5000000-0006-0000-0000-000000000002","chunk":1,"content_hash":"h1","content":"second b","embedding":"[%s]","metadata":{}}]',
         to_json(:ta::text), array_to_string(array_fill(0.05, array[384]), ','),
         to_json(:ta::text), array_to_string(array_fill(0.05, array[384]), ','))::jsonb,
  '[]'), 2, 'store upserts chunks');
select is(internal.embeddings_store('hash-test-v1', '[]',
  '[{"source_type":"evidence","source_id":"e5000000-0006-0000-0000-000000000002","chunks":1}]'), 0, 'store with a shorter chunk count …');
select is((select array_agg(chunk) from public.evidence_embeddings where source_id = 'e5000000-0006-0000-0000-000000000002'),
          array[0], '… deletes the chunks beyond it');
select is((select source_created_at from public.evidence_embeddings where source_id = 'e5000000-0006-0000-0000-000000000002'),
          now(), 'source_created_at defaults to now when not given');
delete from public.evidence where id = 'e5000000-0006-0000-0000-000000000002';
select is((select count(*)::int from public.evidence_embeddings where source_id = 'e5000000-0006-0000-0000-000000000002'),
          0, 'deleting evidence deletes its embeddings');

-- --- indexes, search settings, schedules ------------------------------------------------
select is(
  array(select substring(indexdef from 'WHERE \(model = ''([^'']+)''') from pg_indexes
         where tablename = 'evidence_embeddings' and indexdef ~ 'USING hnsw' order by 1),
  array['gte-small', 'hash-test-v1', 'text-embedding-3-small-384', 'use-lite-512-proj384-v1'],
  'one partial HNSW index per model');
select is(
  (select array_agg(p.proname::text || ':' || (not p.prosecdef)::text || ':' ||
                    array_to_string(p.proconfig, ',') order by p.proname)
     from pg_proc p where p.pronamespace = 'public'::regnamespace and p.proname like 'search_evidence%'),
  array['search_evidence:true:search_path="",hnsw.ef_search=100,hnsw.iterative_scan=relaxed_order,jit=off',
        'search_evidence_hybrid:true:search_path="",hnsw.ef_search=100,hnsw.iterative_scan=relaxed_order,jit=off'],
  'the search functions are SECURITY INVOKER with ef_search, iterative_scan (and jit off) in their SET clause');
select is((select array_agg(job_name || ' ' || cron order by job_name) from jobs.schedules where slug = 'embedding-reindexer'),
          array['embedding-reindexer * * * * *', 'embedding-reindexer-nightly 17 3 * * *'],
          'the queue tick (every minute) and the nightly refresh are scheduled');
select is((select count(*)::int from cron.job where jobname like 'embedding-reindexer%'), 2, '… in pg_cron');

-- --- tenant isolation with nearer rows of another tenant ---------------------------------
-- B: 300 rows close to the query e1; A: a cluster of 20 rows further away (e1 + e2), each
-- with random noise (equidistant synthetic points would make a degenerate HNSW graph).
select setseed(0.42);
insert into public.evidence_embeddings (tenant_id, source_type, source_id, model, content_hash, content, embedding)
select case when g <= 300 then :tb else :ta end::uuid, 'evidence', 'iso-' || g, 'hash-test-v1', 'h', 'row ' || g,
       extensions.l2_normalize((select ('[' || string_agg(
         ((case when d = 1 then 1 when d = 2 and g > 300 then 1 else 0 end)
          + (random() - 0.5) * 0.1 + 0 * g)::text, ',' order by d) || ']')
          from generate_series(1, 384) d)::extensions.vector)
from generate_series(1, 320) g;

-- A member of A (policies check the membership at query time, not just the token).
insert into auth.users (id, aud, role, email)
values ('e5000000-00aa-0000-0000-000000000001', 'authenticated', 'authenticated', 'embed-a@example.com');
insert into public.tenant_members (tenant_id, user_id, role)
values (:ta, 'e5000000-00aa-0000-0000-000000000001', 'member');
set local role authenticated;
select set_config('request.jwt.claims', json_build_object('sub', 'e5000000-00aa-0000-0000-000000000001', 'role', 'authenticated',
                  'tenant_id', :ta::text, 'tenant_role', 'member')::text, true);
set local enable_seqscan = off;
set local enable_sort = off;
select is((select count(*)::int from (
             select 1 from public.evidence_embeddings e
              where e.model = 'hash-test-v1' and e.source_id like 'iso-%'
              order by e.embedding operator(extensions.<#>) (select ('[1' || repeat(',0', 383) || ']')::extensions.vector) limit 10) s),
          0, 'control: a plain HNSW scan (no iterative scan) finds none of A''s rows behind B''s');
select is((select count(*)::int from public.search_evidence((select ('[1' || repeat(',0', 383) || ']')::extensions.vector), 'hash-test-v1', 10)
            where source_id like 'iso-%'),
          10, 'search_evidence returns k rows of the caller''s tenant even when another tenant''s are nearer');
select is((select count(*)::int from public.search_evidence_hybrid('row', (select ('[1' || repeat(',0', 383) || ']')::extensions.vector), 'hash-test-v1', 10)
            where source_id like 'iso-%' and substr(source_id, 5)::int > 300),
          10, 'hybrid search returns k rows of the caller''s tenant, none of the other''s');
select throws_ok($$ select public.search_evidence(null, 'hash-test-v1', 0) $$, '22023', null,
                 'k outside 1..200 is refused');
reset role;

select * from finish();
rollback;
