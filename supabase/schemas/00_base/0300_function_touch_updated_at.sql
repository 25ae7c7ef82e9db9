create function internal.touch_updated_at() returns trigger
language plpgsql
set search_path = ''
as $$
begin
  new.updated_at := now();
  return new;
end
$$;
-- Trigger functions need no EXECUTE grant to fire.
revoke execute on function internal.touch_updated_at() from public;
comment on function internal.touch_updated_at() is
  'BEFORE UPDATE trigger shared by every table with an updated_at column: sets it to now().';
