-- Catalog jobs, SQL side (20261123160000_catalog_jobs): the set-based upsert (unchanged
-- tools are not written: their row versions stay), deprecation and restoring, new versions,
-- due marks, the trickle schedule and its bucket-bounded enqueue, the drift record with its
-- audit row and webhook, and the warm-scan trigger. Everything is rolled back.
begin;
select plan(61);

insert into public.tenants (id, name) values
  ('40000000-0000-0000-0000-0000000000c1', 'catalog test tenant');

create temporary table batch (n int, tools jsonb);
-- Batch 1: three tools. Batch 2: the same, nothing changed but key order and tag order.
insert into batch values
  (1, '[
    {"tool_slug": "KIT_LIST_A", "toolkit": "kit", "display_name": "List A", "description": "d",
     "version": "v1", "input_schema": {"type": "object", "properties": {}}, "output_schema": {},
     "required_scopes": ["a:read"], "tags": ["readOnlyHint"], "risk": "low", "read_only": true,
     "content_hash": "h-a1", "synced_version": "v1"},
    {"tool_slug": "KIT_CREATE_B", "toolkit": "kit", "display_name": "Create B", "description": "d",
     "version": "v1", "input_schema": {"type": "object", "properties": {"x": {"type": "string"}}, "required": ["x"]},
     "output_schema": {}, "required_scopes": [], "tags": [], "risk": "medium", "read_only": false,
     "content_hash": "h-b1", "synced_version": "v1"},
    {"tool_slug": "KIT_DELETE_C", "toolkit": "kit", "display_name": "Delete C", "description": "d",
     "version": "v1", "input_schema": {}, "output_schema": {}, "required_scopes": [],
     "tags": ["destructiveHint"], "risk": "high", "read_only": false,
     "content_hash": "h-c1", "synced_version": "v1"}
  ]');

select is((select row(added, changed, unchanged, restored)::text
             from internal.catalog_upsert('40000000-0000-0000-0000-0000000000c1', 'kit',
                                          (select tools from batch where n = 1))),
          '(3,0,0,0)', 'first sync: three tools added');
select is((select count(*)::int from public.tool_catalog
            where tenant_id = '40000000-0000-0000-0000-0000000000c1' and is_current),
          3, 'three current rows');
select is((select array_agg(risk || '/' || read_only order by tool_slug) from public.tool_catalog
            where tenant_id = '40000000-0000-0000-0000-0000000000c1'),
          '{medium/false,high/false,low/true}', 'risk and read_only stored as sent');

create temporary table versions as
select id, xmin::text as row_xmin, ctid::text as row_ctid from public.tool_catalog
 where tenant_id = '40000000-0000-0000-0000-0000000000c1';

select is((select row(added, changed, unchanged, restored)::text
             from internal.catalog_upsert('40000000-0000-0000-0000-0000000000c1', 'kit',
                                          (select tools from batch where n = 1))),
          '(0,0,3,0)', 'no-change resync: three unchanged');
select is((select count(*)::int from public.tool_catalog t join versions v using (id)
            where t.xmin::text = v.row_xmin and t.ctid::text = v.row_ctid),
          3, 'no-change resync wrote no row (xmin and ctid unchanged)');

-- Same version, new content: updated in place.
select is((select row(added, changed, unchanged, restored)::text
             from internal.catalog_upsert('40000000-0000-0000-0000-0000000000c1', 'kit',
               jsonb_set((select tools from batch where n = 1), '{1,content_hash}', '"h-b2"')
               #- '{1,input_schema,required}')),
          '(0,1,2,0)', 'a changed tool of the same version is counted changed');
select is((select row(content_hash, input_schema ? 'required', version)::text
             from public.tool_catalog
            where tenant_id = '40000000-0000-0000-0000-0000000000c1' and tool_slug = 'KIT_CREATE_B'),
          '(h-b2,f,v1)', 'updated in place');
select is((select count(*)::int from public.tool_catalog t join versions v using (id)
            where t.xmin::text = v.row_xmin and t.ctid::text = v.row_ctid),
          2, 'only the changed row was written');

-- Vanished: deprecated, not deleted; then back: restored.
select is(internal.catalog_deprecate_missing('40000000-0000-0000-0000-0000000000c1', 'kit',
                                             array['KIT_LIST_A', 'KIT_CREATE_B']),
          1, 'one vanished tool deprecated');
select isnt((select deprecated_at from public.tool_catalog
              where tenant_id = '40000000-0000-0000-0000-0000000000c1' and tool_slug = 'KIT_DELETE_C'),
            null, 'the vanished tool is kept with deprecated_at');
select is(internal.catalog_deprecate_missing('40000000-0000-0000-0000-0000000000c1', 'kit',
                                             array['KIT_LIST_A', 'KIT_CREATE_B']),
          0, 'deprecating again changes nothing');
select is((select row(added, changed, unchanged, restored)::text
             from internal.catalog_upsert('40000000-0000-0000-0000-0000000000c1', 'kit',
               jsonb_set((select tools from batch where n = 1), '{1,content_hash}', '"h-b2"')
               #- '{1,input_schema,required}')),
          '(0,0,2,1)', 'a returning tool is restored');
select is((select deprecated_at from public.tool_catalog
            where tenant_id = '40000000-0000-0000-0000-0000000000c1' and tool_slug = 'KIT_DELETE_C'),
          null, 'restored: deprecated_at cleared');

-- A new toolkit version: new current rows, the old ones kept.
select is((select row(added, changed, unchanged, restored)::text
             from internal.catalog_upsert('40000000-0000-0000-0000-0000000000c1', 'kit',
               (select jsonb_agg(t || jsonb_build_object('version', 'v2', 'content_hash',
                                                         (t ->> 'content_hash') || '-v2'))
                  from jsonb_array_elements((select tools from batch where n = 1)) t))),
          '(0,3,0,0)', 'a new version: three changed');
select is((select array_agg(version || ':' || is_current order by version, tool_slug)
             from public.tool_catalog
            where tenant_id = '40000000-0000-0000-0000-0000000000c1'),
          '{v1:false,v1:false,v1:false,v2:true,v2:true,v2:true}',
          'old versions kept, not current; new versions current');
select throws_ok($$select * from internal.catalog_upsert('40000000-0000-0000-0000-0000000000c1',
                   'other', (select tools from batch where n = 1))$$,
                 '22023', null, 'a batch of another toolkit is refused');
select throws_ok($$select * from internal.catalog_upsert('40000000-0000-0000-0000-0000000000c1',
                   'kit', (select tools || tools from batch where n = 1))$$,
                 '22023', 'a slug appears twice in the batch', 'a slug twice in a batch is refused');
select is((select array_agg(s order by s) from internal.catalog_changed_slugs(
             '40000000-0000-0000-0000-0000000000c1',
             array['KIT_LIST_A', 'KIT_CREATE_B', 'KIT_NEW'],
             array['h-a1-v2', 'other', 'h-new']) s),
          '{KIT_CREATE_B,KIT_NEW}', 'changed_slugs: another hash or a new tool, not an equal one');

-- Due marks.
select cmp_ok(internal.catalog_mark_due(null), '>=', 3, 'every tenant marked due');
select is(internal.catalog_clear_due('40000000-0000-0000-0000-0000000000c1', now() - interval '1 hour'),
          false, 'a sync that started before the mark does not clear it');
select isnt(internal.catalog_defer_due('40000000-0000-0000-0000-0000000000c1', 'boom'), null,
            'a failed sync is deferred');
select is((select row(attempts, last_error, due_at > now())::text from internal.catalog_sync_due
            where tenant_id = '40000000-0000-0000-0000-0000000000c1'),
          '(1,boom,t)', 'deferred: attempts, error, later due_at');
select is(internal.catalog_clear_due('40000000-0000-0000-0000-0000000000c1', now() + interval '1 day'),
          true, 'a later successful sync clears the mark');

-- Trickle window: stable, 30–60 minutes, contains the instant.
select ok((select bool_and(w.interval_seconds between 1800 and 3600
                           and w.window_start <= t
                           and w.window_start > t - make_interval(secs => w.interval_seconds))
             from generate_series(now(), now() + interval '3 hours', interval '7 minutes') t,
                  internal.trickle_window('40000000-0000-0000-0000-0000000000c1', 'kit', t) w),
          'windows are 30–60 min long and contain their instant');
select is((select count(distinct (w.interval_seconds, w.phase_seconds))::int
             from generate_series(1, 5) g,
                  internal.trickle_window('40000000-0000-0000-0000-0000000000c1', 'kit', now()) w),
          1, 'the jitter is stable per pair');
select cmp_ok((select count(distinct w.phase_seconds)::int from public.tenants t,
                 unnest(array['github', 'gmail', 'slack', 'kit']) k,
                 internal.trickle_window(t.id, k, now()) w),
              '>', 1, 'pairs get different phases');

-- Trickle: schedule, claim, enqueue within the bucket.
insert into public.connected_accounts (tenant_id, toolkit, external_account_id, status)
values ('40000000-0000-0000-0000-0000000000c1', 'kit', 'ca_kit', 'active');
select is(internal.trickle_schedule_add('40000000-0000-0000-0000-0000000000c1', 'kit'), true,
          'pair scheduled');
select is(internal.trickle_schedule_add('40000000-0000-0000-0000-0000000000c1', 'kit'), false,
          'scheduling again is a no-op');
select is((select count(*)::int from internal.trickle_claim_due(10, '40000000-0000-0000-0000-0000000000c1')),
          0, 'not due before its next window');
update internal.trickle_schedule set next_due_at = now() - interval '1 minute'
 where tenant_id = '40000000-0000-0000-0000-0000000000c1';
create temporary table claimed as
select * from internal.trickle_claim_due(10, '40000000-0000-0000-0000-0000000000c1');
select is((select count(*)::int from claimed), 1, 'a due pair is claimed');
select is((select count(*)::int from internal.trickle_claim_due(10, '40000000-0000-0000-0000-0000000000c1')),
          0, 'and not claimed twice in its window');

-- 25 read-only tools without required arguments, one with; bucket of 10 tokens, no refill.
insert into public.tool_catalog (tenant_id, tool_slug, toolkit, version, input_schema, risk,
                                 read_only, content_hash)
select '40000000-0000-0000-0000-0000000000c1', format('KIT_LIST_%s', lpad(g::text, 2, '0')), 'kit',
       'v2', case when g = 26 then '{"required": ["x"]}'::jsonb else '{}'::jsonb end, 'low', true, 'h'
  from generate_series(1, 26) g;
insert into public.rate_buckets (tenant_id, toolkit, capacity, tokens, refill_per_second)
values ('40000000-0000-0000-0000-0000000000c1', 'kit', 10, 10, 0);
select is((select row(eligible, granted, enqueued)::text
             from internal.trickle_enqueue('40000000-0000-0000-0000-0000000000c1', 'kit',
                                           (select window_start from claimed), 100)),
          '(26,10,10)', 'KIT_LIST_A and 25 generated tools eligible; 10 granted and enqueued');
select is((select row(eligible, granted, enqueued)::text
             from internal.trickle_enqueue('40000000-0000-0000-0000-0000000000c1', 'kit',
                                           (select window_start from claimed), 100)),
          '(16,0,0)', 'an empty bucket enqueues nothing more');
select is((select count(*)::int from public.outbox
            where tenant_id = '40000000-0000-0000-0000-0000000000c1'
              and external_id like 'trickle:kit:%' and read_only and connected_account_id = 'ca_kit'),
          10, 'ten read-only envelopes with the account and trickle external ids');

-- Drift record: snapshot, audit row, webhook for breaking drift only, queued as a
-- webhook_deliveries row in the same transaction (never through pg_net, which cannot check
-- where the name resolves before it connects).
update public.guardrails set drift_webhook_url = 'https://hooks.example.com/drift'
 where tenant_id = '40000000-0000-0000-0000-0000000000c1';
create temporary table drift1 as select internal.catalog_drift_record('40000000-0000-0000-0000-0000000000c1', null,
                                     '{"counts": {"added": 1}}', 0, 1);
select is((select count(*)::int from public.webhook_deliveries
            where tenant_id = '40000000-0000-0000-0000-0000000000c1'),
          0, 'no webhook queued for non-breaking drift');
create temporary table drift2 as select internal.catalog_drift_record('40000000-0000-0000-0000-0000000000c1', 7,
                                     '{"counts": {"removed": 1}, "breaking_tools": ["KIT_X"]}', 1, 0) as id;
select is((select array_agg(breaking_count || '/' || non_breaking_count order by id)
             from public.catalog_audit where tenant_id = '40000000-0000-0000-0000-0000000000c1'),
          '{0/1,1/0}', 'one snapshot per call');
select is((select count(*)::int from public.audit_log
            where tenant_id = '40000000-0000-0000-0000-0000000000c1' and category = 'catalog_drift'),
          2, 'an audit_log row per snapshot');
select is((select row(event, url, status, attempts, catalog_audit_id = (select id from drift2))::text
             from public.webhook_deliveries
            where tenant_id = '40000000-0000-0000-0000-0000000000c1'),
          '(catalog_drift.breaking,https://hooks.example.com/drift,pending,0,t)',
          'breaking drift queues one pending delivery of the snapshot');
select is((select body from public.webhook_deliveries
            where tenant_id = '40000000-0000-0000-0000-0000000000c1'),
          jsonb_build_object('event', 'catalog_drift.breaking',
                             'tenant_id', '40000000-0000-0000-0000-0000000000c1',
                             'catalog_audit_id', (select id from drift2), 'run_id', 7,
                             'breaking_count', 1, 'non_breaking_count', 0,
                             'breaking_tools', '["KIT_X"]'::jsonb),
          'its body is the webhook JSON (event, tenant, snapshot, run, counts, breaking tools)');
select is((select count(*)::int from net.http_request_queue where url = 'https://hooks.example.com/drift'),
          0, 'nothing is queued through pg_net');

-- Delivery bookkeeping: claim (counts the attempt, leases the row), record the outcome.
create temporary table claimed_hook as
select * from internal.webhook_claim_due('40000000-0000-0000-0000-0000000000c1', 10, 60);
select is((select row(attempts, body::jsonb ->> 'event')::text from claimed_hook),
          '(1,catalog_drift.breaking)', 'a due delivery is claimed as attempt 1');
select is((select count(*)::int from internal.webhook_claim_due(null, 10, 60)), 0,
          'and not claimed again while its lease runs');
select is(internal.webhook_record_attempt((select id from claimed_hook), 'retry', 503,
                                          'hooks.example.com answered 503', '93.184.215.14', 12),
          'pending', 'a retryable failure stays pending');
select ok((select next_attempt_at between now() + interval '59 seconds' and now() + interval '61 seconds'
             from public.webhook_deliveries where id = (select id from claimed_hook)),
          'due again a minute later');
update public.webhook_deliveries set next_attempt_at = now() - interval '1 second',
                                     attempts = max_attempts - 1
 where id = (select id from claimed_hook);
select is((select attempts from internal.webhook_claim_due('40000000-0000-0000-0000-0000000000c1', 10, 60)),
          5, 'the last attempt is claimed');
select is(internal.webhook_record_attempt((select id from claimed_hook), 'retry', null,
                                          'connecting to 93.184.215.14:443 failed', '93.184.215.14', 10),
          'failed', 'a retryable failure at max_attempts fails for good');
select is((select row(last_error, jsonb_array_length(attempt_log), attempt_log -> 0 ->> 'outcome',
                      finished_at is not null)::text
             from public.webhook_deliveries where id = (select id from claimed_hook)),
          '("connecting to 93.184.215.14:443 failed",2,retry,t)',
          'every attempt is logged, the last error kept');
select is(internal.webhook_record_attempt((select id from claimed_hook), 'delivered', 200, null,
                                          null, 1),
          null, 'a finished delivery is not recorded again');
select throws_ok($$select internal.webhook_record_attempt(1, 'sent', 200, null, null, 1)$$,
                 '22023', null, 'an unknown outcome is refused');

-- Warm scan: an account that becomes active invokes catalog-sync (queued through pg_net,
-- never sent: this transaction rolls back). Inserted already active: no warm scan.
-- The test runner pauses every job; a paused catalog-sync gets no warm scan (below).
select jobs.resume('catalog-sync');
select is((select count(*)::int from net.http_request_queue
            where url like '%/functions/v1/catalog-sync'),
          0, 'an account inserted active invokes nothing');
insert into public.connected_accounts (id, tenant_id, toolkit, status)
values ('40000000-0009-0000-0000-000000000001', '40000000-0000-0000-0000-0000000000c1', 'warmkit',
        'initiated');
update public.connected_accounts set status = 'active'
 where id = '40000000-0009-0000-0000-000000000001';
select is((select convert_from(body, 'UTF8')::jsonb from net.http_request_queue
            where url like '%/functions/v1/catalog-sync'),
          '{"warm": true, "toolkit": "warmkit", "tenant_id": "40000000-0000-0000-0000-0000000000c1"}'::jsonb,
          'becoming active invokes catalog-sync with warm: true for the toolkit');
update public.connected_accounts set scopes = '{x}'
 where id = '40000000-0009-0000-0000-000000000001';
update public.connected_accounts set status = 'active'
 where id = '40000000-0009-0000-0000-000000000001';
select is((select count(*)::int from net.http_request_queue
            where url like '%/functions/v1/catalog-sync'),
          1, 'staying active invokes nothing more');

-- Ten inactive → active flips of one account: one warm scan in the interval, not ten.
insert into public.connected_accounts (id, tenant_id, toolkit, status)
values ('40000000-0009-0000-0000-000000000002', '40000000-0000-0000-0000-0000000000c1', 'flipkit',
        'initiated');
do $$
begin
  for i in 1 .. 10 loop
    update public.connected_accounts set status = 'active'
     where id = '40000000-0009-0000-0000-000000000002';
    update public.connected_accounts set status = 'inactive'
     where id = '40000000-0009-0000-0000-000000000002';
  end loop;
end
$$;
select is((select count(*)::int from net.http_request_queue
            where url like '%/functions/v1/catalog-sync'
              and convert_from(body, 'UTF8')::jsonb ->> 'toolkit' = 'flipkit'),
          1, 'ten flips of one account invoke one warm scan');
update internal.catalog_warm_scans set invoked_at = now() - internal.catalog_warm_scan_interval()
 where toolkit = 'flipkit';
update public.connected_accounts set status = 'active'
 where id = '40000000-0009-0000-0000-000000000002';
select is((select count(*)::int from net.http_request_queue
            where url like '%/functions/v1/catalog-sync'
              and convert_from(body, 'UTF8')::jsonb ->> 'toolkit' = 'flipkit'),
          2, 'after the interval, the next activation scans again');

-- Paused: no invocation, the tenant is marked due for the first run after resume.
select jobs.pause('catalog-sync');
delete from internal.catalog_sync_due where tenant_id = '40000000-0000-0000-0000-0000000000c1';
insert into public.connected_accounts (id, tenant_id, toolkit, status)
values ('40000000-0009-0000-0000-000000000003', '40000000-0000-0000-0000-0000000000c1', 'pausedkit',
        'initiated');
update public.connected_accounts set status = 'active'
 where id = '40000000-0009-0000-0000-000000000003';
select is((select count(*)::int from net.http_request_queue
            where url like '%/functions/v1/catalog-sync'
              and convert_from(body, 'UTF8')::jsonb ->> 'toolkit' = 'pausedkit'),
          0, 'a paused catalog-sync gets no warm scan');
select ok(exists (select 1 from internal.catalog_sync_due
                   where tenant_id = '40000000-0000-0000-0000-0000000000c1' and due_at <= now()),
          'its tenant is marked due instead');
select jobs.resume('catalog-sync');

-- Toolkit slugs are checked on write: what reaches a job is always a slug.
select throws_ok($$insert into public.connected_accounts (tenant_id, toolkit)
                   values ('40000000-0000-0000-0000-0000000000c1', 'not a slug; drop')$$,
                 '23514', null, 'a toolkit that is no slug is refused');
select throws_ok($$insert into public.connected_accounts (tenant_id, toolkit)
                   values ('40000000-0000-0000-0000-0000000000c1', 'GitHub')$$,
                 '23514', null, 'so is one in upper case');

-- Never synced: due at once (20261203090000_catalog_due_when_never_synced).
insert into public.tenants (id, name) values
  ('40000000-0000-0000-0000-0000000000c2', 'never synced');
select ok(exists (select 1 from internal.catalog_sync_due
                   where tenant_id = '40000000-0000-0000-0000-0000000000c2' and due_at <= now()),
          'a new tenant is due for catalog-sync at once');
delete from internal.catalog_sync_due where tenant_id = '40000000-0000-0000-0000-0000000000c2';
insert into public.connected_accounts (tenant_id, toolkit, status)
values ('40000000-0000-0000-0000-0000000000c2', 'kit', 'initiated');
select ok(not exists (select 1 from internal.catalog_sync_due
                       where tenant_id = '40000000-0000-0000-0000-0000000000c2'),
          'an account that is not active yet marks nothing (the warm scan covers it later)');
insert into public.connected_accounts (tenant_id, toolkit, status)
values ('40000000-0000-0000-0000-0000000000c2', 'imported', 'active');
select ok(exists (select 1 from internal.catalog_sync_due
                   where tenant_id = '40000000-0000-0000-0000-0000000000c2' and due_at <= now()),
          'an account that arrives active (an import) marks its tenant due at once');

select * from finish();
rollback;
