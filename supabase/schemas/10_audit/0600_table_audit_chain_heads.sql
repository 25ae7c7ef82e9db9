-- Machinery of the hash chain: internal, closed to the API roles.
create table internal.audit_chain_heads (
  chain_key uuid primary key,
  seq bigint not null check (seq >= 0),
  hash text not null,
  moved_at timestamptz not null default now()
);
alter table internal.audit_chain_heads enable row level security;
comment on table internal.audit_chain_heads is
  'Head of each audit_log hash chain: the last seq and hash. The chain trigger takes the row FOR UPDATE, so inserts on one chain are serialised. RLS on, no policies: only its owner (the chain trigger) reaches it.';
comment on column internal.audit_chain_heads.chain_key is 'tenant_id, or 00000000-0000-0000-0000-000000000000 for system-wide rows (NULL tenant).';
comment on column internal.audit_chain_heads.seq is 'seq of the newest row of the chain (0: none yet).';
comment on column internal.audit_chain_heads.hash is 'hash of the newest row (64 zeros: none yet).';
comment on column internal.audit_chain_heads.moved_at is 'When the head last moved.';
