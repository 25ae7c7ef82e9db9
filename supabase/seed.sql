-- Local demo data: two tenants with everything a job touches, deterministic ids so tests
-- and docs can name rows. Runs once as postgres on a new local cluster (and the test
-- cluster); never on hosted.
--
--   tenant A  00000000-0000-0000-0000-00000000000a  Acme Support (pro)
--   tenant B  00000000-0000-0000-0000-00000000000b  Beta Labs (free)
--   users     …00a1 owner of A, …00a2 member of A, …00b1 owner of B, …00b2 member of B,
--             …00c1 in no tenant, …00d1 member of A (joined first) and of B, with
--             app_metadata.tenant_id = B (the access-token hook picks B); every one signs
--             in with password local-dev-password
--   row ids   <t>0000000-<table>-0000-0000-0000000000NN, t = a | b, table = 0001 outbox,
--             0002 outbox_dlq, 0003 approvals, 0004 grades, 0005 edits, 0006 evidence,
--             0007 evidence_embeddings, 0008 objectives, 0009 connected_accounts,
--             000a guardrails, 000b tasks, 000c tenant_invitations
--   envelopes A: …01 pending, …02 succeeded, …03 needs_approval, …04 retry, …05 running,
--             …06 deferred, …07 conflict, …08 succeeded (approved), …09 rejected,
--             …10 unknown_outcome; B: …01 pending, …02 succeeded, …03 needs_approval,
--             …04 succeeded (approved)

-- ---------------------------------------------------------------------------------------
-- Users (local auth.users; hosted Auth would create these on sign-up). Every seed user signs
-- in with the local password `local-dev-password`, stored as GoTrue stores passwords (bcrypt,
-- cost 10).
insert into auth.users (instance_id, id, aud, role, email, encrypted_password,
                        email_confirmed_at, raw_app_meta_data, raw_user_meta_data, created_at,
                        updated_at)
select '00000000-0000-0000-0000-000000000000', u.id::uuid, 'authenticated', 'authenticated',
       u.email, extensions.crypt('local-dev-password', extensions.gen_salt('bf', 10)),
       '2026-01-01 00:00:00+00', u.app::jsonb, jsonb_build_object('name', u.name),
       '2026-01-01 00:00:00+00', '2026-01-01 00:00:00+00'
from (values
  ('00000000-0000-0000-0000-0000000000a1', 'owner.a@example.com', 'Ada Owner', '{"provider":"email"}'),
  ('00000000-0000-0000-0000-0000000000a2', 'member.a@example.com', 'Alan Member', '{"provider":"email"}'),
  ('00000000-0000-0000-0000-0000000000b1', 'owner.b@example.com', 'Barbara Owner', '{"provider":"email"}'),
  ('00000000-0000-0000-0000-0000000000b2', 'member.b@example.com', 'Boris Member', '{"provider":"email"}'),
  ('00000000-0000-0000-0000-0000000000c1', 'no.tenant@example.com', 'Cleo Nobody', '{"provider":"email"}'),
  ('00000000-0000-0000-0000-0000000000d1', 'both@example.com', 'Dana Both',
   '{"provider":"email","tenant_id":"00000000-0000-0000-0000-00000000000b"}')
) as u (id, email, name, app);

-- ---------------------------------------------------------------------------------------
-- Tenancy
insert into public.tenants (id, name, plan, created_at) values
  ('00000000-0000-0000-0000-00000000000a', 'Acme Support', 'pro', '2026-01-01 00:00:00+00'),
  ('00000000-0000-0000-0000-00000000000b', 'Beta Labs', 'free', '2026-01-02 00:00:00+00');

insert into public.tenant_members (tenant_id, user_id, role, created_at, accepted_at) values
  ('00000000-0000-0000-0000-00000000000a', '00000000-0000-0000-0000-0000000000a1', 'owner', '2026-01-01 00:00:00+00', '2026-01-01 00:00:00+00'),
  ('00000000-0000-0000-0000-00000000000a', '00000000-0000-0000-0000-0000000000a2', 'member', '2026-01-01 01:00:00+00', '2026-01-01 01:00:00+00'),
  ('00000000-0000-0000-0000-00000000000a', '00000000-0000-0000-0000-0000000000d1', 'member', '2026-01-01 02:00:00+00', '2026-01-01 02:00:00+00'),
  ('00000000-0000-0000-0000-00000000000b', '00000000-0000-0000-0000-0000000000b1', 'owner', '2026-01-02 00:00:00+00', '2026-01-02 00:00:00+00'),
  ('00000000-0000-0000-0000-00000000000b', '00000000-0000-0000-0000-0000000000b2', 'member', '2026-01-02 01:00:00+00', '2026-01-02 01:00:00+00'),
  ('00000000-0000-0000-0000-00000000000b', '00000000-0000-0000-0000-0000000000d1', 'member', '2026-01-02 02:00:00+00', '2026-01-02 02:00:00+00');

-- Open invitations: A invited the user in no tenant (by user id); B invited a prospect by
-- email. Neither changes anybody's token until accepted.
insert into public.tenant_invitations (id, tenant_id, user_id, email, role, invited_by) values
  ('a0000000-000c-0000-0000-000000000001', '00000000-0000-0000-0000-00000000000a',
   '00000000-0000-0000-0000-0000000000c1', null, 'member', '00000000-0000-0000-0000-0000000000a1'),
  ('b0000000-000c-0000-0000-000000000001', '00000000-0000-0000-0000-00000000000b',
   null, 'prospect@example.com', 'member', '00000000-0000-0000-0000-0000000000b1');

-- The member of A chose A as the tenant their tokens name (their only one).
insert into public.user_settings (user_id, active_tenant_id) values
  ('00000000-0000-0000-0000-0000000000a2', '00000000-0000-0000-0000-00000000000a');

insert into public.guardrails (id, tenant_id, quiet_hours, trust_threshold, allowed_toolkits,
                               allowed_scopes, require_evidence, max_attempts,
                               approval_risk_tiers, concurrency_cap) values
  ('a0000000-000a-0000-0000-000000000001', '00000000-0000-0000-0000-00000000000a',
   '{"timezone": "Europe/Berlin", "windows": [{"start": "22:00", "end": "07:00", "days": [1, 2, 3, 4, 5]}, {"start": "00:00", "end": "23:59", "days": [6, 7]}]}',
   0.75, '{github,gmail,slack}', null, true, '{"low": 5, "medium": 3, "high": 1}', '{high}', 2),
  ('b0000000-000a-0000-0000-000000000001', '00000000-0000-0000-0000-00000000000b',
   '{"timezone": "America/New_York", "windows": []}',
   0.7, null, '{repo,chat:write,channels:read,channels:history}', false,
   '{"low": 4, "medium": 2, "high": 1}', '{medium,high}', 1)
-- Each tenant got its row with the defaults when it was created; the seed sets its own.
on conflict (tenant_id) do update
  set id = excluded.id, quiet_hours = excluded.quiet_hours,
      trust_threshold = excluded.trust_threshold, allowed_toolkits = excluded.allowed_toolkits,
      allowed_scopes = excluded.allowed_scopes, require_evidence = excluded.require_evidence,
      max_attempts = excluded.max_attempts, approval_risk_tiers = excluded.approval_risk_tiers,
      concurrency_cap = excluded.concurrency_cap;

insert into public.objectives (id, tenant_id, title, metric, target, horizon, summary) values
  ('a0000000-0008-0000-0000-000000000001', '00000000-0000-0000-0000-00000000000a',
   'Answer support issues faster', 'first_response_minutes', '30', '2026-Q1',
   'Triage new GitHub issues and acknowledge them within 30 minutes.'),
  ('a0000000-0008-0000-0000-000000000002', '00000000-0000-0000-0000-00000000000a',
   'Keep the inbox at zero', 'unread_support_emails', '0', '30 days',
   'Label and answer support email daily.'),
  ('b0000000-0008-0000-0000-000000000001', '00000000-0000-0000-0000-00000000000b',
   'Weekly release notes', 'release_notes_posted', '1 per week', '2026-Q1',
   'Summarise merged pull requests in #releases every Friday.');

-- The Composio sandbox's auth configs (stack/fixtures/composio_accounts.json), one per toolkit
-- the local project offers through the connection flow.
insert into internal.composio_auth_configs (toolkit, auth_config_id) values
  ('github', 'ac_sandbox_github'), ('gmail', 'ac_sandbox_gmail'), ('slack', 'ac_sandbox_slack');

-- Accounts as the connection flow leaves them. Not yet checked: the drain asks the Composio
-- sandbox, which knows these ids under each tenant's Composio user (the tenant id), before
-- the first execution of each.
insert into public.connected_accounts (id, tenant_id, provider, toolkit, external_account_id,
                                       status, scopes, linked_at, metadata) values
  ('a0000000-0009-0000-0000-000000000001', '00000000-0000-0000-0000-00000000000a', 'composio',
   'github', 'ca_acme_github', 'active', '{repo,public_repo}', '2026-01-03 09:00:00+00',
   '{"auth_scheme": "OAUTH2", "account": "acme-bot"}'),
  ('a0000000-0009-0000-0000-000000000002', '00000000-0000-0000-0000-00000000000a', 'composio',
   'gmail', 'ca_acme_gmail', 'active',
   '{https://www.googleapis.com/auth/gmail.readonly,https://www.googleapis.com/auth/gmail.send,https://www.googleapis.com/auth/gmail.modify}',
   '2026-01-03 09:05:00+00', '{"auth_scheme": "OAUTH2", "account": "support@acme.example"}'),
  ('a0000000-0009-0000-0000-000000000003', '00000000-0000-0000-0000-00000000000a', 'composio',
   'slack', 'ca_acme_slack', 'active', '{chat:write,channels:read,channels:history}',
   '2026-01-03 09:10:00+00', '{"auth_scheme": "OAUTH2", "account": "acme.slack.com"}'),
  ('b0000000-0009-0000-0000-000000000001', '00000000-0000-0000-0000-00000000000b', 'composio',
   'github', 'ca_beta_github', 'active', '{repo}', '2026-01-04 10:00:00+00',
   '{"auth_scheme": "OAUTH2", "account": "beta-labs"}'),
  ('b0000000-0009-0000-0000-000000000002', '00000000-0000-0000-0000-00000000000b', 'composio',
   'slack', 'ca_beta_slack', 'active', '{chat:write,channels:read,channels:history}',
   '2026-01-04 10:05:00+00', '{"auth_scheme": "OAUTH2", "account": "beta.slack.com"}'),
  ('b0000000-0009-0000-0000-000000000003', '00000000-0000-0000-0000-00000000000b', 'composio',
   'gmail', 'ca_beta_gmail', 'expired', '{https://www.googleapis.com/auth/gmail.readonly}',
   '2025-10-01 08:00:00+00', '{"auth_scheme": "OAUTH2"}');

-- ---------------------------------------------------------------------------------------
-- Catalog: the Composio sandbox fixtures (stack/fixtures/composio/*.json) as catalog-sync
-- would store them. Risk and read_only follow the tags: readOnlyHint → read-only, low;
-- destructiveHint → high; anything else → medium. A has every toolkit; B has github and
-- slack, with GITHUB_DELETE_REPOSITORY deprecated and an older SLACK_SEND_MESSAGE version.
create temporary table fixture_tools (
  tool_slug text, toolkit text, version text, display_name text, description text,
  tags text[], scopes text[], input_schema jsonb, output_schema jsonb
);
insert into fixture_tools values
  ('GITHUB_LIST_ISSUES', 'github', '20250909_00', 'List repository issues', 'Lists issues in a repository. Pull requests are returned as issues too; filter them out by the pull_request key.',
   '{readOnlyHint,idempotentHint,important,issues}', '{"repo"}',
   '{"type":"object","properties":{"owner":{"type":"string","description":"Account owner of the repository."},"repo":{"type":"string","description":"Repository name, without the .git suffix."},"state":{"type":"string","enum":["open","closed","all"],"default":"open","description":"Issue state to return."},"labels":{"type":"string","description":"Comma-separated label names."},"sort":{"type":"string","enum":["created","updated","comments"],"default":"created"},"direction":{"type":"string","enum":["asc","desc"],"default":"desc"},"per_page":{"type":"integer","minimum":1,"maximum":100,"default":30},"page":{"type":"integer","minimum":1,"default":1}},"required":["owner","repo"]}',
   '{"type":"object","properties":{"data":{"type":"object","properties":{"issues":{"type":"array","items":{"type":"object","properties":{"number":{"type":"integer"},"title":{"type":"string"},"state":{"type":"string"},"html_url":{"type":"string"}}}}}},"error":{"type":"string","nullable":true},"successful":{"type":"boolean"}},"required":["data","successful"]}'),
  ('GITHUB_GET_ISSUE', 'github', '20250909_00', 'Get an issue', 'Gets one issue by number, including its labels, assignees and body.',
   '{readOnlyHint,idempotentHint,issues}', '{"repo"}',
   '{"type":"object","properties":{"owner":{"type":"string"},"repo":{"type":"string"},"issue_number":{"type":"integer","minimum":1}},"required":["owner","repo","issue_number"]}',
   '{"type":"object","properties":{"data":{"type":"object","properties":{"number":{"type":"integer"},"title":{"type":"string"},"body":{"type":"string","nullable":true},"state":{"type":"string"}}},"error":{"type":"string","nullable":true},"successful":{"type":"boolean"}},"required":["data","successful"]}'),
  ('GITHUB_CREATE_ISSUE', 'github', '20250909_00', 'Create an issue', 'Creates an issue in a repository. Labels and assignees must already exist.',
   '{createHint,important,issues}', '{"repo"}',
   '{"type":"object","properties":{"owner":{"type":"string"},"repo":{"type":"string"},"title":{"type":"string","minLength":1,"description":"Issue title."},"body":{"type":"string","description":"Issue body, Markdown."},"labels":{"type":"array","items":{"type":"string"}},"assignees":{"type":"array","items":{"type":"string"}},"milestone":{"type":"integer"}},"required":["owner","repo","title"]}',
   '{"type":"object","properties":{"data":{"type":"object","properties":{"number":{"type":"integer"},"html_url":{"type":"string"}}},"error":{"type":"string","nullable":true},"successful":{"type":"boolean"}},"required":["data","successful"]}'),
  ('GITHUB_UPDATE_ISSUE', 'github', '20250909_00', 'Update an issue', 'Updates the title, body, state or labels of an issue.',
   '{updateHint,idempotentHint,issues}', '{"repo"}',
   '{"type":"object","properties":{"owner":{"type":"string"},"repo":{"type":"string"},"issue_number":{"type":"integer","minimum":1},"title":{"type":"string"},"body":{"type":"string"},"state":{"type":"string","enum":["open","closed"]},"state_reason":{"type":"string","enum":["completed","not_planned","reopened"]},"labels":{"type":"array","items":{"type":"string"}}},"required":["owner","repo","issue_number"]}',
   '{"type":"object","properties":{"data":{"type":"object","properties":{"number":{"type":"integer"}}},"error":{"type":"string","nullable":true},"successful":{"type":"boolean"}},"required":["data","successful"]}'),
  ('GITHUB_CREATE_ISSUE_COMMENT', 'github', '20250909_00', 'Comment on an issue', 'Adds a comment to an issue or pull request.',
   '{createHint,issues}', '{"repo"}',
   '{"type":"object","properties":{"owner":{"type":"string"},"repo":{"type":"string"},"issue_number":{"type":"integer","minimum":1},"body":{"type":"string","minLength":1}},"required":["owner","repo","issue_number","body"]}',
   '{"type":"object","properties":{"data":{"type":"object","properties":{"id":{"type":"integer"},"html_url":{"type":"string"}}},"error":{"type":"string","nullable":true},"successful":{"type":"boolean"}},"required":["data","successful"]}'),
  ('GITHUB_LIST_PULL_REQUESTS', 'github', '20250909_00', 'List pull requests', 'Lists pull requests in a repository, optionally filtered by base or head branch.',
   '{readOnlyHint,idempotentHint,important,pulls}', '{"repo"}',
   '{"type":"object","properties":{"owner":{"type":"string"},"repo":{"type":"string"},"state":{"type":"string","enum":["open","closed","all"],"default":"open"},"base":{"type":"string","description":"Base branch name."},"head":{"type":"string","description":"user:ref-name or organization:ref-name."},"sort":{"type":"string","enum":["created","updated","popularity","long-running"],"default":"created"},"per_page":{"type":"integer","minimum":1,"maximum":100,"default":30}},"required":["owner","repo"]}',
   '{"type":"object","properties":{"data":{"type":"object","properties":{"pull_requests":{"type":"array","items":{"type":"object"}}}},"error":{"type":"string","nullable":true},"successful":{"type":"boolean"}},"required":["data","successful"]}'),
  ('GITHUB_GET_REPOSITORY', 'github', '20250909_00', 'Get a repository', 'Gets repository metadata: default branch, visibility, topics and counts.',
   '{readOnlyHint,idempotentHint,repos}', '{"public_repo"}',
   '{"type":"object","properties":{"owner":{"type":"string"},"repo":{"type":"string"}},"required":["owner","repo"]}',
   '{"type":"object","properties":{"data":{"type":"object","properties":{"full_name":{"type":"string"},"default_branch":{"type":"string"},"private":{"type":"boolean"}}},"error":{"type":"string","nullable":true},"successful":{"type":"boolean"}},"required":["data","successful"]}'),
  ('GITHUB_STAR_REPOSITORY', 'github', '20250909_00', 'Star a repository', 'Stars a repository for the authenticated user. Starring twice has no further effect.',
   '{updateHint,idempotentHint,repos}', '{"public_repo"}',
   '{"type":"object","properties":{"owner":{"type":"string"},"repo":{"type":"string"}},"required":["owner","repo"]}',
   '{"type":"object","properties":{"data":{"type":"object","properties":{}},"error":{"type":"string","nullable":true},"successful":{"type":"boolean"}},"required":["data","successful"]}'),
  ('GITHUB_DELETE_REPOSITORY', 'github', '20250909_00', 'Delete a repository', 'Permanently deletes a repository. Requires admin rights and the delete_repo scope.',
   '{destructiveHint,repos}', '{"delete_repo"}',
   '{"type":"object","properties":{"owner":{"type":"string"},"repo":{"type":"string"}},"required":["owner","repo"]}',
   '{"type":"object","properties":{"data":{"type":"object","properties":{}},"error":{"type":"string","nullable":true},"successful":{"type":"boolean"}},"required":["data","successful"]}'),
  ('GMAIL_SEND_EMAIL', 'gmail', '20251027_00', 'Send email', 'Sends an email from the connected account. At least one of recipient_email, cc or bcc is required.',
   '{createHint,important,email}', '{"https://www.googleapis.com/auth/gmail.send"}',
   '{"type":"object","properties":{"recipient_email":{"type":"string","format":"email","description":"Primary recipient."},"cc":{"type":"array","items":{"type":"string","format":"email"},"default":[]},"bcc":{"type":"array","items":{"type":"string","format":"email"},"default":[]},"subject":{"type":"string"},"body":{"type":"string","description":"Plain text, or HTML when is_html is true."},"is_html":{"type":"boolean","default":false},"user_id":{"type":"string","default":"me"}},"required":["recipient_email","body"]}',
   '{"type":"object","properties":{"data":{"type":"object","properties":{"id":{"type":"string"},"threadId":{"type":"string"}}},"error":{"type":"string","nullable":true},"successful":{"type":"boolean"}},"required":["data","successful"]}'),
  ('GMAIL_FETCH_EMAILS', 'gmail', '20251027_00', 'Fetch emails', 'Fetches messages matching a Gmail search query, newest first.',
   '{readOnlyHint,idempotentHint,important,email}', '{"https://www.googleapis.com/auth/gmail.readonly"}',
   '{"type":"object","properties":{"query":{"type":"string","description":"Gmail search syntax, e.g. from:alice is:unread."},"label_ids":{"type":"array","items":{"type":"string"}},"max_results":{"type":"integer","minimum":1,"maximum":500,"default":10},"page_token":{"type":"string"},"include_payload":{"type":"boolean","default":true},"user_id":{"type":"string","default":"me"}},"required":[]}',
   '{"type":"object","properties":{"data":{"type":"object","properties":{"messages":{"type":"array","items":{"type":"object"}},"nextPageToken":{"type":"string","nullable":true}}},"error":{"type":"string","nullable":true},"successful":{"type":"boolean"}},"required":["data","successful"]}'),
  ('GMAIL_FETCH_MESSAGE_BY_MESSAGE_ID', 'gmail', '20251027_00', 'Fetch message by id', 'Fetches one message by its id in the requested format.',
   '{readOnlyHint,idempotentHint,email}', '{"https://www.googleapis.com/auth/gmail.readonly"}',
   '{"type":"object","properties":{"message_id":{"type":"string"},"format":{"type":"string","enum":["minimal","full","raw","metadata"],"default":"full"},"user_id":{"type":"string","default":"me"}},"required":["message_id"]}',
   '{"type":"object","properties":{"data":{"type":"object","properties":{"id":{"type":"string"},"snippet":{"type":"string"},"labelIds":{"type":"array","items":{"type":"string"}}}},"error":{"type":"string","nullable":true},"successful":{"type":"boolean"}},"required":["data","successful"]}'),
  ('GMAIL_CREATE_EMAIL_DRAFT', 'gmail', '20251027_00', 'Create email draft', 'Creates a draft without sending it.',
   '{createHint,email}', '{"https://www.googleapis.com/auth/gmail.compose"}',
   '{"type":"object","properties":{"recipient_email":{"type":"string","format":"email"},"subject":{"type":"string"},"body":{"type":"string"},"is_html":{"type":"boolean","default":false},"thread_id":{"type":"string","description":"Reply within this thread."}},"required":["recipient_email","subject","body"]}',
   '{"type":"object","properties":{"data":{"type":"object","properties":{"id":{"type":"string"}}},"error":{"type":"string","nullable":true},"successful":{"type":"boolean"}},"required":["data","successful"]}'),
  ('GMAIL_ADD_LABEL_TO_EMAIL', 'gmail', '20251027_00', 'Modify email labels', 'Adds and removes labels on a message. Applying a label it already has changes nothing.',
   '{updateHint,idempotentHint,email}', '{"https://www.googleapis.com/auth/gmail.modify"}',
   '{"type":"object","properties":{"message_id":{"type":"string"},"add_label_ids":{"type":"array","items":{"type":"string"},"default":[]},"remove_label_ids":{"type":"array","items":{"type":"string"},"default":[]},"user_id":{"type":"string","default":"me"}},"required":["message_id"]}',
   '{"type":"object","properties":{"data":{"type":"object","properties":{"labelIds":{"type":"array","items":{"type":"string"}}}},"error":{"type":"string","nullable":true},"successful":{"type":"boolean"}},"required":["data","successful"]}'),
  ('GMAIL_LIST_LABELS', 'gmail', '20251027_00', 'List labels', 'Lists the system and user labels of the mailbox.',
   '{readOnlyHint,idempotentHint,labels}', '{"https://www.googleapis.com/auth/gmail.labels"}',
   '{"type":"object","properties":{"user_id":{"type":"string","default":"me"}},"required":[]}',
   '{"type":"object","properties":{"data":{"type":"object","properties":{"labels":{"type":"array","items":{"type":"object"}}}},"error":{"type":"string","nullable":true},"successful":{"type":"boolean"}},"required":["data","successful"]}'),
  ('GMAIL_MOVE_TO_TRASH', 'gmail', '20251027_00', 'Move email to trash', 'Moves a message to the trash; Gmail deletes it for good after 30 days.',
   '{destructiveHint,email}', '{"https://www.googleapis.com/auth/gmail.modify"}',
   '{"type":"object","properties":{"message_id":{"type":"string"},"user_id":{"type":"string","default":"me"}},"required":["message_id"]}',
   '{"type":"object","properties":{"data":{"type":"object","properties":{"id":{"type":"string"}}},"error":{"type":"string","nullable":true},"successful":{"type":"boolean"}},"required":["data","successful"]}'),
  ('SLACK_SEND_MESSAGE', 'slack', '20251016_00', 'Send message', 'Posts a message to a channel, private group or direct message.',
   '{createHint,important,messages}', '{"chat:write"}',
   '{"type":"object","properties":{"channel":{"type":"string","description":"Channel id (C...) or name."},"text":{"type":"string","description":"Message text; mrkdwn is supported."},"thread_ts":{"type":"string","description":"Reply in this thread."},"unfurl_links":{"type":"boolean","default":true},"blocks":{"type":"array","items":{"type":"object"}}},"required":["channel","text"]}',
   '{"type":"object","properties":{"data":{"type":"object","properties":{"channel":{"type":"string"},"ts":{"type":"string"}}},"error":{"type":"string","nullable":true},"successful":{"type":"boolean"}},"required":["data","successful"]}'),
  ('SLACK_LIST_CHANNELS', 'slack', '20251016_00', 'List channels', 'Lists conversations the workspace can see, with cursor pagination.',
   '{readOnlyHint,idempotentHint,important,channels}', '{"channels:read","groups:read"}',
   '{"type":"object","properties":{"types":{"type":"string","default":"public_channel","description":"Comma-separated: public_channel, private_channel, mpim, im."},"exclude_archived":{"type":"boolean","default":true},"limit":{"type":"integer","minimum":1,"maximum":1000,"default":100},"cursor":{"type":"string"}},"required":[]}',
   '{"type":"object","properties":{"data":{"type":"object","properties":{"channels":{"type":"array","items":{"type":"object"}},"response_metadata":{"type":"object","properties":{"next_cursor":{"type":"string"}}}}},"error":{"type":"string","nullable":true},"successful":{"type":"boolean"}},"required":["data","successful"]}'),
  ('SLACK_FETCH_CONVERSATION_HISTORY', 'slack', '20251016_00', 'Fetch conversation history', 'Fetches messages of a conversation between two timestamps.',
   '{readOnlyHint,idempotentHint,messages}', '{"channels:history","groups:history"}',
   '{"type":"object","properties":{"channel":{"type":"string"},"oldest":{"type":"string"},"latest":{"type":"string"},"inclusive":{"type":"boolean","default":false},"limit":{"type":"integer","minimum":1,"maximum":999,"default":100},"cursor":{"type":"string"}},"required":["channel"]}',
   '{"type":"object","properties":{"data":{"type":"object","properties":{"messages":{"type":"array","items":{"type":"object"}},"has_more":{"type":"boolean"}}},"error":{"type":"string","nullable":true},"successful":{"type":"boolean"}},"required":["data","successful"]}'),
  ('SLACK_CREATE_CHANNEL', 'slack', '20251016_00', 'Create channel', 'Creates a public or private channel.',
   '{createHint,channels}', '{"channels:manage","groups:write"}',
   '{"type":"object","properties":{"name":{"type":"string","pattern":"^[a-z0-9_-]{1,80}$","description":"Lowercase, no spaces, at most 80 characters."},"is_private":{"type":"boolean","default":false}},"required":["name"]}',
   '{"type":"object","properties":{"data":{"type":"object","properties":{"channel":{"type":"object"}}},"error":{"type":"string","nullable":true},"successful":{"type":"boolean"}},"required":["data","successful"]}'),
  ('SLACK_ADD_REACTION_TO_AN_ITEM', 'slack', '20251016_00', 'Add reaction', 'Adds an emoji reaction to a message.',
   '{createHint,idempotentHint,reactions}', '{"reactions:write"}',
   '{"type":"object","properties":{"channel":{"type":"string"},"timestamp":{"type":"string","description":"ts of the message."},"name":{"type":"string","description":"Emoji name without colons."}},"required":["channel","timestamp","name"]}',
   '{"type":"object","properties":{"data":{"type":"object","properties":{}},"error":{"type":"string","nullable":true},"successful":{"type":"boolean"}},"required":["data","successful"]}'),
  ('SLACK_UPDATE_A_MESSAGE', 'slack', '20251016_00', 'Update message', 'Edits the text or blocks of a message the app posted.',
   '{updateHint,idempotentHint,messages}', '{"chat:write"}',
   '{"type":"object","properties":{"channel":{"type":"string"},"ts":{"type":"string"},"text":{"type":"string"},"blocks":{"type":"array","items":{"type":"object"}}},"required":["channel","ts"]}',
   '{"type":"object","properties":{"data":{"type":"object","properties":{"ts":{"type":"string"},"text":{"type":"string"}}},"error":{"type":"string","nullable":true},"successful":{"type":"boolean"}},"required":["data","successful"]}'),
  ('SLACK_DELETE_A_MESSAGE', 'slack', '20251016_00', 'Delete message', 'Deletes a message. Cannot be undone.',
   '{destructiveHint,messages}', '{"chat:write"}',
   '{"type":"object","properties":{"channel":{"type":"string"},"ts":{"type":"string"},"as_user":{"type":"boolean","default":false}},"required":["channel","ts"]}',
   '{"type":"object","properties":{"data":{"type":"object","properties":{"ts":{"type":"string"}}},"error":{"type":"string","nullable":true},"successful":{"type":"boolean"}},"required":["data","successful"]}')
;

insert into public.tool_catalog (tenant_id, tool_slug, toolkit, display_name, description,
                                 version, input_schema, output_schema, required_scopes, tags,
                                 risk, read_only, content_hash, synced_version, synced_at)
select t.id, f.tool_slug, f.toolkit, f.display_name, f.description, f.version, f.input_schema,
       f.output_schema, f.scopes, f.tags,
       case when 'destructiveHint' = any (f.tags) then 'high'
            when 'readOnlyHint' = any (f.tags) then 'low'
            else 'medium' end,
       'readOnlyHint' = any (f.tags),
       'sha256:' || encode(sha256(convert_to(jsonb_build_object(
         'description', f.description, 'input', f.input_schema, 'output', f.output_schema,
         'scopes', f.scopes, 'tags', f.tags)::text, 'UTF8')), 'hex'),
       f.version, '2026-01-05 03:00:00+00'
from fixture_tools f
join public.tenants t
  on t.id = '00000000-0000-0000-0000-00000000000a'
  or (t.id = '00000000-0000-0000-0000-00000000000b' and f.toolkit in ('github', 'slack'));

update public.tool_catalog set deprecated_at = '2026-01-06 03:00:00+00'
 where tenant_id = '00000000-0000-0000-0000-00000000000b'
   and tool_slug = 'GITHUB_DELETE_REPOSITORY';

insert into public.tool_catalog (tenant_id, tool_slug, toolkit, display_name, description,
                                 version, input_schema, output_schema, required_scopes, tags,
                                 risk, read_only, content_hash, synced_version, is_current,
                                 synced_at)
select tenant_id, tool_slug, toolkit, display_name, description, '20250925_00',
       input_schema - 'required', output_schema, required_scopes, tags, risk, read_only,
       'sha256:previous-' || tool_slug, '20250925_00', false, '2025-12-01 03:00:00+00'
from public.tool_catalog
where tenant_id = '00000000-0000-0000-0000-00000000000b' and tool_slug = 'SLACK_SEND_MESSAGE';

drop table fixture_tools;

-- ---------------------------------------------------------------------------------------
-- Job runs and drift snapshots.
insert into public.job_runs (job, tenant_id, started_at, finished_at, status, counts, error,
                             invocation) values
  ('catalog-sync', '00000000-0000-0000-0000-00000000000a', '2026-01-05 03:00:00+00',
   '2026-01-05 03:00:04+00', 'succeeded', '{"fetched": 23, "upserted": 23, "unchanged": 0}',
   null, '{"trigger": "cron"}'),
  ('catalog-sync', '00000000-0000-0000-0000-00000000000b', '2026-01-05 03:00:00+00',
   '2026-01-05 03:00:03+00', 'succeeded', '{"fetched": 16, "upserted": 16, "unchanged": 0}',
   null, '{"trigger": "cron"}'),
  ('drift-monitor', '00000000-0000-0000-0000-00000000000a', '2026-01-06 03:00:00+00',
   '2026-01-06 03:00:02+00', 'succeeded', '{"tools": 23, "breaking": 0, "non_breaking": 1}',
   null, '{"trigger": "cron"}'),
  ('drift-monitor', '00000000-0000-0000-0000-00000000000b', '2026-01-06 03:00:00+00',
   '2026-01-06 03:00:02+00', 'succeeded', '{"tools": 16, "breaking": 1, "non_breaking": 0}',
   null, '{"trigger": "cron"}'),
  ('outbox-drain', null, '2026-01-06 12:00:00+00', '2026-01-06 12:00:20+00', 'partial',
   '{"claimed": 12, "succeeded": 9, "retry": 2, "dlq": 1}', null, '{"trigger": "cron"}');

insert into public.catalog_audit (tenant_id, run_id, snapshot, breaking_count,
                                  non_breaking_count, created_at)
select r.tenant_id, r.id, s.snapshot::jsonb, s.breaking, s.non_breaking, r.finished_at
from public.job_runs r
join (values
  ('00000000-0000-0000-0000-00000000000a'::uuid,
   '{"changes": [{"tool": "GITHUB_LIST_ISSUES", "kind": "non_breaking", "detail": "optional input page added"}]}',
   0, 1),
  ('00000000-0000-0000-0000-00000000000b'::uuid,
   '{"changes": [{"tool": "GITHUB_DELETE_REPOSITORY", "kind": "breaking", "detail": "tool removed upstream"}]}',
   1, 0)
) as s (tenant_id, snapshot, breaking, non_breaking) on s.tenant_id = r.tenant_id
where r.job = 'drift-monitor';

-- B's breaking snapshot was webhooked; A's receiver refused one. Neither is pending, so no
-- run sends anything to these example hosts.
insert into public.webhook_deliveries (tenant_id, event, catalog_audit_id, url, body, status,
                                       attempts, last_error, last_http_status, attempt_log,
                                       created_at, finished_at)
select a.tenant_id, 'catalog_drift.breaking', a.id, d.url,
       jsonb_build_object('event', 'catalog_drift.breaking', 'tenant_id', a.tenant_id,
                          'catalog_audit_id', a.id, 'run_id', a.run_id,
                          'breaking_count', a.breaking_count,
                          'non_breaking_count', a.non_breaking_count,
                          'breaking_tools', d.tools::jsonb),
       d.status, 1, d.error, d.http_status,
       jsonb_build_array(jsonb_strip_nulls(jsonb_build_object(
         'attempt', 1, 'at', a.created_at, 'outcome', d.status, 'http_status', d.http_status,
         'address', '93.184.215.14', 'error', d.error, 'ms', 84))),
       a.created_at, a.created_at
from public.catalog_audit a
join (values
  ('00000000-0000-0000-0000-00000000000a'::uuid, 'https://hooks.example.com/acme/drift',
   'failed', 'hooks.example.com answered 410', 410, '[]'),
  ('00000000-0000-0000-0000-00000000000b'::uuid, 'https://hooks.example.com/beta/drift',
   'delivered', null, 200, '["GITHUB_DELETE_REPOSITORY"]')
) as d (tenant_id, url, status, error, http_status, tools) on d.tenant_id = a.tenant_id;

insert into public.rate_buckets (tenant_id, toolkit, capacity, tokens, refill_per_second,
                                 refilled_at) values
  ('00000000-0000-0000-0000-00000000000a', 'github', 60, 42, 1, '2026-01-06 12:00:00+00'),
  ('00000000-0000-0000-0000-00000000000a', 'slack', 20, 20, 0.5, '2026-01-06 12:00:00+00'),
  ('00000000-0000-0000-0000-00000000000b', 'slack', 20, 5, 0.5, '2026-01-06 12:00:00+00');

-- Search budgets as evidence searches left them: the members of A and of B.
insert into public.search_budgets (tenant_id, user_id, tokens, refilled_at) values
  ('00000000-0000-0000-0000-00000000000a', '00000000-0000-0000-0000-0000000000a2', 29, '2026-01-06 12:00:00+00'),
  ('00000000-0000-0000-0000-00000000000b', '00000000-0000-0000-0000-0000000000b2', 12, '2026-01-06 12:00:00+00');

-- ---------------------------------------------------------------------------------------
-- Envelopes. Toolkit, risk and read_only are copied from the catalog as enqueue does.
insert into public.outbox (id, tenant_id, tool_slug, toolkit, arguments, connected_account_id,
                           risk, read_only, external_id, trust_context, metadata, status,
                           attempts, next_run_at, last_error, lease_token, lease_expires_at,
                           claimed_by, result, outcome, created_at, completed_at)
select e.id::uuid, e.tenant_id::uuid, e.tool_slug, c.toolkit, e.arguments::jsonb, e.account,
       c.risk, c.read_only, e.external_id, e.trust::jsonb, e.metadata::jsonb, e.status,
       e.attempts, e.next_run_at::timestamptz, e.last_error, e.lease_token::uuid,
       e.lease_expires_at::timestamptz, e.claimed_by, e.result::jsonb, e.outcome,
       e.created_at::timestamptz, e.completed_at::timestamptz
from (values
  ('a0000000-0001-0000-0000-000000000001', '00000000-0000-0000-0000-00000000000a', 'GITHUB_LIST_ISSUES',
   '{"owner": "acme", "repo": "support", "state": "open"}', 'ca_acme_github', 'a-list-issues-0107',
   '{"score": 0.95, "evidence": []}', '{"source": "trickle-refresh"}', 'pending', 0,
   '2026-01-07 08:00:00+00', null, null, null, null, null, null, '2026-01-07 08:00:00+00', null),
  ('a0000000-0001-0000-0000-000000000002', '00000000-0000-0000-0000-00000000000a', 'GITHUB_GET_ISSUE',
   '{"owner": "acme", "repo": "support", "issue_number": 42}', 'ca_acme_github', 'a-get-issue-42',
   '{"score": 0.9, "evidence": []}', '{"source": "agent"}', 'succeeded', 1,
   '2026-01-06 09:00:00+00', null, null, null, 'outbox-drain/1',
   '{"data": {"number": 42, "title": "Login fails with SSO", "state": "open"}, "successful": true}',
   'success', '2026-01-06 09:00:00+00', '2026-01-06 09:00:02+00'),
  ('a0000000-0001-0000-0000-000000000003', '00000000-0000-0000-0000-00000000000a', 'GMAIL_SEND_EMAIL',
   '{"recipient_email": "customer@example.com", "subject": "Re: Login fails with SSO", "body": "We are on it."}',
   'ca_acme_gmail', 'a-reply-42',
   '{"score": 0.42, "evidence": ["a0000000-0006-0000-0000-000000000001"]}',
   '{"source": "agent", "proposal_summary": "Reply to the customer of issue 42"}', 'needs_approval', 0,
   '2026-01-06 09:05:00+00', null, null, null, null, null, null, '2026-01-06 09:05:00+00', null),
  ('a0000000-0001-0000-0000-000000000004', '00000000-0000-0000-0000-00000000000a', 'SLACK_SEND_MESSAGE',
   '{"channel": "#support", "text": "Issue 42 triaged."}', 'ca_acme_slack', 'a-slack-42',
   '{"score": 0.88, "evidence": ["a0000000-0006-0000-0000-000000000001"]}', '{"source": "agent"}',
   'retry', 1, '2026-01-07 09:10:00+00', 'HTTP 503 from provider', null, null, null, null,
   'http_503', '2026-01-06 09:06:00+00', null),
  ('a0000000-0001-0000-0000-000000000005', '00000000-0000-0000-0000-00000000000a', 'GITHUB_LIST_PULL_REQUESTS',
   '{"owner": "acme", "repo": "support"}', 'ca_acme_github', 'a-list-prs-0106',
   '{"score": 0.95, "evidence": []}', '{"source": "trickle-refresh"}', 'running', 1,
   '2026-01-06 12:00:00+00', null, 'a0000000-1ea5-0000-0000-000000000005',
   '2026-01-06 12:05:00+00', 'outbox-drain/5', null, null, '2026-01-06 11:59:00+00', null),
  ('a0000000-0001-0000-0000-000000000006', '00000000-0000-0000-0000-00000000000a', 'SLACK_LIST_CHANNELS',
   '{"limit": 100}', 'ca_acme_slack', 'a-list-channels-0106',
   '{"score": 0.95, "evidence": []}', '{"source": "trickle-refresh", "deferred_by": "quiet_hours"}',
   'deferred', 0, '2026-01-07 07:00:00+01', null, null, null, null, null, null,
   '2026-01-06 22:30:00+01', null),
  ('a0000000-0001-0000-0000-000000000007', '00000000-0000-0000-0000-00000000000a', 'GITHUB_CREATE_ISSUE_COMMENT',
   '{"owner": "acme", "repo": "support", "issue_number": 42, "body": "Duplicate of #41."}',
   'ca_acme_github', 'a-comment-42', '{"score": 0.8, "evidence": []}', '{"source": "agent"}',
   'conflict', 1, '2026-01-06 10:00:00+00', 'HTTP 409: the issue is locked', null, null,
   'outbox-drain/2', null, 'http_409', '2026-01-06 10:00:00+00', '2026-01-06 10:00:01+00'),
  ('a0000000-0001-0000-0000-000000000008', '00000000-0000-0000-0000-00000000000a', 'GITHUB_DELETE_REPOSITORY',
   '{"owner": "acme", "repo": "old-prototype"}', 'ca_acme_github', 'a-delete-prototype',
   '{"score": 0.97, "evidence": []}', '{"source": "agent"}', 'succeeded', 1,
   '2026-01-05 15:00:00+00', null, null, null, 'outbox-drain/1', '{"data": {}, "successful": true}',
   'success', '2026-01-05 14:00:00+00', '2026-01-05 15:00:03+00'),
  ('a0000000-0001-0000-0000-000000000009', '00000000-0000-0000-0000-00000000000a', 'GMAIL_MOVE_TO_TRASH',
   '{"message_id": "18c0ffee"}', 'ca_acme_gmail', 'a-trash-18c0ffee',
   '{"score": 0.6, "evidence": []}', '{"source": "agent"}', 'rejected', 0,
   '2026-01-05 16:00:00+00', null, null, null, null, null, null, '2026-01-05 16:00:00+00',
   '2026-01-05 16:30:00+00'),
  ('a0000000-0001-0000-0000-000000000010', '00000000-0000-0000-0000-00000000000a', 'GMAIL_SEND_EMAIL',
   '{"recipient_email": "ops@example.com", "subject": "Weekly digest", "body": "…"}',
   'ca_acme_gmail', 'a-digest-0105', '{"score": 0.85, "evidence": []}', '{"source": "agent"}',
   'unknown_outcome', 1, '2026-01-05 17:00:00+00', 'timeout after 30 s', null, null,
   'outbox-drain/3', null, 'timeout', '2026-01-05 17:00:00+00', '2026-01-05 17:00:30+00'),
  ('b0000000-0001-0000-0000-000000000001', '00000000-0000-0000-0000-00000000000b', 'SLACK_FETCH_CONVERSATION_HISTORY',
   '{"channel": "C0RELEASES", "limit": 50}', 'ca_beta_slack', 'b-history-0107',
   '{"score": 0.95, "evidence": []}', '{"source": "trickle-refresh"}', 'pending', 0,
   '2026-01-07 08:00:00+00', null, null, null, null, null, null, '2026-01-07 08:00:00+00', null),
  ('b0000000-0001-0000-0000-000000000002', '00000000-0000-0000-0000-00000000000b', 'GITHUB_LIST_ISSUES',
   '{"owner": "beta-labs", "repo": "engine"}', 'ca_beta_github', 'b-list-issues-0106',
   '{"score": 0.95, "evidence": []}', '{"source": "trickle-refresh"}', 'succeeded', 1,
   '2026-01-06 08:00:00+00', null, null, null, 'outbox-drain/4',
   '{"data": {"issues": [{"number": 7, "title": "Crash on start", "state": "open"}]}, "successful": true}',
   'success', '2026-01-06 08:00:00+00', '2026-01-06 08:00:01+00'),
  ('b0000000-0001-0000-0000-000000000003', '00000000-0000-0000-0000-00000000000b', 'SLACK_DELETE_A_MESSAGE',
   '{"channel": "C0RELEASES", "ts": "1767600000.000100"}', 'ca_beta_slack', 'b-delete-msg',
   '{"score": 0.5, "evidence": []}', '{"source": "agent", "proposal_summary": "Delete a duplicate release note"}',
   'needs_approval', 0, '2026-01-06 09:00:00+00', null, null, null, null, null, null,
   '2026-01-06 09:00:00+00', null),
  ('b0000000-0001-0000-0000-000000000004', '00000000-0000-0000-0000-00000000000b', 'SLACK_SEND_MESSAGE',
   '{"channel": "C0RELEASES", "text": "Release 1.4 is out."}', 'ca_beta_slack', 'b-release-1.4',
   '{"score": 0.65, "evidence": ["b0000000-0006-0000-0000-000000000001"]}', '{"source": "agent"}',
   'succeeded', 1, '2026-01-05 16:00:00+00', null, null, null, 'outbox-drain/1',
   '{"data": {"ts": "1767628800.000200"}, "successful": true}', 'success',
   '2026-01-05 15:00:00+00', '2026-01-05 16:00:01+00')
) as e (id, tenant_id, tool_slug, arguments, account, external_id, trust, metadata, status,
        attempts, next_run_at, last_error, lease_token, lease_expires_at, claimed_by, result,
        outcome, created_at, completed_at)
join public.tool_catalog c
  on c.tenant_id = e.tenant_id::uuid and c.tool_slug = e.tool_slug and c.is_current;

insert into public.outbox_dlq (id, tenant_id, tool_slug, toolkit, arguments,
                               connected_account_id, risk, read_only, external_id,
                               trust_context, metadata, status, attempts, next_run_at,
                               last_error, outcome, created_at, moved_at, reason) values
  ('a0000000-0002-0000-0000-000000000001', '00000000-0000-0000-0000-00000000000a',
   'SLACK_SEND_MESSAGE', 'slack', '{"channel": "#archived", "text": "Hello"}', 'ca_acme_slack',
   'medium', false, 'a-slack-archived', '{"score": 0.9, "evidence": []}', '{"source": "agent"}',
   'retry', 1, '2026-01-05 10:00:00+00', 'channel_not_found (non-retryable)', 'http_404',
   '2026-01-05 10:00:00+00', '2026-01-05 10:00:02+00', 'non_retryable'),
  ('b0000000-0002-0000-0000-000000000001', '00000000-0000-0000-0000-00000000000b',
   'GITHUB_CREATE_ISSUE', 'github', '{"owner": "beta-labs", "repo": "engine", "title": "Flaky test"}',
   'ca_beta_github', 'medium', false, 'b-issue-flaky', '{"score": 0.8, "evidence": []}',
   '{"source": "agent"}', 'retry', 3, '2026-01-05 11:00:00+00', 'HTTP 502 from provider',
   'http_502', '2026-01-05 10:00:00+00', '2026-01-05 11:00:00+00', 'max_attempts');

-- ---------------------------------------------------------------------------------------
-- Decisions.
insert into public.approvals (id, tenant_id, envelope_id, reviewer_id, decision, reason,
                              proposal_summary, created_at) values
  ('a0000000-0003-0000-0000-000000000001', '00000000-0000-0000-0000-00000000000a',
   'a0000000-0001-0000-0000-000000000008', '00000000-0000-0000-0000-0000000000a1', 'approved',
   'Prototype repository is archived and unused.', 'Delete the repository acme/old-prototype',
   '2026-01-05 14:30:00+00'),
  ('a0000000-0003-0000-0000-000000000002', '00000000-0000-0000-0000-00000000000a',
   'a0000000-0001-0000-0000-000000000009', '00000000-0000-0000-0000-0000000000a1', 'rejected',
   'That message is a customer contract; keep it.', 'Move email 18c0ffee to the trash',
   '2026-01-05 16:30:00+00'),
  ('b0000000-0003-0000-0000-000000000001', '00000000-0000-0000-0000-00000000000b',
   'b0000000-0001-0000-0000-000000000004', '00000000-0000-0000-0000-0000000000b1', 'approved',
   null, 'Announce release 1.4 in #releases', '2026-01-05 15:30:00+00');

insert into public.grades (id, tenant_id, approval_id, envelope_id, grader_id, score, rubric,
                           note, created_at) values
  ('a0000000-0004-0000-0000-000000000001', '00000000-0000-0000-0000-00000000000a',
   'a0000000-0003-0000-0000-000000000001', 'a0000000-0001-0000-0000-000000000008',
   '00000000-0000-0000-0000-0000000000a1', 1, 'outcome', 'Clean deletion.',
   '2026-01-05 16:00:00+00'),
  ('b0000000-0004-0000-0000-000000000001', '00000000-0000-0000-0000-00000000000b',
   'b0000000-0003-0000-0000-000000000001', 'b0000000-0001-0000-0000-000000000004',
   '00000000-0000-0000-0000-0000000000b1', 0.8, 'tone', 'Fine, a bit terse.',
   '2026-01-05 17:00:00+00');

insert into public.edits (id, tenant_id, envelope_id, editor_id, before, after, reason,
                          created_at) values
  ('a0000000-0005-0000-0000-000000000001', '00000000-0000-0000-0000-00000000000a',
   'a0000000-0001-0000-0000-000000000003', '00000000-0000-0000-0000-0000000000a1',
   '{"body": "We are on it!!!"}', '{"body": "We are on it."}', 'Calmer tone.',
   '2026-01-06 09:10:00+00'),
  ('b0000000-0005-0000-0000-000000000001', '00000000-0000-0000-0000-00000000000b',
   'b0000000-0001-0000-0000-000000000004', '00000000-0000-0000-0000-0000000000b1',
   '{"text": "release 1.4 out"}', '{"text": "Release 1.4 is out."}', 'Capitalisation.',
   '2026-01-05 15:20:00+00');

-- ---------------------------------------------------------------------------------------
-- Evidence and one embedding each (a constant unit vector: real ones come from the
-- reindexer).
insert into public.evidence (id, tenant_id, envelope_id, tool_slug, content, content_text,
                             created_at) values
  ('a0000000-0006-0000-0000-000000000001', '00000000-0000-0000-0000-00000000000a',
   'a0000000-0001-0000-0000-000000000002', 'GITHUB_GET_ISSUE',
   '{"number": 42, "title": "Login fails with SSO", "state": "open"}',
   'Issue 42 (open): Login fails with SSO', '2026-01-06 09:00:02+00'),
  ('b0000000-0006-0000-0000-000000000001', '00000000-0000-0000-0000-00000000000b',
   'b0000000-0001-0000-0000-000000000002', 'GITHUB_LIST_ISSUES',
   '{"issues": [{"number": 7, "title": "Crash on start", "state": "open"}]}',
   'Issue 7 (open): Crash on start', '2026-01-06 08:00:01+00');

insert into public.evidence_embeddings (id, tenant_id, source_type, source_id, chunk, model,
                                        content_hash, content, embedding, metadata) values
  ('a0000000-0007-0000-0000-000000000001', '00000000-0000-0000-0000-00000000000a', 'evidence',
   'a0000000-0006-0000-0000-000000000001', 0, 'gte-small',
   encode(sha256(convert_to('Issue 42 (open): Login fails with SSO', 'UTF8')), 'hex'),
   'Issue 42 (open): Login fails with SSO',
   ('[1' || repeat(',0', 383) || ']')::extensions.vector, '{"tool": "GITHUB_GET_ISSUE"}'),
  ('b0000000-0007-0000-0000-000000000001', '00000000-0000-0000-0000-00000000000b', 'evidence',
   'b0000000-0006-0000-0000-000000000001', 0, 'gte-small',
   encode(sha256(convert_to('Issue 7 (open): Crash on start', 'UTF8')), 'hex'),
   'Issue 7 (open): Crash on start',
   ('[0,1' || repeat(',0', 382) || ']')::extensions.vector, '{"tool": "GITHUB_LIST_ISSUES"}');

-- ---------------------------------------------------------------------------------------
-- Tasks: each user's own, in their tenant.
insert into public.tasks (id, tenant_id, user_id, objective_id, correlation_id, mandate,
                          status, max_ticks, tick, result, error, evidence, created_at) values
  ('a0000000-000b-0000-0000-000000000001', '00000000-0000-0000-0000-00000000000a',
   '00000000-0000-0000-0000-0000000000a1', 'a0000000-0008-0000-0000-000000000001',
   'corr-a1-0001', 'Triage the open support issues', 'completed', 50, 12,
   '{"triaged": 3}', null, '["a0000000-0006-0000-0000-000000000001"]', '2026-01-06 08:55:00+00'),
  ('a0000000-000b-0000-0000-000000000002', '00000000-0000-0000-0000-00000000000a',
   '00000000-0000-0000-0000-0000000000a1', 'a0000000-0008-0000-0000-000000000002',
   'corr-a1-0002', 'Label this week''s support email', 'in_progress', 50, 4, null, null, '[]',
   '2026-01-07 07:30:00+00'),
  ('a0000000-000b-0000-0000-000000000003', '00000000-0000-0000-0000-00000000000a',
   '00000000-0000-0000-0000-0000000000a2', null, 'corr-a2-0001',
   'Draft a reply to the SSO complaint', 'pending', 20, null, null, null, '[]',
   '2026-01-07 07:45:00+00'),
  ('b0000000-000b-0000-0000-000000000001', '00000000-0000-0000-0000-00000000000b',
   '00000000-0000-0000-0000-0000000000b1', 'b0000000-0008-0000-0000-000000000001',
   'corr-b1-0001', 'Post the release notes for 1.4', 'completed', 30, 7,
   '{"posted": true}', null, '["b0000000-0006-0000-0000-000000000001"]', '2026-01-05 14:50:00+00'),
  ('b0000000-000b-0000-0000-000000000002', '00000000-0000-0000-0000-00000000000b',
   '00000000-0000-0000-0000-0000000000b2', null, 'corr-b2-0001',
   'Summarise the crash reports', 'error', 50, 50, null, 'max_ticks reached', '[]',
   '2026-01-06 10:00:00+00');

-- ---------------------------------------------------------------------------------------
-- audit_log: a few events per tenant and one system-wide, so the RLS matrix covers it
-- (the chain trigger fills seq, prev_hash and hash).
do $$
begin
  insert into public.audit_log (tenant_id, actor_type, actor_id, category, envelope_id,
                                payload, created_at) values
    ('00000000-0000-0000-0000-00000000000a', 'job', 'catalog-sync', 'catalog_sync', null,
     '{"upserted": 23}', '2026-01-05 03:00:04+00'),
    ('00000000-0000-0000-0000-00000000000a', 'user', '00000000-0000-0000-0000-0000000000a1',
     'approval_decided', 'a0000000-0001-0000-0000-000000000008', '{"decision": "approved"}',
     '2026-01-05 14:30:00+00'),
    ('00000000-0000-0000-0000-00000000000a', 'job', 'outbox-drain', 'outbox_succeeded',
     'a0000000-0001-0000-0000-000000000002', '{"attempts": 1}', '2026-01-06 09:00:02+00'),
    ('00000000-0000-0000-0000-00000000000b', 'job', 'catalog-sync', 'catalog_sync', null,
     '{"upserted": 16}', '2026-01-05 03:00:03+00'),
    ('00000000-0000-0000-0000-00000000000b', 'job', 'drift-monitor', 'catalog_drift', null,
     '{"breaking": 1}', '2026-01-06 03:00:02+00'),
    (null, 'system', 'outbox-drain', 'outbox_drain', null, '{"claimed": 12}',
     '2026-01-06 12:00:20+00');
end
$$;
