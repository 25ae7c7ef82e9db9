// The examples of AWS's "Signature Calculations for the Authorization Header: Transferring
// Payload in a Single Chunk" (S3 API reference): their requests must get their signatures.
// The local sink checks signatures with the same code, so these are what ties it to S3.
import assert from "node:assert/strict";
import { canonicalPath, sha256Hex, signRequest, uriEncode, verifyRequest } from "./sigv4.ts";

const creds = {
  accessKeyId: "AKIAIOSFODNN7EXAMPLE",
  secretAccessKey: "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY",
};
const now = new Date("2013-05-24T00:00:00Z");
const emptyHash = "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855";
const signatureOf = (h: Record<string, string>) =>
  /Signature=([0-9a-f]{64})$/.exec(h.authorization)![1];

Deno.test("sigv4: AWS's GET Object example (range header)", async () => {
  assert.equal(await sha256Hex(""), emptyHash);
  const h = await signRequest({
    method: "GET",
    url: new URL("https://examplebucket.s3.amazonaws.com/test.txt"),
    headers: { range: "bytes=0-9" },
    payloadHash: emptyHash,
    region: "us-east-1",
    now,
  }, creds);
  assert.equal(
    h.authorization,
    "AWS4-HMAC-SHA256 Credential=AKIAIOSFODNN7EXAMPLE/20130524/us-east-1/s3/aws4_request, SignedHeaders=host;range;x-amz-content-sha256;x-amz-date, Signature=f0e8bdb87c964420e857bd35b5d6ed310bd44f0170aba48dd91039c6036bdb41",
  );
});

Deno.test("sigv4: AWS's PUT Object example (a $ in the key, a signed body)", async () => {
  const payloadHash = await sha256Hex("Welcome to Amazon S3.");
  assert.equal(payloadHash, "44ce7dd67c959e0d3524ffac1771dfbba87d2b6b4b4e99e42034a8b803f8b072");
  const h = await signRequest({
    method: "PUT",
    url: new URL("https://examplebucket.s3.amazonaws.com/test$file.text"),
    headers: { date: "Fri, 24 May 2013 00:00:00 GMT", "x-amz-storage-class": "REDUCED_REDUNDANCY" },
    payloadHash,
    region: "us-east-1",
    now,
  }, creds);
  assert.equal(signatureOf(h), "98ad721746da40c64f1a55b78f14c238d841ea1380cd77a1b5971af0ece108bd");
});

Deno.test("sigv4: AWS's GET Bucket (list objects) example: the query is sorted", async () => {
  const h = await signRequest({
    method: "GET",
    url: new URL("https://examplebucket.s3.amazonaws.com/?max-keys=2&prefix=J"),
    payloadHash: emptyHash,
    region: "us-east-1",
    now,
  }, creds);
  assert.equal(signatureOf(h), "34b48302e7b5fa45bde8084f4b7868a86f0a534bc59db6670ed5711ef69dc6f7");
});

Deno.test("sigv4: UriEncode escapes what encodeURIComponent lets through", () => {
  assert.equal(uriEncode("a!'()*b", true), "a%21%27%28%29%2Ab");
  assert.equal(uriEncode("a b/c", false), "a%20b/c");
  assert.equal(uriEncode("a/b", true), "a%2Fb");
  assert.equal(uriEncode("é~-._", true), "%C3%A9~-._");
  assert.equal(canonicalPath("/bucket/a%20b/c$d"), "/bucket/a%20b/c%24d");
});

Deno.test("sigv4: the server side accepts what the client signs and nothing else", async () => {
  const url = new URL("http://127.0.0.1:9/s3/bucket/000000000001.json?x-id=PutObject");
  const body = new TextEncoder().encode('{"seq":1}');
  const headers = await signRequest({
    method: "PUT",
    url,
    headers: { "if-none-match": "*", "content-type": "application/json" },
    payloadHash: await sha256Hex(body),
    region: "local",
  }, { accessKeyId: "k", secretAccessKey: "s" });
  const opts = { region: "local", secretFor: (id: string) => (id === "k" ? "s" : undefined) };
  const check = (h: Headers, b = body, u = url, method = "PUT") =>
    verifyRequest({ method, url: u, headers: h, body: b }, opts);
  assert.deepEqual(await check(new Headers(headers)), { ok: true, accessKeyId: "k" });
  assert.equal(
    (await check(new Headers(headers), new TextEncoder().encode('{"seq":2}'))).ok,
    false,
    "another body",
  );
  assert.equal((await check(new Headers(headers), body, url, "DELETE")).ok, false, "another verb");
  const other = new Headers(headers);
  other.set("if-none-match", "other");
  assert.equal((await check(other)).ok, false, "a signed header changed");
  assert.equal(
    (await check(new Headers(headers), body, new URL("http://127.0.0.1:9/s3/bucket/2.json"))).ok,
    false,
    "another key",
  );
  const wrong = await verifyRequest({ method: "PUT", url, headers: new Headers(headers), body }, {
    ...opts,
    secretFor: () => "not-s",
  });
  assert.deepEqual(wrong.ok ? null : wrong.code, "SignatureDoesNotMatch");
});
