import assert from "node:assert/strict";
import { decodeJwt } from "jose";
import { mintUserToken } from "./keys.ts";
import { connect, env } from "../tests/testing.ts";

Deno.test("mintUserToken carries the access-token hook's tenant claims", async () => {
  const sql = connect(env.adminUrl);
  try {
    const ownerA = await mintUserToken(sql, "00000000-0000-0000-0000-0000000000a1");
    const claims = decodeJwt(ownerA);
    assert.equal(claims.tenant_id, "00000000-0000-0000-0000-00000000000a");
    assert.equal(claims.tenant_role, "owner");
    assert.equal(claims.aud, "authenticated");
    const loner = decodeJwt(await mintUserToken(sql, "00000000-0000-0000-0000-0000000000c1"));
    assert.equal(loner.tenant_id, undefined);
  } finally {
    await sql.end();
  }
});
