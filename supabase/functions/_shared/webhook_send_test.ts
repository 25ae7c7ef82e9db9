// The sender against real loopback listeners (reached through the test allow-list, or
// through a connect that stands in for the network), with a resolver the test controls and
// TLS certificates made here for a test CA.
import assert from "node:assert/strict";
import { join } from "node:path";
import { networkDeps, type SendDeps, sendWebhook } from "./webhook_send.ts";

interface Seen {
  method: string;
  path: string;
  headers: Headers;
  body: string;
}

function receiver(
  answer: (req: Request) => Response = () => new Response("ok"),
  tls?: { cert: string; key: string },
) {
  const seen: Seen[] = [];
  const server = Deno.serve(
    { hostname: "127.0.0.1", port: 0, onListen: () => {}, ...tls },
    async (req) => {
      const u = new URL(req.url);
      seen.push({
        method: req.method,
        path: u.pathname + u.search,
        headers: req.headers,
        body: await req.text(),
      });
      return answer(req);
    },
  );
  return { seen, port: server.addr.port, stop: () => server.shutdown() };
}

const body = JSON.stringify({ event: "catalog_drift.breaking", breaking_count: 1 });
const none = new Set<string>();

/** A CA and a leaf certificate per name, made with openssl (Debian's ca-certificates needs it). */
async function makeCerts(
  names: string[],
): Promise<{ ca: string; leaf: Record<string, { cert: string; key: string }> }> {
  const dir = await Deno.makeTempDir({ prefix: "webhook-tls-" });
  const openssl = async (...args: string[]) => {
    const out = await new Deno.Command("openssl", {
      args,
      cwd: dir,
      stdout: "null",
      stderr: "piped",
    })
      .output();
    if (!out.success) {
      throw new Error(`openssl ${args[0]}: ${new TextDecoder().decode(out.stderr)}`);
    }
  };
  try {
    const ec = ["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes"];
    await openssl(
      "req",
      "-x509",
      ...ec,
      "-keyout",
      "ca.key",
      "-out",
      "ca.pem",
      "-days",
      "2",
      "-subj",
      "/CN=webhook test CA",
    );
    const leaf: Record<string, { cert: string; key: string }> = {};
    for (const name of names) {
      await openssl(
        "req",
        ...ec,
        "-keyout",
        `${name}.key`,
        "-out",
        `${name}.csr`,
        "-subj",
        `/CN=${name}`,
      );
      await Deno.writeTextFile(join(dir, `${name}.ext`), `subjectAltName=DNS:${name}\n`);
      await openssl(
        "x509",
        "-req",
        "-in",
        `${name}.csr`,
        "-CA",
        "ca.pem",
        "-CAkey",
        "ca.key",
        "-CAcreateserial",
        "-out",
        `${name}.pem`,
        "-days",
        "2",
        "-extfile",
        `${name}.ext`,
      );
      leaf[name] = {
        cert: await Deno.readTextFile(join(dir, `${name}.pem`)),
        key: await Deno.readTextFile(join(dir, `${name}.key`)),
      };
    }
    return { ca: await Deno.readTextFile(join(dir, "ca.pem")), leaf };
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
}

Deno.test("an allow-listed local receiver gets exactly one POST with the body and headers", async () => {
  const r = receiver();
  try {
    const allow = new Set([`127.0.0.1:${r.port}`]);
    const res = await sendWebhook(`http://127.0.0.1:${r.port}/drift?k=v#frag`, body, {
      allowHosts: allow,
      headers: { "x-webhook-delivery": "42" },
    });
    assert.equal(res.outcome, "delivered", JSON.stringify(res));
    assert.equal(res.outcome === "delivered" && res.address, "127.0.0.1");
    assert.equal(r.seen.length, 1);
    const [s] = r.seen;
    assert.deepEqual([s.method, s.path, s.body], ["POST", "/drift?k=v", body]);
    assert.equal(s.headers.get("host"), `127.0.0.1:${r.port}`);
    assert.equal(s.headers.get("content-type"), "application/json");
    assert.equal(s.headers.get("x-webhook-delivery"), "42");
  } finally {
    await r.stop();
  }
});

Deno.test("refused before any connection: loopback without the allow-list, another port, credentials", async () => {
  const r = receiver();
  try {
    const url = `http://127.0.0.1:${r.port}/drift`;
    for (
      const [u, allow, error] of [
        [url, none, "the URL must use https"],
        [
          `https://127.0.0.1:${r.port}/`,
          none,
          `the URL names host 127.0.0.1, which is not a public address (loopback, 127.0.0.0/8)`,
        ],
        [url, new Set([`127.0.0.1:${r.port + 1}`]), "the URL must use https"],
        [
          `http://u:p@127.0.0.1:${r.port}/`,
          new Set([`127.0.0.1:${r.port}`]),
          "the URL must not carry credentials (user:password@)",
        ],
        [
          `https://[::1]:${r.port}/`,
          none,
          "the URL names host [::1], which is not a public address (loopback, ::1/128)",
        ],
      ] as const
    ) {
      const res = await sendWebhook(u, body, { allowHosts: allow });
      assert.deepEqual({ ...res, ms: 0 }, { outcome: "refused", error, address: null, ms: 0 }, u);
    }
    assert.equal(r.seen.length, 0, "the listener was never reached");
  } finally {
    await r.stop();
  }
});

Deno.test("the receiver's answer: 2xx delivered, 3xx never followed, 4xx failed, 408/429/5xx retried", async () => {
  const target = receiver();
  let status = 200;
  const r = receiver(() =>
    new Response(status === 204 || (status >= 300 && status < 400) ? null : "x", {
      status,
      headers: status >= 300 && status < 400
        ? { location: `http://127.0.0.1:${target.port}/` }
        : {},
    })
  );
  try {
    const allow = new Set([`127.0.0.1:${r.port}`, `127.0.0.1:${target.port}`]);
    const cases: [number, string, string | null][] = [
      [204, "delivered", null],
      [302, "failed", `127.0.0.1 answered 302: redirects are not followed`],
      [307, "failed", `127.0.0.1 answered 307: redirects are not followed`],
      [404, "failed", "127.0.0.1 answered 404"],
      [410, "failed", "127.0.0.1 answered 410"],
      [408, "retry", "127.0.0.1 answered 408"],
      [429, "retry", "127.0.0.1 answered 429"],
      [503, "retry", "127.0.0.1 answered 503"],
    ];
    for (const [s, outcome, error] of cases) {
      status = s;
      const res = await sendWebhook(`http://127.0.0.1:${r.port}/`, body, { allowHosts: allow });
      assert.equal(res.outcome, outcome, String(s));
      assert.equal("error" in res ? res.error : null, error, String(s));
      assert.equal("httpStatus" in res ? res.httpStatus : null, s);
    }
    assert.equal(target.seen.length, 0, "no redirect was followed");
  } finally {
    await r.stop();
    await target.stop();
  }
});

Deno.test("a receiver that never answers is a retry after the deadline; a closed port too", async () => {
  const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const port = (listener.addr as Deno.NetAddr).port;
  const held: Deno.Conn[] = [];
  const accepting = (async () => {
    for await (const c of listener) held.push(c);
  })();
  try {
    const allow = new Set([`127.0.0.1:${port}`]);
    const started = Date.now();
    const res = await sendWebhook(`http://127.0.0.1:${port}/`, body, {
      allowHosts: allow,
      timeoutMs: 300,
    });
    assert.equal(res.outcome, "retry");
    assert.equal("error" in res && res.error, "the request to 127.0.0.1 timed out after 300 ms");
    assert.ok(Date.now() - started < 2000);
  } finally {
    listener.close();
    await accepting.catch(() => {});
    for (const c of held) c.close();
  }
  const closed = await sendWebhook(`http://127.0.0.1:${port}/`, body, {
    allowHosts: new Set([`127.0.0.1:${port}`]),
  });
  assert.equal(closed.outcome, "retry");
  assert.match(
    "error" in closed ? closed.error : "",
    new RegExp(`^connecting to 127\\.0\\.0\\.1:${port} failed: `),
  );
});

/** A resolver that answers from a table, and a connect that records where it was asked to go. */
function fakeNetwork(
  answers: Record<string, { A?: string[]; AAAA?: string[] }>,
  connectTo: number | null,
) {
  const resolved: string[] = [];
  const connected: string[] = [];
  const deps: SendDeps = {
    resolve: (name, type) => {
      resolved.push(`${name} ${type}`);
      const a = answers[name]?.[type];
      return a ? Promise.resolve(a) : Promise.reject(new Deno.errors.NotFound("no records found"));
    },
    connect: (hostname, port) => {
      connected.push(`${hostname}:${port}`);
      if (connectTo === null) return Promise.reject(new Error("unreachable"));
      return Deno.connect({ hostname: "127.0.0.1", port: connectTo });
    },
    startTls: networkDeps.startTls,
  };
  return { deps, resolved, connected };
}

Deno.test("a name is refused when any address it resolves to is not public, before connecting", async () => {
  const cases: [{ A?: string[]; AAAA?: string[] }, string][] = [
    [
      { A: ["93.184.215.14", "10.0.0.7"] },
      "resolves to 10.0.0.7, which is not a public address (private, 10.0.0.0/8)",
    ],
    [
      { A: ["169.254.169.254"] },
      "resolves to 169.254.169.254, which is not a public address (link-local, 169.254.0.0/16)",
    ],
    [
      { A: ["93.184.215.14"], AAAA: ["::1"] },
      "resolves to ::1, which is not a public address (loopback, ::1/128)",
    ],
    [
      { AAAA: ["::ffff:127.0.0.1"] },
      "resolves to ::ffff:127.0.0.1, which is not a public address (IPv4-mapped loopback, 127.0.0.0/8)",
    ],
    [
      { AAAA: ["fd00:ec2::254"] },
      "resolves to fd00:ec2::254, which is not a public address (unique-local, fc00::/7)",
    ],
  ];
  for (const [answer, error] of cases) {
    const net = fakeNetwork({ "hooks.example.com": answer }, null);
    const res = await sendWebhook(
      "https://hooks.example.com/drift",
      body,
      { allowHosts: none },
      net.deps,
    );
    assert.equal(res.outcome, "refused");
    assert.equal("error" in res && res.error, `host hooks.example.com ${error}`);
    assert.deepEqual(net.connected, [], "nothing was connected to");
  }
  const nx = fakeNetwork({}, null);
  const res = await sendWebhook("https://nx.example.com/", body, { allowHosts: none }, nx.deps);
  assert.deepEqual([res.outcome, "error" in res && res.error], [
    "retry",
    "nx.example.com does not resolve",
  ]);
  const broken = fakeNetwork({}, null);
  broken.deps.resolve = () => Promise.reject(new Error("SERVFAIL"));
  const failed = await sendWebhook(
    "https://hooks.example.com/",
    body,
    { allowHosts: none },
    broken.deps,
  );
  assert.deepEqual(
    [failed.outcome, "error" in failed && failed.error],
    ["retry", "resolving hooks.example.com failed: SERVFAIL"],
  );
});

Deno.test("https goes to the checked address, with TLS verified against the URL's name", async () => {
  const { ca, leaf } = await makeCerts(["hooks.example.com", "other.example.com"]);
  const startTls: SendDeps["startTls"] = (conn, hostname) =>
    Deno.startTls(conn as Deno.TcpConn, { hostname, caCerts: [ca] });
  const good = receiver(undefined, leaf["hooks.example.com"]);
  const wrong = receiver(undefined, leaf["other.example.com"]);
  try {
    // Resolved once, to a public address; the socket goes there (standing in for the
    // network, the test's connect reaches the local TLS receiver) and nowhere else.
    const net = fakeNetwork({ "hooks.example.com": { A: ["93.184.215.14"] } }, good.port);
    const res = await sendWebhook(
      `https://hooks.example.com:${good.port}/drift`,
      body,
      { allowHosts: none },
      { ...net.deps, startTls },
    );
    assert.equal(res.outcome, "delivered", JSON.stringify(res));
    assert.deepEqual(net.resolved, ["hooks.example.com A", "hooks.example.com AAAA"]);
    assert.deepEqual(net.connected, [`93.184.215.14:${good.port}`]);
    assert.equal(good.seen.length, 1);
    assert.equal(good.seen[0].headers.get("host"), `hooks.example.com:${good.port}`);
    assert.equal(good.seen[0].body, body);

    // A certificate for another name fails the handshake: nothing is sent.
    const net2 = fakeNetwork({ "hooks.example.com": { A: ["93.184.215.14"] } }, wrong.port);
    const bad = await sendWebhook(
      `https://hooks.example.com:${wrong.port}/drift`,
      body,
      { allowHosts: none },
      { ...net2.deps, startTls },
    );
    assert.equal(bad.outcome, "retry");
    assert.match(
      "error" in bad ? bad.error : "",
      /^TLS with hooks\.example\.com \(93\.184\.215\.14\) failed: .*not ?valid ?for ?name/i,
    );
    assert.equal(wrong.seen.length, 0);

    // The machine's trust store alone does not know the test CA.
    const net3 = fakeNetwork({ "hooks.example.com": { A: ["93.184.215.14"] } }, good.port);
    const untrusted = await sendWebhook(`https://hooks.example.com:${good.port}/`, body, {
      allowHosts: none,
    }, net3.deps);
    assert.equal(untrusted.outcome, "retry");
    assert.equal(good.seen.length, 1);
  } finally {
    await good.stop();
    await wrong.stop();
  }
});
