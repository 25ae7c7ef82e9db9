// Quiet hours name a time zone that two validators must agree on: internal.is_valid_time_zone
// in the guardrails CHECK (Postgres' tz database) and isValidTimeZone in the drain (Intl, the
// Edge Runtime's only one). A zone one accepts and the other refuses made every envelope of
// the tenant be released and claimed again at once.
import assert from "node:assert/strict";
import { isValidTimeZone } from "../supabase/functions/_shared/zoned_time.ts";
import { connect, env } from "./testing.ts";

Deno.test("time zones: SQL and TypeScript agree on every name Postgres knows", async () => {
  const sql = connect(env.postgresUrl);
  try {
    const rows = await sql<{ name: string; valid: boolean }[]>`
      select name, internal.is_valid_time_zone(name) as valid
        from pg_timezone_names order by name`;
    assert.ok(rows.length > 500, "Postgres ships a tz database");
    const disagree = rows.filter((r) => r.valid !== isValidTimeZone(r.name))
      .map((r) => `${r.name}: SQL ${r.valid}, TypeScript ${!r.valid}`);
    assert.deepEqual(disagree, []);
    // The names the issue found: Postgres lists them, Intl refuses them, and so do both checks.
    for (const name of ["posix/Europe/Berlin", "Factory", "localtime", "posixrules"]) {
      assert.equal(isValidTimeZone(name), false, name);
      assert.equal(rows.find((r) => r.name === name)?.valid, false, name);
    }
    for (const name of ["UTC", "Europe/Berlin", "America/New_York"]) {
      assert.equal(isValidTimeZone(name), true, name);
    }
    // The CHECK uses the same rule.
    await assert.rejects(
      sql`update public.guardrails set quiet_hours = '{"timezone": "posix/Europe/Berlin", "windows": []}'
           where tenant_id = '00000000-0000-0000-0000-00000000000a'`,
      /guardrails_quiet_hours_check/,
    );
  } finally {
    await sql.end();
  }
});
