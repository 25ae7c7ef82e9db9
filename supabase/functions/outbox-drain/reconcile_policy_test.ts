import assert from "node:assert/strict";
import fc from "fast-check";
import type { CallResult } from "../_shared/execution_policy.ts";
import {
  buildReadArguments,
  containsToken,
  judgeRead,
  nextReadDelay,
  planRead,
  type ReadbackDeclaration,
  readbackDeclaration,
  type ReconcileFacts,
  resolvePointer,
} from "./reconcile_policy.ts";

const DECL = {
  tool_slug: "GITHUB_CREATE_ISSUE",
  read_tool_slug: "GITHUB_LIST_ISSUES",
  read_arguments: {
    owner: { $ref: "/arguments/owner" },
    repo: { $ref: "/arguments/repo" },
    state: "all",
  },
  match: {
    items: "/data/issues",
    field: "/body",
    value: { $ref: "/external_id" },
    mode: "contains" as const,
  },
  marker_argument: "/body",
  authoritative: true,
  settle_delay_ms: 2000,
  max_attempts: 5,
};
const decl = (over: Partial<ReadbackDeclaration> = {}) =>
  readbackDeclaration.parse({ ...DECL, ...over });

function facts(over: Partial<ReconcileFacts> = {}): ReconcileFacts {
  return {
    view: {
      id: "e1",
      external_id: "ref-42",
      arguments: { owner: "acme", repo: "support", title: "t", body: "hello\n\nref: ref-42" },
    },
    tenantId: "t1",
    toolkit: "github",
    readback: DECL,
    readVersion: "20250909_00",
    readToolkit: "github",
    readReadOnly: true,
    accountExternalId: "ca_1",
    accountOwned: true,
    ...over,
  };
}

const ok = (body: unknown) => ({ call: { kind: "response", status: 200 } as CallResult, body });
const issues = (...bodies: (string | null)[]) =>
  ok({ data: { issues: bodies.map((body, i) => ({ number: i + 1, body })) }, successful: true });

Deno.test("planRead: the read with the envelope's fields in place", () => {
  const p = planRead(facts());
  assert.equal(p.kind, "read");
  if (p.kind !== "read") return;
  assert.deepEqual(p.request, {
    slug: "GITHUB_LIST_ISSUES",
    arguments: { owner: "acme", repo: "support", state: "all" },
    version: "20250909_00",
    connectedAccountId: "ca_1",
    userId: "t1",
  });
  assert.equal(p.value, "ref-42");
});

Deno.test("planRead: no read when the facts forbid one, with the reason", () => {
  const cases: [string, Partial<ReconcileFacts>, RegExp][] = [
    [
      "bad declaration",
      { readback: { ...DECL, match: { ...DECL.match, mode: "like" } } },
      /unusable: match.mode/,
    ],
    [
      "eval-ish value",
      { readback: { ...DECL, match: { ...DECL.match, value: "ref-42" } } },
      /unusable/,
    ],
    [
      "no marker argument",
      { readback: { ...DECL, marker_argument: null } },
      /marker_argument is required/,
    ],
    ["read not in the catalog", { readVersion: null }, /not in the tenant's catalog/],
    ["read is a write", { readReadOnly: false }, /not read_only/],
    ["unpinned read", { readVersion: "latest" }, /no pinned version/],
    ["other toolkit", { readToolkit: "slack" }, /toolkit slack/],
    ["account unchecked", { accountOwned: null }, /owner is not confirmed/],
    ["account not owned", { accountOwned: false }, /owner is not confirmed/],
    ["no external id", { view: { ...facts().view, external_id: null } }, /no \/external_id/],
    [
      "marker not carried",
      { view: { ...facts().view, arguments: { owner: "acme", repo: "support", body: "ref-421" } } },
      /\/body does not carry \/external_id/,
    ],
    [
      "read argument missing",
      { view: { ...facts().view, arguments: { owner: "acme", body: "ref-42" } } },
      /read_arguments\/repo refers to \/arguments\/repo, which the envelope lacks/,
    ],
  ];
  for (const [name, over, reason] of cases) {
    const p = planRead(facts(over));
    assert.equal(p.kind, "skip", name);
    if (p.kind === "skip") {
      assert.match(p.reason, reason, name);
      assert.doesNotMatch(p.reason, /hello|acme/, `${name}: no argument value in the reason`);
    }
  }
  // No account at all: Composio uses the user's own, as the drain sends it.
  const none = planRead(facts({ accountExternalId: null, accountOwned: null }));
  assert.equal(none.kind, "read");
});

Deno.test("judgeRead: each branch", () => {
  const d = decl();
  assert.deepEqual(judgeRead(d, "ref-42", issues("x", "a ref-42 b"), false), {
    kind: "found",
    item: { number: 2, body: "a ref-42 b" },
  });
  assert.equal(judgeRead(d, "ref-42", issues("x"), true).kind, "absent");
  assert.match(
    (judgeRead(d, "ref-42", issues("x"), false) as { reason: string }).reason,
    /not visible yet/,
    "sees nothing before the delay: no retry",
  );
  assert.match(
    (judgeRead(decl({ authoritative: false }), "ref-42", issues(), true) as { reason: string })
      .reason,
    /not authoritative/,
  );
  assert.match(
    (judgeRead(d, "ref-42", issues("ref-42", "ref-42!"), true) as { reason: string }).reason,
    /2 items match/,
  );
  assert.equal(judgeRead(d, "ref-42", issues("ref-421", "xref-42"), true).kind, "absent");
  assert.match(
    (judgeRead(d, "ref-42", ok({ data: {} }), true) as { reason: string }).reason,
    /no list at \/data\/issues/,
  );
  const failed = (call: CallResult) => judgeRead(d, "ref-42", { call, body: null }, true);
  assert.equal(failed({ kind: "timeout" }).kind, "inconclusive");
  assert.equal(failed({ kind: "response", status: 500 }).kind, "inconclusive");
  assert.equal(failed({ kind: "response", status: 200, successful: false }).kind, "inconclusive");
  assert.equal(failed({ kind: "response", status: 404 }).kind, "inconclusive");
  assert.equal(failed({ kind: "response", status: 401 }).kind, "halt");
  const equals = decl({
    match: { items: "/data/issues", field: "/number", value: { $ref: "/id" }, mode: "equals" },
    marker_argument: "/n",
  });
  assert.equal(judgeRead(equals, "2", issues("a", "b"), true).kind, "found");
});

// The safety rule: whatever the answer, "absent" (which re-runs a write) only from an
// authoritative, successful read after the settle delay whose list holds no match.
Deno.test("judgeRead: absent only from an authoritative read after the delay that lists no match", () => {
  const call = fc.oneof(
    fc.record({
      kind: fc.constant("response" as const),
      status: fc.constantFrom(200, 201, 404, 429, 500, 503),
      successful: fc.option(fc.boolean(), { nil: undefined }),
    }),
    fc.constantFrom<CallResult>({ kind: "timeout" }, { kind: "connection_refused" }, {
      kind: "lease_lost",
    }),
  );
  const body = fc.oneof(
    fc.anything(),
    fc.array(fc.oneof(fc.constant("ref-42"), fc.string(), fc.constant(null)))
      .map((bs) => ({ data: { issues: bs.map((b) => ({ body: b })) } })),
  );
  fc.assert(fc.property(call, body, fc.boolean(), fc.boolean(), (c, b, auth, past) => {
    const v = judgeRead(
      decl({ authoritative: auth }),
      "ref-42",
      { call: c as CallResult, body: b },
      past,
    );
    if (v.kind !== "absent") return;
    assert.ok(auth && past);
    assert.ok(c.kind === "response" && c.status < 300 && c.successful !== false);
    const list = resolvePointer(b, "/data/issues");
    assert.ok(list.found && Array.isArray(list.value));
    assert.ok(
      !(list.value as { body: unknown }[]).some((i) =>
        typeof i?.body === "string" && containsToken(i.body, "ref-42")
      ),
    );
  }));
});

Deno.test("containsToken: a whole token only", () => {
  fc.assert(fc.property(
    fc.stringMatching(/^[A-Za-z0-9][A-Za-z0-9_-]{0,20}$/),
    fc.stringMatching(/^[ \n:(#]{0,3}$/),
    fc.stringMatching(/^[ \n:)!,]{0,3}$/),
    fc.stringMatching(/^[A-Za-z0-9_.-]$/),
    (v, pre, post, glued) => {
      assert.ok(containsToken(`${pre}${v}${post}`, v));
      assert.ok(!containsToken(`${pre}${v}${glued}${post}`, v));
      assert.ok(!containsToken(`${pre}${glued}${v}${post}`, v));
    },
  ));
  assert.ok(containsToken("a k1 b k12", "k1"), "found past an occurrence that is not one");
  assert.ok(!containsToken("anything", ""));
});

Deno.test("pointers: escaped keys and array indexes resolve; a reference never evaluates", () => {
  fc.assert(fc.property(fc.string(), fc.jsonValue(), (key, value) => {
    const p = `/a/0/${key.replaceAll("~", "~0").replaceAll("/", "~1")}`;
    assert.deepEqual(resolvePointer({ a: [{ [key]: value }] }, p), { found: true, value });
  }));
  assert.deepEqual(resolvePointer({ a: [1] }, "/a/01"), { found: false });
  assert.deepEqual(resolvePointer({ a: {} }, "/a/toString"), { found: false }, "own keys only");
  assert.deepEqual(resolvePointer({}, "a"), { found: false });
  const view = { id: "e1", external_id: null, arguments: { q: "x" } };
  assert.deepEqual(
    buildReadArguments({ a: [{ $ref: "/arguments/q" }, 1], b: { c: "lit" } }, view),
    {
      ok: true,
      args: { a: ["x", 1], b: { c: "lit" } },
    },
  );
  assert.deepEqual(buildReadArguments({ a: { $ref: "/arguments/q", also: 1 } }, view), {
    ok: false,
    problem: "read_arguments/a is not a reference",
  });
  assert.equal(buildReadArguments({ a: { $ref: "/external_id" } }, view).ok, false);
});

Deno.test("nextReadDelay: backed off, never zero, never past the settle delay's end", () => {
  fc.assert(fc.property(
    fc.integer({ min: 1, max: 40 }),
    fc.integer({ min: -10_000, max: 10_000_000 }),
    fc.double({ min: 0, max: 1, maxExcluded: true, noNaN: true }),
    (read, toDeadline, r) => {
      const d = nextReadDelay(read, toDeadline, () => r);
      assert.ok(Number.isInteger(d) && d >= 0);
      if (toDeadline > 0) assert.ok(d <= toDeadline);
      else assert.ok(d >= 2_500 && d <= 15 * 60_000);
    },
  ));
});
