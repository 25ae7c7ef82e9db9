-- Who is acting: the end user when the request carries a JWT subject, else the database
-- role (as PostgREST or a job set it; the session user otherwise).
create function internal.audit_actor() returns table (actor_type text, actor_id text)
language sql
stable
set search_path = ''
as $$
  select case when auth.uid() is not null then 'user' else 'system' end,
         coalesce(auth.uid()::text,
                  nullif(pg_catalog.current_setting('role', true), 'none'),
                  session_user::text)
$$;
comment on function internal.audit_actor() is
  'The acting user (auth.uid()) as actor_type user, else the current role (SET ROLE, or the session user) as actor_type system. Reads the role setting, so it answers the caller even inside SECURITY DEFINER code.';
revoke all on function internal.audit_actor() from public;
