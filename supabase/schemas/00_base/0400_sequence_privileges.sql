-- Sequences are the service's: anon or authenticated holding UPDATE on one could setval it
-- (which ignores rollback) and make every later insert into its table fail on a duplicate
-- key. Supabase's default privileges grant new sequences in public to the API roles; this
-- takes that back for everything the project creates. (Identity columns need no sequence
-- privilege to insert.)
alter default privileges for role postgres in schema public
  revoke all on sequences from anon, authenticated;
