-- Who may listen on a tenant's channels. Hosted Realtime authorizes a private channel join
-- by selecting a probe row of realtime.messages as the joining user, with realtime.topic set
-- to the channel's topic, in a transaction it rolls back: members of the topic's tenant see
-- it (membership checked now, internal.active_tenant_id), nobody else does. SELECT only: no
-- INSERT policy, so no client can broadcast on these channels (Realtime tests an INSERT
-- before relaying a client's broadcast); only the SECURITY DEFINER publishing triggers write
-- them. Policies on realtime.messages are what supautils lets postgres create on hosted (the
-- local migration runner runs them as the superuser, stack/migrate.ts).
create policy tenant_channels_select_member on realtime.messages
  for select to authenticated
  using (
    extension = 'broadcast'
    and topic = (select realtime.topic())
    and (select internal.realtime_topic_tenant(realtime.topic()))
        = (select internal.active_tenant_id())
  );
comment on policy tenant_channels_select_member on realtime.messages is
  'Members of a tenant may join (listen on) its private channels outbox:, approvals:, activity:<tenant_id>: broadcast messages of the joined topic only. No write policy: clients cannot send on them.';
