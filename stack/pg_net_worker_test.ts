import assert from "node:assert/strict";
import { startCluster, stopCluster } from "./cluster.ts";
import { PgNetWorker } from "./pg_net_worker.ts";
import { throwawayCluster } from "./cluster.ts";
import { connect, env } from "../tests/testing.ts";

interface Received {
  method: string;
  path: string;
  headers: Headers;
  body: string;
}

/** A loopback endpoint that records what it receives; /slow answers after 2 s. */
function loopback() {
  const received: Received[] = [];
  const server = Deno.serve({ hostname: "127.0.0.1", port: 0, onListen: () => {} }, async (req) => {
    const path = new URL(req.url).pathname;
    received.push({ method: req.method, path, headers: req.headers, body: await req.text() });
    if (path === "/slow") await new Promise((r) => setTimeout(r, 2000));
    return Response.json({ ok: true, path }, { status: 201, headers: { "x-reply": "yes" } });
  });
  const url = `http://127.0.0.1:${(server.addr as Deno.NetAddr).port}`;
  return { received, url, close: () => server.shutdown() };
}

async function waitFor<T>(probe: () => Promise<T | undefined>, ms = 10_000): Promise<T> {
  const until = Date.now() + ms;
  for (;;) {
    const v = await probe();
    if (v !== undefined) return v;
    if (Date.now() > until) throw new Error("timed out waiting");
    await new Promise((r) => setTimeout(r, 50));
  }
}

Deno.test("pg_net: a committed POST is delivered and its response recorded; a rolled-back one is not", async () => {
  const lb = loopback();
  const sql = connect(env.postgresUrl);
  try {
    const rolledBack = await sql.begin(async (tx) => {
      await tx`select net.http_post(${lb.url + "/never"}, '{}'::jsonb)`;
      throw new Error("rollback");
    }).catch((e) => e.message);
    assert.equal(rolledBack, "rollback");

    const [{ id }] = await sql`
      select net.http_post(${lb.url + "/hook"}, '{"hello":"world"}'::jsonb,
                           headers => '{"Content-Type":"application/json","Authorization":"Bearer t"}'::jsonb,
                           params => '{"q":"a b"}'::jsonb) as id`;
    const res = await waitFor(async () =>
      (await sql`select * from net._http_response where id = ${id}`)[0]
    );
    assert.equal(res.status_code, 201);
    assert.equal(res.timed_out, false);
    assert.equal(res.error_msg, null);
    assert.match(res.content_type, /application\/json/);
    assert.equal(res.headers["x-reply"], "yes");
    assert.deepEqual(JSON.parse(res.content), { ok: true, path: "/hook" });

    const got = lb.received.find((r) => r.path === "/hook")!;
    assert.equal(got.method, "POST");
    assert.equal(got.headers.get("authorization"), "Bearer t");
    assert.equal(got.headers.get("content-type"), "application/json");
    assert.deepEqual(JSON.parse(got.body), { hello: "world" });
    assert.ok(!lb.received.some((r) => r.path === "/never"), "rolled back request was sent");
    const [{ n }] = await sql`select count(*)::int as n from net.http_request_queue`;
    assert.equal(n, 0);
  } finally {
    await sql.end();
    await lb.close();
  }
});

Deno.test("pg_net: notifies the worker only on commit", async () => {
  const listener = connect(env.postgresUrl, { max: 1 });
  const sql = connect(env.postgresUrl);
  const seen: string[] = [];
  try {
    await listener.listen("pg_net", (payload) => seen.push(payload));
    let id = "";
    await sql.begin(async (tx) => {
      [{ id }] = await tx`select net.http_get('http://127.0.0.1:9/') as id`;
      await new Promise((r) => setTimeout(r, 300));
      assert.ok(!seen.includes(String(id)), "notified before commit");
    });
    await waitFor(() => Promise.resolve(seen.includes(String(id)) || undefined));
  } finally {
    await listener.end();
    await sql.end();
  }
});

Deno.test("pg_net: a slow endpoint gives timed_out, a refused connection an error_msg", async () => {
  const lb = loopback();
  const sql = connect(env.postgresUrl);
  try {
    const [{ slow }] = await sql`
      select net.http_get(${lb.url + "/slow"}, timeout_milliseconds => 300) as slow`;
    const [{ refused }] = await sql`select net.http_get('http://127.0.0.1:9/') as refused`;
    const a = await waitFor(async () =>
      (await sql`select * from net._http_response where id = ${slow}`)[0]
    );
    assert.equal(a.timed_out, true);
    assert.equal(a.status_code, null);
    assert.match(a.error_msg, /Timeout of 300 ms/);
    const b = await waitFor(async () =>
      (await sql`select * from net._http_response where id = ${refused}`)[0]
    );
    assert.equal(b.timed_out, false);
    assert.ok(b.error_msg, "connection refused is reported");
  } finally {
    await sql.end();
    await lb.close();
  }
});

Deno.test("pg_net: responses older than pg_net.ttl expire", async () => {
  const sql = connect(env.postgresUrl);
  try {
    await sql`insert into net._http_response (id, status_code, created)
              values (-1, 200, now() - interval '7 hours'), (-2, 200, now())`;
    await waitFor(async () =>
      (await sql`select 1 from net._http_response where id = -1`).length === 0 || undefined
    );
    const kept = await sql`select id from net._http_response where id = -2`;
    assert.equal(kept.length, 1);
    await sql`delete from net._http_response where id = -2`;
  } finally {
    await sql.end();
  }
});

Deno.test("pg_net: the worker survives a Postgres restart and sends what was queued", async () => {
  const tc = await throwawayCluster();
  const lb = loopback();
  const worker = new PgNetWorker({ url: tc.adminUrl, pollMs: 200, log: () => {} });
  try {
    await worker.start();
    await stopCluster(tc.cluster);
    await new Promise((r) => setTimeout(r, 500));
    await startCluster(tc.cluster);
    const sql = connect(tc.postgresUrl);
    try {
      const [{ id }] = await sql`select net.http_post(${lb.url + "/after-restart"}) as id`;
      const res = await waitFor(async () =>
        (await sql`select status_code from net._http_response where id = ${id}`)[0]
      );
      assert.equal(res.status_code, 201);
    } finally {
      await sql.end();
    }
  } finally {
    await worker.stop();
    await lb.close();
    await tc.stop();
  }
});
