// The Storage stand-in through the real supabase-js storage client, signed in as the seed
// users (ES256 tokens, as hosted issues them): the service writes into evidence-artifacts,
// the project's policy lets members of the object's tenant read it and nobody else, signed
// URLs work until they expire, and bad input gets 4xx JSON and writes nothing.
import assert from "node:assert/strict";
import { join } from "node:path";
import { seedUserPassword } from "../stack/keys.ts";
import { connect, env, need, sleep, stackTest, supabaseClient, TENANT_A } from "./testing.ts";

const TENANT_B = "00000000-0000-0000-0000-00000000000b";
const BUCKET = "evidence-artifacts";
const sql = connect(env.postgresUrl);

const service = () => supabaseClient(need("SUPABASE_SERVICE_ROLE_KEY"));
async function signIn(email: string) {
  const client = supabaseClient();
  const { error } = await client.auth.signInWithPassword({ email, password: seedUserPassword });
  assert.equal(error, null, `sign-in of ${email}: ${error?.message}`);
  return client;
}

/** Every file under the stand-in's folder, relative to it. */
async function storedFiles(): Promise<string[]> {
  const root = join(need("STACK_DIR"), "storage");
  const out: string[] = [];
  const walk = async (dir: string, rel: string) => {
    for await (const e of Deno.readDir(dir)) {
      if (e.isDirectory) await walk(join(dir, e.name), `${rel}${e.name}/`);
      else out.push(`${rel}${e.name}`);
    }
  };
  await walk(root, "").catch((err) => {
    if (!(err instanceof Deno.errors.NotFound)) throw err;
  });
  return out.sort();
}

const rows = async (bucket: string, like: string) =>
  (await sql`select name from storage.objects where bucket_id = ${bucket} and name like ${like}`)
    .length;

// One folder per tenant for this file's objects.
const run = crypto.randomUUID();
const pathA = `${TENANT_A}/${run}/report.json`;
const pathB = `${TENANT_B}/${run}/report.json`;
const reportA = JSON.stringify({ tenant: "A", rows: Array.from({ length: 50 }, (_, i) => i) });
const reportB = JSON.stringify({ tenant: "B" });

stackTest(
  "storage: the service uploads (raw and multipart), a member of A reads A's object, not B's",
  async () => {
    const svc = service().storage.from(BUCKET);
    const up = await svc.upload(pathA, new TextEncoder().encode(reportA), {
      contentType: "application/json",
    });
    assert.equal(up.error, null, up.error?.message);
    assert.equal(up.data?.path, pathA);
    assert.equal(up.data?.fullPath, `${BUCKET}/${pathA}`);
    assert.match(up.data?.id ?? "", /^[0-9a-f-]{36}$/);
    const upB = await svc.upload(pathB, new Blob([reportB], { type: "application/json" }));
    assert.equal(upB.error, null, upB.error?.message);

    const a = (await signIn("member.a@example.com")).storage.from(BUCKET);
    const got = await a.download(pathA);
    assert.equal(got.error, null, got.error?.message);
    assert.equal(await got.data!.text(), reportA);
    const info = await a.info(pathA);
    assert.equal(info.error, null, info.error?.message);
    assert.equal(info.data?.size, new TextEncoder().encode(reportA).byteLength);
    assert.equal(info.data?.contentType, "application/json");
    const listed = await a.list(`${TENANT_A}/${run}`);
    assert.equal(listed.error, null, listed.error?.message);
    assert.deepEqual(listed.data?.map((o) => o.name), ["report.json"]);
    assert.deepEqual(
      (await a.list(`${TENANT_B}/${run}`)).data,
      [],
      "B's folder lists empty to a member of A",
    );

    const notMine = await a.download(pathB);
    assert.ok(notMine.error, "a member of A cannot read B's object");
    assert.equal((notMine.error as { statusCode?: string }).statusCode, "404");

    const b = (await signIn("member.b@example.com")).storage.from(BUCKET);
    const refused = await b.download(pathA);
    assert.ok(refused.error, "a member of B cannot read A's object");
    assert.equal((refused.error as { status?: number }).status, 400);
    const signed = await b.createSignedUrl(pathA, 60);
    assert.ok(signed.error, "nor sign a URL for it");
    assert.match(signed.error!.message, /Object not found/);
    assert.equal(
      (await supabaseClient().storage.from(BUCKET).download(pathA)).error !== null,
      true,
    );

    // Members never write: the policy has no insert.
    const before = await storedFiles();
    const write = await a.upload(`${TENANT_A}/${run}/mine.json`, "{}", {
      contentType: "application/json",
    });
    assert.ok(write.error, "a member cannot upload");
    assert.equal((write.error as { statusCode?: string }).statusCode, "403");
    assert.match(write.error!.message, /row-level security/);
    assert.equal(await rows(BUCKET, `%/${run}/mine.json`), 0);
    assert.deepEqual(await storedFiles(), before, "no bytes were written");
  },
);

stackTest(
  "storage: a member's signed URL works until it expires; its token fits one object only",
  async () => {
    const a = (await signIn("member.a@example.com")).storage.from(BUCKET);
    const { data, error } = await a.createSignedUrl(pathA, 2);
    assert.equal(error, null, error?.message);
    const url = data!.signedUrl;
    assert.ok(
      url.startsWith(`${env.apiUrl}/storage/v1/object/sign/${BUCKET}/${pathA}?token=`),
      url,
    );
    const ok = await fetch(url);
    assert.equal(ok.status, 200);
    assert.equal(ok.headers.get("content-type"), "application/json");
    assert.equal(await ok.text(), reportA);

    // The same token on another object's path is refused.
    const token = new URL(url).searchParams.get("token")!;
    const other = await fetch(
      `${env.apiUrl}/storage/v1/object/sign/${BUCKET}/${pathB}?token=${token}`,
    );
    assert.equal(other.status, 400);
    assert.equal((await other.json()).code, "InvalidSignature");

    const many = await a.createSignedUrls([pathA, pathB], 60);
    assert.equal(many.error, null, many.error?.message);
    assert.ok(many.data![0].signedUrl);
    assert.equal(many.data![1].signedUrl, null);
    assert.match(many.data![1].error ?? "", /do not have access/);

    // Past its expiry (the token's exp is in seconds).
    await sleep(3_000);
    const late = await fetch(url);
    assert.equal(late.status, 400);
    const body = await late.json();
    assert.equal(body.statusCode, "400");
    assert.equal(body.code, "InvalidJWT");
    assert.match(body.message, /exp/);
  },
);

stackTest(
  "storage: list-v2, signed upload and remove with prefixes, through the service",
  async () => {
    const svc = service().storage.from(BUCKET);
    const v2 = await svc.listV2({ prefix: `${TENANT_A}/${run}/`, with_delimiter: true });
    assert.equal(v2.error, null, v2.error?.message);
    assert.deepEqual(v2.data?.objects.map((o) => o.name), [pathA]);
    const top = await svc.listV2({ prefix: `${TENANT_A}/`, with_delimiter: true, limit: 1000 });
    assert.ok(top.data?.folders.some((f) => f.name === `${TENANT_A}/${run}/`), "the run's folder");

    const signedPath = `${TENANT_A}/${run}/signed.json`;
    const slot = await svc.createSignedUploadUrl(signedPath);
    assert.equal(slot.error, null, slot.error?.message);
    const put = await svc.uploadToSignedUrl(signedPath, slot.data!.token, '{"signed":true}', {
      contentType: "application/json",
    });
    assert.equal(put.error, null, put.error?.message);
    assert.equal(put.data?.fullPath, `${BUCKET}/${signedPath}`);

    const removed = await svc.remove([pathA, pathB, signedPath, `${TENANT_A}/${run}/none.json`]);
    assert.equal(removed.error, null, removed.error?.message);
    assert.deepEqual(removed.data?.map((o) => o.name).sort(), [pathA, signedPath, pathB].sort());
    assert.equal(await rows(BUCKET, `%/${run}/%`), 0);
    assert.deepEqual(
      (await storedFiles()).filter((f) => f.includes(run)),
      [],
      "their bytes are gone",
    );
  },
);

stackTest(
  "storage: oversized uploads, path traversal, unknown buckets: 4xx JSON, nothing written",
  async () => {
    await sql`insert into storage.buckets (id, name, file_size_limit, allowed_mime_types)
            values ('stand-in-small', 'stand-in-small', 16, '{application/json}')`;
    try {
      const svc = service().storage;
      const before = await storedFiles();

      const big = await svc.from("stand-in-small").upload(
        "a.json",
        JSON.stringify({ x: "y".repeat(20) }),
        {
          contentType: "application/json",
        },
      );
      assert.ok(big.error);
      assert.equal((big.error as { statusCode?: string }).statusCode, "413");
      const wrongType = await svc.from("stand-in-small").upload("b.txt", "hi", {
        contentType: "text/plain",
      });
      assert.equal((wrongType.error as { statusCode?: string }).statusCode, "415");
      const unknown = await svc.from("no-such-bucket").upload("a.json", "{}");
      assert.equal((unknown.error as { statusCode?: string }).statusCode, "404");
      assert.match(unknown.error!.message, /Bucket not found/);

      // fetch resolves ../ in a URL before sending; encoded slashes reach the server.
      const key = need("SUPABASE_SERVICE_ROLE_KEY");
      for (
        const name of [
          `${TENANT_A}%2F..%2F..%2Fescape.json`,
          `..%2Fescape.json`,
          `${TENANT_A}%2F.%2Fx.json`,
          `${TENANT_A}%2F%2Fx.json`,
        ]
      ) {
        const res = await fetch(`${env.apiUrl}/storage/v1/object/${BUCKET}/${name}`, {
          method: "POST",
          headers: { authorization: `Bearer ${key}`, "content-type": "application/json" },
          body: "{}",
        });
        assert.equal(res.status, 400, name);
        const body = await res.json();
        assert.equal(body.code, "InvalidKey", name);
        assert.equal(body.statusCode, "400");
      }
      const badJson = await fetch(`${env.apiUrl}/storage/v1/object/sign/${BUCKET}/x.json`, {
        method: "POST",
        headers: { authorization: `Bearer ${key}`, "content-type": "application/json" },
        body: "{not json",
      });
      assert.equal(badJson.status, 400);
      assert.match((await badJson.json()).message, /not valid JSON/);
      const noRoute = await fetch(`${env.apiUrl}/storage/v1/bucket`, {
        headers: { authorization: `Bearer ${key}` },
      });
      assert.equal(noRoute.status, 404);
      assert.equal((await noRoute.json()).statusCode, "404");

      assert.deepEqual(await storedFiles(), before, "no bytes were written");
      const [{ n }] = await sql`
      select count(*)::int as n from storage.objects
       where bucket_id = 'stand-in-small' or name like '%escape%' or name like '%x.json'`;
      assert.equal(n, 0, "no rows were written");
    } finally {
      await sql.begin(async (tx) => {
        await tx`select set_config('storage.allow_delete_query', 'true', true)`;
        await tx`delete from storage.buckets where id = 'stand-in-small'`;
      });
    }
  },
);

stackTest("storage: close the pool", async () => {
  await sql.end();
});
