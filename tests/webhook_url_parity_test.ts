// The webhook URL policy is written twice: in SQL (internal.webhook_url_problem, the
// guardrails CHECK) and in TypeScript (_shared/webhook_url.ts, checked again at delivery).
// Both must give the same answer, message included, for any text: fixed cases of every
// refused class, and generated URLs built from the characters the tricky forms are made of.
import assert from "node:assert/strict";
import fc from "fast-check";
import { connect, env } from "./testing.ts";
import { webhookUrlProblem } from "../supabase/functions/_shared/webhook_url.ts";

const fixed = [
  "https://hooks.example.com/drift",
  "http://hooks.example.com/drift",
  "https://u:p@hooks.example.com/",
  "https://hooks.example.com\\@127.0.0.1/",
  "https://127.0.0.1:54330/_sandbox/reset",
  "https://169.254.169.254/latest/meta-data/",
  "https://2130706433/",
  "https://0x7f.1/",
  "https://0177.0.0.1/",
  "https://[::1]/",
  "https://[::ffff:127.0.0.1]/",
  "https://[::ffff:7f00:1]/",
  "https://[::ffff:8.8.8.8]/",
  "https://[1:2:3:4::5:6:7:8]/",
  "https://[::1.2.3]/",
  "https://[::01.2.3.4]/",
  "https://[1::]/",
  "https://[::]/",
  "https://[1:2:3:4:5:6:7::]/",
  "https://[::2:3:4:5:6:7:8]/",
  "https://[1:2:3:4:5:6:1.2.3.4]/",
  "https://[1:2:3:4:5:6:7:1.2.3.4]/",
  "https://[fe80::1%25eth0]/",
  "https://localhost/",
  "https://metadata/",
  "https://metadata.google.internal/",
  "https://hooks.example.com:65535/",
  "https://hooks.example.com:65536/",
  `https://hooks.example.com/${"a".repeat(2030)}`,
  `https://hooks.example.com/${"é".repeat(2030)}`,
  "https://hööks.example.com/",
  "",
];

/** URLs from the characters numeric, bracketed, user-info and dotted forms are made of. */
function generated(n: number): string[] {
  const hostChar = fc.constantFrom(
    ..."0123456789abcdefx.:[]-@%_".split(""),
    "ffff",
    "::",
    "127",
    "0x7f",
    "255",
    ".localhost",
    ".internal",
    "localhost",
    "example",
    ".com",
  );
  const url = fc.tuple(
    fc.constantFrom("https://", "HTTPS://", "http://", "https:/", "ftp://", ""),
    fc.array(hostChar, { maxLength: 12 }).map((cs) => cs.join("")),
    fc.constantFrom("", ":443", ":0", ":65536", ":08", ":", "::1"),
    fc.constantFrom("", "/", "/x?y#z", "?q", "#f", "/a b", "/\\"),
  ).map((parts) => parts.join(""));
  const printable = fc.string({
    unit: fc.integer({ min: 0x20, max: 0x7e }).map((c) => String.fromCharCode(c)),
    maxLength: 30,
  })
    .map((s) => `https://${s}`);
  const byte = fc.integer({ min: 0, max: 255 });
  const ipv4 = fc.tuple(byte, byte, byte, byte).map((b) => `https://${b.join(".")}/`);
  const group = fc.oneof(fc.constant(0), fc.integer({ min: 0, max: 0xffff }));
  const ipv6 = fc.array(group, { minLength: 8, maxLength: 8 }).map((g) =>
    `https://[${g.map((x) => x.toString(16)).join(":")}]:8443/`
  );
  const label = fc.stringMatching(/^[a-z0-9-]{1,8}$/);
  const name = fc.tuple(
    fc.array(label, { minLength: 0, maxLength: 3 }),
    fc.constantFrom("com", "io", "localhost", "internal", "local", "1", "0x1", "x1", "1x"),
  ).map(([ls, tld]) => `https://${[...ls, tld].join(".")}/hook`);
  return fc.sample(fc.oneof(url, url, printable, ipv4, ipv6, name), {
    numRuns: n,
    seed: 20261204,
  });
}

Deno.test("webhook URL policy: SQL and TypeScript agree on every URL, message included", async () => {
  const sql = connect(env.postgresUrl, { max: 1 });
  try {
    const urls = [...new Set([...fixed, ...generated(4000)])];
    const rows = await sql<{ url: string; problem: string | null }[]>`
      select u as url, internal.webhook_url_problem(u) as problem
        from unnest(${urls}::text[]) u`;
    const differ = rows.filter((r) => r.problem !== webhookUrlProblem(r.url))
      .map((r) => `${JSON.stringify(r.url)}: SQL ${r.problem} vs TS ${webhookUrlProblem(r.url)}`);
    assert.deepEqual(differ.slice(0, 20), []);
    // The sample reaches both sides of the policy.
    const accepted = rows.filter((r) => r.problem === null).length;
    assert.ok(accepted > 200 && accepted < rows.length - 1000, `${accepted} accepted`);
  } finally {
    await sql.end();
  }
});
