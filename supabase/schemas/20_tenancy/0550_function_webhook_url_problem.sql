-- Which URLs the server may POST to (guardrails.drift_webhook_url): https only, no
-- credentials, and a host that is neither an address outside the public unicast space nor a
-- name that can only mean something inside the network. Checked here on every write and
-- again at delivery by supabase/functions/_shared/webhook_url.ts, which applies the same
-- rules with the same messages (tests/webhook_url_parity_test.ts feeds both the same URLs)
-- and then checks every address the name resolves to. Hosts are read the way browsers'
-- URL parsers read them only where that is unambiguous: a host whose last label is a number
-- is an IPv4 address to them (2130706433, 0x7f.1 and 0177.0.0.1 are 127.0.0.1), so any
-- such host but the canonical dotted quad is refused rather than decoded.

-- Why a URL may not be a webhook, as a phrase ("must use https"), or NULL when it may. With
-- p_raise_as, a problem is raised instead (23514, "<p_raise_as> <problem>"): the form the
-- CHECK constraints use, so the error names what is wrong. One function that names nothing
-- in internal: owners (authenticated, no USAGE on internal) run it from the CHECK with
-- EXECUTE alone, and need no SECURITY DEFINER.
create function internal.webhook_url_problem(p_url text, p_raise_as text default null)
returns text
language plpgsql
immutable
set search_path = ''
as $$
declare
  v_problem text;
  v_auth text;
  v_host text;
  v_port text;
  v_ip inet;
  v_labels text[];
  v_domain text;
  v_label text;
  v_net text;
begin
  <<checks>>
  begin
    if p_url is null then
      return null;
    elsif pg_catalog.length(p_url) > 2048 then
      v_problem := 'is longer than 2048 characters';
    elsif p_url ~ '[^\x21-\x7e]' then
      v_problem := 'contains whitespace, control or non-ASCII characters';
    elsif pg_catalog.strpos(p_url, '\') > 0 then
      v_problem := 'contains a backslash';
    elsif pg_catalog.lower(pg_catalog.left(p_url, 7)) = 'http://' then
      v_problem := 'must use https';
    elsif pg_catalog.lower(pg_catalog.left(p_url, 8)) <> 'https://' then
      v_problem := 'must be an https:// URL';
    end if;
    exit checks when v_problem is not null;

    v_auth := pg_catalog.lower(pg_catalog.substring(pg_catalog.substr(p_url, 9), '^[^/?#]*'));
    if pg_catalog.strpos(v_auth, '@') > 0 then
      v_problem := 'must not carry credentials (user:password@)';
    elsif v_auth = '' then
      v_problem := 'has no host';
    elsif pg_catalog.left(v_auth, 1) = '[' then
      v_host := pg_catalog.substring(v_auth, '^\[([^]]*)\]');
      v_port := pg_catalog.substr(v_auth, pg_catalog.length(v_host) + 3);
      if v_host is null then
        v_problem := 'has a malformed host';
      end if;
    elsif v_auth ~ ':.*:' then
      v_problem := 'has a malformed host (an IPv6 address goes in brackets)';
    else
      v_host := pg_catalog.split_part(v_auth, ':', 1);
      v_port := pg_catalog.substr(v_auth, pg_catalog.length(v_host) + 1);
    end if;
    exit checks when v_problem is not null;
    if v_port <> '' and (v_port !~ '^:[1-9][0-9]{0,4}$'
                         or pg_catalog.substr(v_port, 2)::int > 65535) then
      v_problem := 'has a malformed port';
      exit checks;
    end if;

    if pg_catalog.left(v_auth, 1) = '[' then
      -- Hex digits, colons and an embedded dotted quad only: no zone id, no prefix length;
      -- a dotted quad only last, canonical, as URL parsers require.
      if v_host !~ '^[0-9a-f:.]+$' or pg_catalog.strpos(v_host, ':') = 0
         or (pg_catalog.strpos(v_host, '.') > 0
             and v_host !~ '^[0-9a-f:]*:((25[0-5]|2[0-4][0-9]|1[0-9][0-9]|[1-9]?[0-9])\.){3}(25[0-5]|2[0-4][0-9]|1[0-9][0-9]|[1-9]?[0-9])$') then
        v_problem := 'has a malformed host';
        exit checks;
      end if;
      begin
        v_ip := v_host::inet;
      exception when invalid_text_representation then
        v_problem := 'has a malformed host';
        exit checks;
      end;
      v_host := '[' || v_host || ']';
    elsif v_host = '' then
      v_problem := 'has no host';
      exit checks;
    elsif pg_catalog.length(v_host) > 253 or v_host !~ '^[a-z0-9-]+(\.[a-z0-9-]+)*$'
          or exists (select 1 from pg_catalog.unnest(pg_catalog.string_to_array(v_host, '.')) l
                      where pg_catalog.length(l) > 63 or l ~ '^-|-$') then
      v_problem := 'has a malformed host';
      exit checks;
    else
      v_labels := pg_catalog.string_to_array(v_host, '.');
      -- A last label that is a number makes the whole host an IPv4 address to URL parsers.
      if v_labels[pg_catalog.cardinality(v_labels)] ~ '^([0-9]+|0x[0-9a-f]*)$' then
        if v_host !~ '^((25[0-5]|2[0-4][0-9]|1[0-9][0-9]|[1-9]?[0-9])\.){3}(25[0-5]|2[0-4][0-9]|1[0-9][0-9]|[1-9]?[0-9])$' then
          v_problem := pg_catalog.format('names host %s, which is not a canonical IPv4 address (decimal, octal and hex forms are refused)', v_host);
          exit checks;
        end if;
        v_ip := v_host::inet;
      elsif v_labels[pg_catalog.cardinality(v_labels)] !~ '^[a-z]' then
        v_problem := 'has a malformed host';
      elsif v_host = 'localhost' or v_host like '%.localhost' then
        v_problem := pg_catalog.format('names host %s, a loopback name', v_host);
      elsif pg_catalog.cardinality(v_labels) < 2 then
        v_problem := pg_catalog.format(
          'names host %s, a single-label name (it resolves inside the network)', v_host);
      else
        -- Special-use names (RFC 6761, 6762, 7686, 8375) and the usual internal suffixes.
        select d into v_domain
          from pg_catalog.unnest(array['local', 'localdomain', 'internal', 'intranet', 'lan',
                                       'home', 'corp', 'private', 'test', 'invalid', 'example',
                                       'onion', 'arpa']) d
         where v_host like '%.' || d
         limit 1;
        if v_domain is not null then
          v_problem := pg_catalog.format(
            'names host %s, in a special-use or internal domain (.%s)', v_host, v_domain);
        end if;
      end if;
      exit checks when v_ip is null;
    end if;

    -- An IP literal: the special-purpose blocks of the IANA registries, most specific
    -- first; an IPv4-mapped IPv6 address counts as the IPv4 address it maps.
    select r.label, r.net into v_label, v_net
      from (values
        ('0.0.0.0/8', 'this network'), ('10.0.0.0/8', 'private'),
        ('100.64.0.0/10', 'shared (CGNAT)'), ('127.0.0.0/8', 'loopback'),
        ('169.254.0.0/16', 'link-local'), ('172.16.0.0/12', 'private'),
        ('192.0.0.0/24', 'IETF protocol assignments'), ('192.0.2.0/24', 'documentation'),
        ('192.88.99.0/24', '6to4 relay'), ('192.168.0.0/16', 'private'),
        ('198.18.0.0/15', 'benchmarking'), ('198.51.100.0/24', 'documentation'),
        ('203.0.113.0/24', 'documentation'), ('224.0.0.0/4', 'multicast'),
        ('240.0.0.0/4', 'reserved'),
        ('::/128', 'unspecified'), ('::1/128', 'loopback'), ('64:ff9b::/96', 'NAT64'),
        ('64:ff9b:1::/48', 'NAT64'), ('100::/64', 'discard'),
        ('2001::/23', 'IETF protocol assignments'), ('2001:db8::/32', 'documentation'),
        ('2002::/16', '6to4'), ('3fff::/20', 'documentation'), ('fc00::/7', 'unique-local'),
        ('fe80::/10', 'link-local'), ('fec0::/10', 'site-local'), ('ff00::/8', 'multicast')
      ) as r (net, label)
     where case when v_ip <<= '::ffff:0:0/96'::inet
                then '0.0.0.0'::inet + (v_ip - '::ffff:0.0.0.0'::inet)
                else v_ip end <<= r.net::inet
     order by pg_catalog.masklen(r.net::inet) desc
     limit 1;
    if v_label is null and pg_catalog.family(v_ip) = 6 and not v_ip <<= '::ffff:0:0/96'::inet
       and not v_ip <<= '2000::/3'::inet then
      v_label := 'reserved';
      v_net := 'outside 2000::/3';
    end if;
    if v_label is not null then
      v_problem := pg_catalog.format(
        'names host %s, which is not a public address (%s%s, %s)', v_host,
        case when v_ip <<= '::ffff:0:0/96'::inet then 'IPv4-mapped ' else '' end, v_label, v_net);
    end if;
  end;

  if v_problem is not null and p_raise_as is not null then
    raise exception '% %', p_raise_as, v_problem
      using errcode = '23514',
            hint = 'use an https URL on a public host name, e.g. https://hooks.example.com/drift';
  end if;
  return v_problem;
end
$$;
revoke execute on function internal.webhook_url_problem(text, text) from public;
-- Postgres checks EXECUTE on functions a CHECK constraint calls as the writing role.
grant execute on function internal.webhook_url_problem(text, text) to authenticated, service_role;
comment on function internal.webhook_url_problem(text, text) is
  'Why a URL may not be a webhook (a phrase such as ''must use https''), NULL when it may; with p_raise_as the problem is raised as 23514 "<p_raise_as> <problem>" (the CHECK form). Allowed: https, at most 2048 printable ASCII characters, no backslash, no credentials, a port 1-65535, and a host that is either a public unicast address (canonical dotted quad or bracketed IPv6; loopback, private, link-local, unique-local, CGNAT, multicast, reserved, documentation, NAT64 and IPv4-mapped forms of them are refused) or a name of at least two labels outside localhost and special-use or internal domains. Numeric hosts other than the canonical dotted quad are refused. webhook_url.ts webhookUrlProblem returns the same.';
