-- Pausing the drain (jobs.pause('outbox-drain')) also stops the kicks.
create function internal.outbox_kick_drain() returns trigger
language plpgsql
security definer
set search_path = ''
as $$
begin
  if not exists (select 1 from new_rows where status in ('pending', 'retry')) then
    return null;
  end if;
  if jobs.is_paused('outbox-drain') then
    return null;
  end if;
  -- SKIP LOCKED: a transaction that is kicking right now is enough for this burst too.
  perform 1 from internal.outbox_kick k
   where k.last_kick_at < now() - make_interval(secs => k.debounce_ms / 1000.0)
   for update skip locked;
  if not found then
    return null;
  end if;
  update internal.outbox_kick set last_kick_at = now();
  perform jobs.invoke('outbox-drain', '{"trigger": "enqueue"}'::jsonb);
  return null;
end
$$;
comment on function internal.outbox_kick_drain() is
  'AFTER INSERT statement trigger on outbox: invokes outbox-drain through pg_net, debounced by internal.outbox_kick, unless the drain is paused (jobs.is_paused). Without Vault secrets jobs.invoke records the job as not configured and sends nothing. SECURITY DEFINER: the inserting role needs no access to jobs or Vault.';
revoke execute on function internal.outbox_kick_drain() from public;

create trigger outbox_kick_drain after insert on public.outbox
  referencing new table as new_rows
  for each statement execute function internal.outbox_kick_drain();
