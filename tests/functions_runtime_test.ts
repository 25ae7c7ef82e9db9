// The functions run where hosted runs them: on the Edge Runtime's Deno. The suite's stack
// serves every real function on it (stack/functions_server.ts); each one booted there,
// answers its health check and a dry run with the service key, and the worker that hosts
// them type-checks on that Deno too.
import assert from "node:assert/strict";
import { join } from "node:path";
import {
  functionsDenoCommand,
  functionsDenoFlags,
  functionsDenoVersion,
} from "../stack/functions_deno.ts";
import { discoverFunctions } from "../stack/functions_server.ts";
import { functionsDir, projectRoot } from "../stack/paths.ts";
import { connect, env } from "./testing.ts";

function need(name: string): string {
  const v = Deno.env.get(name);
  if (!v) throw new Error(`${name} is not set: run the tests through \`deno task test\``);
  return v;
}

interface LogLine {
  function?: string;
  event?: string;
  deno?: string;
  boot_error?: boolean;
}

function parseLines(text: string): LogLine[] {
  return text.split("\n").flatMap((l) => {
    try {
      const v = JSON.parse(l);
      return v && typeof v === "object" ? [v as LogLine] : [];
    } catch {
      return [];
    }
  });
}

Deno.test("every function boots on the Edge Runtime's Deno, answers healthz and a dry run", async () => {
  const slugs = discoverFunctions(functionsDir);
  assert.ok(slugs.length > 0);
  const base = `${need("SUPABASE_URL")}/functions/v1`;
  const key = need("SUPABASE_SERVICE_ROLE_KEY");
  // A tenant of its own with nothing in it, so the dry runs touch no other test's rows.
  const sql = connect(env.adminUrl);
  let tenant: string;
  try {
    [{ id: tenant }] = await sql`
      insert into public.tenants (name) values ('functions runtime test') returning id::text`;
  } finally {
    await sql.end();
  }

  for (const slug of slugs) {
    const health = await fetch(`${base}/${slug}/healthz`);
    const healthBody = await health.json();
    assert.equal(health.status, 200, `${slug} healthz: ${JSON.stringify(healthBody)}`);

    const res = await fetch(`${base}/${slug}`, {
      method: "POST",
      headers: { authorization: `Bearer ${key}`, "content-type": "application/json" },
      body: JSON.stringify({ tenant_id: tenant, dry_run: true, chain: false }),
    });
    const summary = await res.json();
    assert.equal(res.status, 200, `${slug} dry run: ${JSON.stringify(summary)}`);
    assert.equal(summary.job, slug);
    assert.notEqual(summary.status, "failed", `${slug} dry run: ${JSON.stringify(summary)}`);
  }

  // Each worker logs the Deno it runs on when ready.
  const logText = await Deno.readTextFile(need("STACK_FUNCTIONS_LOG"));
  const lines = parseLines(logText);
  for (const slug of slugs) {
    const ready = lines.filter((l) => l.function === slug && l.event === "ready");
    assert.ok(ready.length > 0, `${slug} logged ready`);
    for (const r of ready) {
      assert.equal(r.deno, functionsDenoVersion, `${slug} runs on Deno ${r.deno}`);
      assert.ok(!r.boot_error, `${slug} failed to boot`);
    }
  }
  // That Deno warns when code calls a node API it lacks (and returns a stand-in value). In a
  // whole-suite run tests/ comes last, so this covers what every other test made them do.
  const missing = logText.split("\n").filter((l) => l.includes("Not implemented"));
  assert.deepEqual([...new Set(missing)], [], "node APIs the Edge Runtime's Deno lacks");
});

Deno.test("the function worker type-checks on the Edge Runtime's Deno", async () => {
  const out = await functionsDenoCommand([
    "check",
    ...functionsDenoFlags,
    join(projectRoot, "stack", "function_worker.ts"),
  ]).output();
  const dec = new TextDecoder();
  assert.equal(out.code, 0, dec.decode(out.stdout) + dec.decode(out.stderr));
});
