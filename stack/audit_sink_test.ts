// The local audit export sink: a process of the OS user audit-sink over a folder it owns,
// that creates exports and never replaces or deletes one, in both its protocols; the
// postgres OS user (what the database superuser runs as) cannot touch the files.
import assert from "node:assert/strict";
import { join } from "node:path";
import { asUser, isRoot } from "./command.ts";
import { auditSinkUser, startAuditSink } from "./audit_sink.ts";
import { freePort } from "./cluster.ts";
import { auditSinkS3, auditSinkToken } from "./keys.ts";
import { HttpSink, S3Sink } from "../supabase/functions/audit-export/sink.ts";
import { sha256Hex, signRequest } from "../supabase/functions/_shared/sigv4.ts";

async function withSink(fn: (s: Awaited<ReturnType<typeof startAuditSink>>) => Promise<void>) {
  const dir = await Deno.makeTempDir({ prefix: "audit-sink-test-" });
  await Deno.chmod(dir, 0o755);
  const sink = await startAuditSink({ stackDir: dir, port: freePort(), log: () => {} });
  try {
    await fn(sink);
  } finally {
    await sink.stop();
    await Deno.remove(dir, { recursive: true });
  }
}

function as(user: string, cmd: string[]): boolean {
  const argv = asUser(cmd, user);
  return new Deno.Command(argv[0], { args: argv.slice(1), stdout: "null", stderr: "null" })
    .outputSync().success;
}

Deno.test("audit sink: HTTPS protocol creates exports once, never replaces or deletes them", async () => {
  await withSink(async (s) => {
    const sink = new HttpSink(s.exportsUrl, auditSinkToken);
    assert.equal(await sink.put("000000000001.json", '{"seq":1}'), "created");
    assert.equal(await sink.put("000000000001.json", '{"seq":"forged"}'), "exists");
    assert.equal(await sink.get("000000000001.json"), '{"seq":1}', "the first write stays");
    assert.equal(await sink.put("000000000002.json", '{"seq":2}'), "created");
    assert.deepEqual(await sink.list(), ["000000000001.json", "000000000002.json"]);
    assert.deepEqual(await sink.list("000000000001.json"), ["000000000002.json"]);
    assert.equal(await sink.get("000000000009.json"), null);

    const url = `${s.exportsUrl}/000000000001.json`;
    const auth = { authorization: `Bearer ${auditSinkToken}` };
    const del = await fetch(url, { method: "DELETE", headers: auth });
    assert.equal(del.status, 405, "no delete");
    assert.match((await del.json()).error.message, /never changed or deleted/);
    const anon = await fetch(url);
    assert.equal(anon.status, 401, "a token is required, also to read");
    await anon.body?.cancel();
    const bad = await fetch(`${s.exportsUrl}/..%2Fescape`, {
      method: "PUT",
      headers: auth,
      body: "x",
    });
    assert.equal(bad.status, 400);
    assert.equal((await bad.json()).error.code, "invalid_name");
  });
});

Deno.test({
  name: "audit sink: runs as audit-sink; the postgres OS user cannot change or remove an export",
  ignore: !isRoot,
  async fn() {
    await withSink(async (s) => {
      assert.equal(s.user, auditSinkUser);
      const sink = new HttpSink(s.exportsUrl, auditSinkToken);
      await sink.put("000000000001.json", '{"seq":1}');
      const file = join(s.dir, "exports", "000000000001.json");
      const uid = Number(new TextDecoder().decode(
        new Deno.Command("id", { args: ["-u", auditSinkUser], stdout: "piped" }).outputSync()
          .stdout,
      ));
      const st = await Deno.stat(file);
      assert.equal(st.uid, uid, "the file belongs to audit-sink");
      assert.equal(st.mode! & 0o777, 0o444, "and is read-only");
      assert.equal((await Deno.stat(join(s.dir, "exports"))).uid, uid);
      assert.equal(as("postgres", ["rm", "-f", file]), false, "postgres cannot delete it");
      assert.equal(as("postgres", ["sh", "-c", `echo x > ${file}`]), false, "nor write it");
      assert.equal(
        as("postgres", ["touch", join(s.dir, "exports", "000000000002.json")]),
        false,
        "nor add one beside it",
      );
      assert.equal(await sink.get("000000000001.json"), '{"seq":1}');
    });
  },
});

Deno.test("audit sink: the S3 face speaks PutObject (If-None-Match), GetObject, ListObjectsV2 with SigV4", async () => {
  await withSink(async (s) => {
    const cfg = {
      endpoint: s.s3Endpoint,
      region: auditSinkS3.region,
      bucket: auditSinkS3.bucket,
      prefix: "project-a/",
      credentials: {
        accessKeyId: auditSinkS3.accessKeyId,
        secretAccessKey: auditSinkS3.secretAccessKey,
      },
    };
    const sink = new S3Sink(cfg);
    for (let i = 1; i <= 3; i++) {
      assert.equal(await sink.put(`00000000000${i}.json`, `{"seq":${i}}`), "created");
    }
    assert.equal(await sink.put("000000000002.json", '{"seq":"forged"}'), "exists");
    assert.equal(await sink.get("000000000002.json"), '{"seq":2}');
    assert.equal(await sink.get("000000000009.json"), null);
    assert.deepEqual(await sink.list(), [
      "000000000001.json",
      "000000000002.json",
      "000000000003.json",
    ]);
    assert.deepEqual(await sink.list("000000000001.json"), [
      "000000000002.json",
      "000000000003.json",
    ]);
    const other = new S3Sink({ ...cfg, prefix: "project-b/" });
    assert.deepEqual(await other.list(), [], "a prefix keeps projects apart");

    // A signed DELETE is refused, as by a bucket with Object Lock.
    const url = new URL(`${s.s3Endpoint}/${auditSinkS3.bucket}/project-a/000000000001.json`);
    const headers = await signRequest({
      method: "DELETE",
      url,
      payloadHash: await sha256Hex(""),
      region: auditSinkS3.region,
    }, cfg.credentials);
    delete headers.host;
    const del = await fetch(url, { method: "DELETE", headers });
    assert.equal(del.status, 403);
    assert.match(await del.text(), /<Code>AccessDenied<\/Code>/);
    const wrongKey = new S3Sink({
      ...cfg,
      credentials: { accessKeyId: cfg.credentials.accessKeyId, secretAccessKey: "wrong" },
    });
    await assert.rejects(() => wrongKey.get("000000000001.json"), /403.*SignatureDoesNotMatch/);
    await assert.rejects(
      () => new S3Sink({ ...cfg, bucket: "nope-bucket" }).list(),
      /404.*NoSuchBucket/,
    );
  });
});
