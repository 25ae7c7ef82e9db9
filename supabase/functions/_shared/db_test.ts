import assert from "node:assert/strict";
import { decodeJwt } from "jose";
import postgres from "postgres";
import { mintUserToken } from "../../../stack/keys.ts";
import { closeServiceDb, serviceDb, withUserContext } from "./db.ts";

const tenantA = "00000000-0000-0000-0000-00000000000a";
const tenantB = "00000000-0000-0000-0000-00000000000b";

Deno.test("user context: RLS scopes reads to the caller's tenant, through the pooler", async () => {
  const admin = postgres(Deno.env.get("STACK_ADMIN_URL")!, { max: 1, onnotice: () => {} });
  const sql = serviceDb();
  try {
    const claimsA = decodeJwt(await mintUserToken(admin, "00000000-0000-0000-0000-0000000000a2"));
    const seen = await withUserContext(
      sql,
      claimsA,
      (tx) => tx`select distinct tenant_id::text as t from public.outbox order by 1`,
    );
    assert.deepEqual(seen.map((r) => r.t), [tenantA]);
    // B's rows exist: the service context sees both tenants (and any a test made).
    const all = await sql`select distinct tenant_id::text as t from public.outbox order by 1`;
    assert.ok([tenantA, tenantB].every((t) => all.some((r) => r.t === t)));
    // The role and claims were transaction-local: the pooled connection is clean again.
    const [after] =
      await sql`select current_user as u, current_setting('request.jwt.claims', true) as c`;
    assert.equal(after.u, "postgres");
    assert.ok(!after.c, "claims do not leak into the next transaction");
    // A member cannot change configuration through the same path.
    const denied = await withUserContext(
      sql,
      claimsA,
      (tx) =>
        tx`update public.guardrails set trust_threshold = 0.1 where tenant_id = ${tenantA} returning 1`,
    );
    assert.equal(denied.length, 0);
  } finally {
    await admin.end();
    await closeServiceDb();
  }
});
