create table internal.audit_chain_anchors (
  chain_key uuid primary key,
  seq bigint not null check (seq >= 0),
  hash text not null,
  anchored_at timestamptz not null default now()
);
alter table internal.audit_chain_anchors enable row level security;
create policy audit_chain_anchors_retention on internal.audit_chain_anchors
  for all to audit_retention using (true) with check (true);
comment on table internal.audit_chain_anchors is
  'Where each chain starts after retention: seq and hash of the newest deleted row. Verification starts from here.';
comment on column internal.audit_chain_anchors.chain_key is 'As internal.audit_chain_heads.chain_key.';
comment on column internal.audit_chain_anchors.seq is 'seq of the newest row retention deleted; the chain resumes at seq + 1.';
comment on column internal.audit_chain_anchors.hash is 'hash of that row: prev_hash of the first remaining row.';
comment on column internal.audit_chain_anchors.anchored_at is 'When retention last moved the anchor.';
grant select, insert, update on internal.audit_chain_anchors to audit_retention;
