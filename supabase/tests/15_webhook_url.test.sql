-- The webhook URL an owner may store (the SSRF finding in docs/security.md): the guardrails
-- check refuses every class of URL that would make the server call into its own network,
-- names the problem in the error (PostgREST answers 400 with it), and accepts public https
-- URLs. Callers as PostgREST makes them: set local role and request.jwt.claims. Everything
-- is rolled back.
begin;
select plan(48);

create function pg_temp.as_owner_of_a() returns void
language plpgsql as $$
begin
  perform set_config('role', 'authenticated', true);
  perform set_config('request.jwt.claims', jsonb_build_object(
    'sub', '00000000-0000-0000-0000-0000000000a1', 'role', 'authenticated',
    'aud', 'authenticated', 'tenant_id', '00000000-0000-0000-0000-00000000000a',
    'tenant_role', 'owner')::text, true);
end
$$;

create function pg_temp.set_url(p_url text) returns void
language plpgsql as $$
begin
  update public.guardrails set drift_webhook_url = p_url
   where tenant_id = '00000000-0000-0000-0000-00000000000a';
end
$$;

-- Refused: URL, the problem the error names, the class of URL.
create temporary table refused (url text, problem text, what text);
insert into refused values
  ('http://hooks.example.com/drift', 'must use https', 'plain http'),
  ('ftp://hooks.example.com/drift', 'must be an https:// URL', 'another scheme'),
  ('hooks.example.com/drift', 'must be an https:// URL', 'no scheme'),
  ('https://user:secret@hooks.example.com/drift',
   'must not carry credentials (user:password@)', 'credentials'),
  ('https://hooks.example.com@127.0.0.1/', 'must not carry credentials (user:password@)',
   'user info hiding the real host'),
  ('https://hooks.example.com\@127.0.0.1/', 'contains a backslash', 'backslash'),
  ('https://hooks.example.com/a b', 'contains whitespace, control or non-ASCII characters',
   'whitespace'),
  ('https://hööks.example.com/', 'contains whitespace, control or non-ASCII characters',
   'non-ASCII host'),
  ('https://hooks.example.com:0/', 'has a malformed port', 'port 0'),
  ('https://hooks.example.com:65536/', 'has a malformed port', 'port above 65535'),
  ('https:///drift', 'has no host', 'empty host'),
  ('https://hooks.example.com./', 'has a malformed host', 'trailing dot'),
  ('https://hooks_x.example.com/', 'has a malformed host', 'underscore'),
  ('https://127.0.0.1:54330/_sandbox/reset',
   'names host 127.0.0.1, which is not a public address (loopback, 127.0.0.0/8)',
   'loopback IPv4 (the sandbox''s reset route)'),
  ('https://127.8.9.10/', 'names host 127.8.9.10, which is not a public address (loopback, 127.0.0.0/8)',
   'loopback, not 127.0.0.1'),
  ('https://169.254.169.254/latest/meta-data/',
   'names host 169.254.169.254, which is not a public address (link-local, 169.254.0.0/16)',
   'cloud metadata (link-local)'),
  ('https://10.1.2.3/', 'names host 10.1.2.3, which is not a public address (private, 10.0.0.0/8)',
   'RFC 1918 10/8'),
  ('https://172.16.0.1/', 'names host 172.16.0.1, which is not a public address (private, 172.16.0.0/12)',
   'RFC 1918 172.16/12'),
  ('https://192.168.1.1/', 'names host 192.168.1.1, which is not a public address (private, 192.168.0.0/16)',
   'RFC 1918 192.168/16'),
  ('https://100.64.0.1/', 'names host 100.64.0.1, which is not a public address (shared (CGNAT), 100.64.0.0/10)',
   'CGNAT'),
  ('https://0.0.0.0/', 'names host 0.0.0.0, which is not a public address (this network, 0.0.0.0/8)',
   '0.0.0.0/8'),
  ('https://224.0.0.1/', 'names host 224.0.0.1, which is not a public address (multicast, 224.0.0.0/4)',
   'multicast'),
  ('https://255.255.255.255/',
   'names host 255.255.255.255, which is not a public address (reserved, 240.0.0.0/4)',
   'broadcast / reserved'),
  ('https://2130706433/',
   'names host 2130706433, which is not a canonical IPv4 address (decimal, octal and hex forms are refused)',
   'decimal IPv4'),
  ('https://0x7f.0.0.1/',
   'names host 0x7f.0.0.1, which is not a canonical IPv4 address (decimal, octal and hex forms are refused)',
   'hex IPv4'),
  ('https://0177.0.0.1/',
   'names host 0177.0.0.1, which is not a canonical IPv4 address (decimal, octal and hex forms are refused)',
   'octal IPv4'),
  ('https://127.1/',
   'names host 127.1, which is not a canonical IPv4 address (decimal, octal and hex forms are refused)',
   'short IPv4'),
  ('https://[::1]:8443/', 'names host [::1], which is not a public address (loopback, ::1/128)',
   'IPv6 loopback'),
  ('https://[::]/', 'names host [::], which is not a public address (unspecified, ::/128)',
   'IPv6 unspecified'),
  ('https://[fd12:3456::1]/', 'names host [fd12:3456::1], which is not a public address (unique-local, fc00::/7)',
   'unique-local'),
  ('https://[fe80::1]/', 'names host [fe80::1], which is not a public address (link-local, fe80::/10)',
   'IPv6 link-local'),
  ('https://[::ffff:127.0.0.1]/',
   'names host [::ffff:127.0.0.1], which is not a public address (IPv4-mapped loopback, 127.0.0.0/8)',
   'IPv4-mapped loopback'),
  ('https://[::ffff:a9fe:a9fe]/',
   'names host [::ffff:a9fe:a9fe], which is not a public address (IPv4-mapped link-local, 169.254.0.0/16)',
   'IPv4-mapped metadata, hex form'),
  ('https://[64:ff9b::a00:1]/', 'names host [64:ff9b::a00:1], which is not a public address (NAT64, 64:ff9b::/96)',
   'NAT64'),
  ('https://[ff02::1]/', 'names host [ff02::1], which is not a public address (multicast, ff00::/8)',
   'IPv6 multicast'),
  ('https://[fe80::1%25eth0]/', 'has a malformed host', 'zone id'),
  ('https://::1/', 'has a malformed host (an IPv6 address goes in brackets)', 'unbracketed IPv6'),
  ('https://localhost:8080/', 'names host localhost, a loopback name', 'localhost'),
  ('https://hooks.localhost/', 'names host hooks.localhost, a loopback name', '*.localhost'),
  ('https://metadata/', 'names host metadata, a single-label name (it resolves inside the network)',
   'single-label name'),
  ('https://metadata.google.internal/computeMetadata/v1/',
   'names host metadata.google.internal, in a special-use or internal domain (.internal)',
   '.internal'),
  ('https://printer.local/', 'names host printer.local, in a special-use or internal domain (.local)',
   'mDNS .local');

select throws_ok(
  format($$select pg_temp.as_owner_of_a(); select pg_temp.set_url(%L)$$, r.url), '23514',
  'guardrails.drift_webhook_url ' || r.problem, 'refused: ' || r.what)
  from refused r order by r.what;

select set_config('role', 'none', true);
select throws_ok($$select pg_temp.set_url('https://127.0.0.1/')$$, '23514', null,
                 'the service is refused too: the check is the column''s, not a policy');

select pg_temp.as_owner_of_a();
select lives_ok($$select pg_temp.set_url('https://hooks.example.com/drift?token=abc')$$,
                'a public https URL is accepted');
select lives_ok($$select pg_temp.set_url('https://8.8.8.8:8443/drift')$$,
                'a public IPv4 literal is accepted');
select lives_ok($$select pg_temp.set_url('https://[2606:4700:4700::1111]/drift')$$,
                'a public IPv6 literal is accepted');
select lives_ok($$select pg_temp.set_url(null)$$, 'no webhook (NULL) is accepted');
select set_config('role', 'none', true);

select is((select count(*)::int from refused), 42, 'every refused class above ran');

select * from finish();
rollback;
