// The wire format hosted Realtime speaks to realtime-js: Phoenix channel messages. Protocol
// 2.0.0 (what realtime-js sends by default) frames them as JSON arrays
// `[join_ref, ref, topic, event, payload]`, except user broadcasts, which travel as binary
// frames: a client's push (kind 3) and the server's delivery (kind 4), each a header of byte
// lengths followed by topic, event, metadata and the payload (JSON or raw bytes). Protocol
// 1.0.0 frames every message as a JSON object. Mirrors supabase/realtime's
// RealtimeWeb.Socket.V2Serializer and realtime-js's lib/serializer.ts.

export type Vsn = "1.0.0" | "2.0.0";

/** A decoded client message. A user broadcast push carries its payload apart. */
export interface InMessage {
  joinRef: string | null;
  ref: string | null;
  topic: string;
  event: string;
  payload: Record<string, unknown>;
  /** Kind 3 frames: the user's event and payload, as sent (JSON text or bytes). */
  userBroadcast?: UserPayload;
}

export interface UserPayload {
  event: string;
  encoding: "json" | "binary";
  /** JSON text (encoding json) or raw bytes. */
  data: Uint8Array;
}

const KIND_USER_BROADCAST_PUSH = 3;
const KIND_USER_BROADCAST = 4;

export class ProtocolError extends Error {}

const text = new TextDecoder();
const bytes = new TextEncoder();

function asObject(v: unknown): Record<string, unknown> {
  return typeof v === "object" && v !== null && !Array.isArray(v)
    ? v as Record<string, unknown>
    : {};
}

function asRef(v: unknown): string | null {
  return v === null || v === undefined ? null : String(v);
}

/** Decodes a frame from a client speaking `vsn`; throws ProtocolError on a malformed one. */
export function decodeFrame(frame: string | ArrayBuffer | Uint8Array, vsn: Vsn): InMessage {
  if (typeof frame === "string") {
    let v: unknown;
    try {
      v = JSON.parse(frame);
    } catch {
      throw new ProtocolError("frame is not JSON");
    }
    if (vsn === "2.0.0") {
      if (
        !Array.isArray(v) || v.length < 5 || typeof v[2] !== "string" || typeof v[3] !== "string"
      ) {
        throw new ProtocolError("expected V2 array [join_ref, ref, topic, event, payload]");
      }
      return {
        joinRef: asRef(v[0]),
        ref: asRef(v[1]),
        topic: v[2],
        event: v[3],
        payload: asObject(v[4]),
      };
    }
    const o = asObject(v);
    if (typeof o.topic !== "string" || typeof o.event !== "string") {
      throw new ProtocolError("expected a message object {topic, event, payload, ref}");
    }
    return {
      joinRef: asRef(o.join_ref),
      ref: asRef(o.ref),
      topic: o.topic,
      event: o.event,
      payload: asObject(o.payload),
    };
  }
  const buf = frame instanceof Uint8Array ? frame : new Uint8Array(frame);
  if (buf[0] !== KIND_USER_BROADCAST_PUSH || buf.length < 7) {
    throw new ProtocolError(`unsupported binary frame kind ${buf[0]}`);
  }
  const [joinRefLen, refLen, topicLen, eventLen, metaLen, encoding] = buf.subarray(1, 7);
  let at = 7;
  const take = (n: number) => {
    if (at + n > buf.length) throw new ProtocolError("binary frame shorter than its header says");
    const part = buf.subarray(at, at + n);
    at += n;
    return part;
  };
  const joinRef = text.decode(take(joinRefLen));
  const ref = text.decode(take(refLen));
  const topic = text.decode(take(topicLen));
  const event = text.decode(take(eventLen));
  take(metaLen); // metadata (e.g. persist): nothing the stand-in serves
  const data = buf.slice(at);
  return {
    joinRef: joinRef || null,
    ref: ref || null,
    topic,
    event: "broadcast",
    payload: {},
    userBroadcast: { event, encoding: encoding === 0 ? "binary" : "json", data },
  };
}

/** A server message (reply, push, close, system) in the client's protocol. */
export function encodeMessage(
  vsn: Vsn,
  m: { joinRef: string | null; ref: string | null; topic: string; event: string; payload: unknown },
): string {
  if (vsn === "2.0.0") return JSON.stringify([m.joinRef, m.ref, m.topic, m.event, m.payload]);
  return JSON.stringify({
    join_ref: m.joinRef,
    ref: m.ref,
    topic: m.topic,
    event: m.event,
    payload: m.payload,
  });
}

/** `phx_reply` to the message `to`: `{status, response}`. */
export function encodeReply(
  vsn: Vsn,
  to: { joinRef: string | null; ref: string | null; topic: string },
  status: "ok" | "error",
  response: unknown,
): string {
  return encodeMessage(vsn, {
    joinRef: to.joinRef,
    ref: to.ref,
    topic: to.topic,
    event: "phx_reply",
    payload: { status, response },
  });
}

/**
 * A broadcast delivered to subscribers of `topic` (the joined topic, `realtime:…`): binary kind
 * 4 in protocol 2.0.0 (as hosted delivers both database and user broadcasts), a JSON message
 * `{type: "broadcast", event, payload, meta?}` in 1.0.0 (binary payloads cannot travel there:
 * null).
 */
export function encodeBroadcast(
  vsn: Vsn,
  topic: string,
  user: UserPayload,
  meta?: Record<string, unknown>,
): string | Uint8Array | null {
  if (vsn === "1.0.0") {
    if (user.encoding === "binary") return null;
    return encodeMessage(vsn, {
      joinRef: null,
      ref: null,
      topic,
      event: "broadcast",
      payload: {
        type: "broadcast",
        event: user.event,
        payload: JSON.parse(text.decode(user.data)),
        ...(meta ? { meta } : {}),
      },
    });
  }
  const t = bytes.encode(topic);
  const e = bytes.encode(user.event);
  const m = meta ? bytes.encode(JSON.stringify(meta)) : new Uint8Array(0);
  for (const [what, part] of [["topic", t], ["event", e], ["metadata", m]] as const) {
    if (part.length > 255) throw new ProtocolError(`${what} is longer than 255 bytes`);
  }
  const out = new Uint8Array(5 + t.length + e.length + m.length + user.data.length);
  out.set([KIND_USER_BROADCAST, t.length, e.length, m.length, user.encoding === "json" ? 1 : 0]);
  let at = 5;
  for (const part of [t, e, m, user.data]) {
    out.set(part, at);
    at += part.length;
  }
  return out;
}

/** A JSON user payload (what a database message or a JSON broadcast carries). */
export function jsonPayload(event: string, json: string): UserPayload {
  return { event, encoding: "json", data: bytes.encode(json) };
}
