// The stand-in's frames against realtime-js's own serializer (the one @supabase/supabase-js
// 2.x uses by default): what the client encodes the server decodes, and the reverse.
import assert from "node:assert/strict";
import serializerModule from "@supabase/realtime-js/dist/main/lib/serializer.js";
import {
  decodeFrame,
  encodeBroadcast,
  encodeReply,
  jsonPayload,
  ProtocolError,
} from "./realtime_protocol.ts";

const client = new serializerModule.default();

function clientEncode(msg: Record<string, unknown>): string | ArrayBuffer {
  let out: string | ArrayBuffer = "";
  client.encode(msg as never, (r: string | ArrayBuffer) => out = r);
  return out;
}

// deno-lint-ignore no-explicit-any -- the client's decoded message
function clientDecode(frame: string | ArrayBuffer): any {
  let out: unknown;
  client.decode(frame, (m: unknown) => out = m);
  return out;
}

const toBuffer = (u: Uint8Array) => u.slice().buffer as ArrayBuffer;

Deno.test("a join, a heartbeat and an access_token push decode from the client's arrays", () => {
  const join = decodeFrame(
    clientEncode({
      join_ref: "1",
      ref: "1",
      topic: "realtime:outbox:x",
      event: "phx_join",
      payload: { config: { private: true }, access_token: "t" },
    }) as string,
    "2.0.0",
  );
  assert.deepEqual(join, {
    joinRef: "1",
    ref: "1",
    topic: "realtime:outbox:x",
    event: "phx_join",
    payload: { config: { private: true }, access_token: "t" },
  });
  const beat = decodeFrame(
    clientEncode({ join_ref: null, ref: "2", topic: "phoenix", event: "heartbeat", payload: {} }),
    "2.0.0",
  );
  assert.deepEqual([beat.joinRef, beat.ref, beat.topic, beat.event], [
    null,
    "2",
    "phoenix",
    "heartbeat",
  ]);
});

Deno.test("a user broadcast travels as the client's binary push and decodes with its payload", () => {
  const frame = clientEncode({
    join_ref: "3",
    ref: "4",
    topic: "realtime:room:é",
    event: "broadcast",
    payload: { type: "broadcast", event: "cursör", payload: { x: 1 } },
  });
  assert.ok(frame instanceof ArrayBuffer, "realtime-js sends user broadcasts as binary");
  const m = decodeFrame(frame, "2.0.0");
  assert.equal(m.topic, "realtime:room:é");
  assert.equal(m.event, "broadcast");
  assert.equal(m.userBroadcast?.event, "cursör");
  assert.equal(m.userBroadcast?.encoding, "json");
  assert.deepEqual(JSON.parse(new TextDecoder().decode(m.userBroadcast!.data)), { x: 1 });
});

Deno.test("the server's broadcast decodes in the client as hosted's: event, payload and meta", () => {
  const frame = encodeBroadcast(
    "2.0.0",
    "realtime:outbox:x",
    jsonPayload("envelopes", '{"count": 2, "id": "m1"}'),
    { id: "m1" },
  ) as Uint8Array;
  const m = clientDecode(toBuffer(frame));
  assert.deepEqual(m, {
    join_ref: null,
    ref: null,
    topic: "realtime:outbox:x",
    event: "broadcast",
    payload: {
      type: "broadcast",
      event: "envelopes",
      payload: { count: 2, id: "m1" },
      meta: { id: "m1" },
    },
  });
  const bytes = new Uint8Array([1, 2, 255]);
  const bin = clientDecode(
    toBuffer(
      encodeBroadcast("2.0.0", "realtime:t", {
        event: "b",
        encoding: "binary",
        data: bytes,
      }) as Uint8Array,
    ),
  );
  assert.deepEqual([...new Uint8Array(bin.payload.payload)], [1, 2, 255]);
});

Deno.test("replies are phx_reply arrays; protocol 1.0.0 frames are objects", () => {
  const to = { joinRef: "1", ref: "5", topic: "realtime:t" };
  assert.deepEqual(clientDecode(encodeReply("2.0.0", to, "error", { reason: "no" })), {
    join_ref: "1",
    ref: "5",
    topic: "realtime:t",
    event: "phx_reply",
    payload: { status: "error", response: { reason: "no" } },
  });
  assert.deepEqual(JSON.parse(encodeReply("1.0.0", to, "ok", {})), {
    join_ref: "1",
    ref: "5",
    topic: "realtime:t",
    event: "phx_reply",
    payload: { status: "ok", response: {} },
  });
  const v1 = decodeFrame(
    JSON.stringify({ topic: "realtime:t", event: "phx_join", payload: {}, ref: "1" }),
    "1.0.0",
  );
  assert.equal(v1.event, "phx_join");
  assert.equal(
    encodeBroadcast("1.0.0", "realtime:t", {
      event: "b",
      encoding: "binary",
      data: new Uint8Array([0]),
    }),
    null,
    "1.0.0 cannot carry binary payloads",
  );
});

Deno.test("malformed frames are protocol errors", () => {
  for (const bad of ["{}", "not json", "[1, 2]", '[null, null, 1, "e", {}]']) {
    assert.throws(() => decodeFrame(bad, "2.0.0"), ProtocolError, bad);
  }
  assert.throws(() => decodeFrame(new Uint8Array([9, 0, 0]), "2.0.0"), ProtocolError);
  assert.throws(
    () => decodeFrame(new Uint8Array([3, 5, 0, 0, 0, 0, 1, 65]), "2.0.0"),
    ProtocolError,
  );
});
