create function internal.trickle_window(p_tenant_id uuid, p_toolkit text, p_at timestamptz)
returns table (interval_seconds integer, phase_seconds integer, window_start timestamptz)
language sql
immutable
set search_path = ''
as $$
  with h as (
    select (hashtextextended(p_tenant_id::text || '/' || p_toolkit, 0)
            & 9223372036854775807) as v
  ), p as (
    select (1800 + v % 1801)::int as iv, v / 1801 as rest from h
  ), q as (
    select iv, (rest % iv)::int as ph from p
  )
  select iv, ph,
         to_timestamp(floor((extract(epoch from p_at) - ph) / iv) * iv + ph)
    from q
$$;
comment on function internal.trickle_window(uuid, text, timestamptz) is
  'The pair''s stable refresh interval (1800–3600 s) and phase from a hash of (tenant, toolkit), and the start of the window containing p_at.';
revoke all on function internal.trickle_window(uuid, text, timestamptz) from public;
