// Logs never carry secrets or tool arguments: run every function, then grep everything the
// functions logged for the secret values the stack holds and the seeded tool arguments.
import assert from "node:assert/strict";
import { discoverFunctions } from "../stack/functions_server.ts";
import { functionsDir } from "../stack/paths.ts";
import { connect, env } from "./testing.ts";

/** String leaves of a JSON value long enough to be recognisable in a log. */
function leaves(v: unknown, out: string[] = []): string[] {
  if (typeof v === "string" && v.length >= 8) out.push(v);
  else if (Array.isArray(v)) v.forEach((x) => leaves(x, out));
  else if (v && typeof v === "object") Object.values(v).forEach((x) => leaves(x, out));
  return out;
}

Deno.test("function logs hold no secrets and no tool arguments", async () => {
  const slugs = discoverFunctions(functionsDir);
  assert.ok(slugs.length > 0, "there are functions to run");
  const base = `${Deno.env.get("SUPABASE_URL")}/functions/v1`;
  const key = Deno.env.get("SUPABASE_SERVICE_ROLE_KEY")!;
  for (const slug of slugs) {
    // A real run (dry run where the job supports it is not enough: it must touch data),
    // a bad body and a wrong key, so error paths log too.
    for (
      const [auth, body] of [[key, "{}"], [key, '{"nope": 1}'], ["wrong-key", "{}"]] as const
    ) {
      const res = await fetch(`${base}/${slug}`, {
        method: "POST",
        headers: { authorization: `Bearer ${auth}`, "content-type": "application/json" },
        body,
      });
      await res.body?.cancel();
    }
  }
  // Let the log lines of the last requests land.
  await new Promise((r) => setTimeout(r, 300));
  const logs = await Deno.readTextFile(Deno.env.get("STACK_FUNCTIONS_LOG")!);
  assert.ok(logs.includes('"event":"request"'), "the functions logged their requests");

  const sql = connect(env.adminUrl);
  try {
    const vault = await sql`select decrypted_secret from vault.decrypted_secrets
                            where name <> 'project_url'`;
    const args = await sql`select arguments from public.outbox
                           union all select arguments from public.outbox_dlq`;
    const secrets = [
      key,
      Deno.env.get("SUPABASE_JWT_SECRET")!,
      Deno.env.get("COMPOSIO_API_KEY")!,
      ...Object.values(JSON.parse(Deno.env.get("SUPABASE_SECRET_KEYS")!)) as string[],
      ...vault.map((r) => r.decrypted_secret as string),
    ];
    for (const s of secrets) assert.ok(!logs.includes(s), `a secret appears in the logs`);
    const argValues = args.flatMap((r) => leaves(r.arguments));
    assert.ok(argValues.length > 0, "the seed has tool arguments to look for");
    for (const a of argValues) {
      assert.ok(!logs.includes(a), `a tool argument appears in the logs: ${a.slice(0, 12)}…`);
    }
  } finally {
    await sql.end();
  }
});
