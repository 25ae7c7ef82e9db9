// A stand-in for Supabase Realtime at /realtime/v1: Broadcast (from the database and between
// clients) on public and private channels, with Realtime Authorization, over the websocket
// protocol realtime-js speaks by default (2.0.0; 1.0.0 too; stack/realtime_protocol.ts).
//
// - Connect: `GET /realtime/v1/websocket?apikey=<project key>&vsn=2.0.0`, upgraded.
// - Join (`phx_join` on `realtime:<topic>`): the access token (or the API key's JWT) must be a
//   project JWT with `role` and `exp`; a private channel is joined only if the user may read
//   it: as hosted, a probe row of realtime.messages is inserted and selected as the user
//   (role, request.jwt.claims, realtime.topic set) in a transaction that is rolled back.
//   `access_token` re-runs that check; a channel whose token expires or whose read permission
//   is gone gets a `system` error and `phx_close`.
// - Database broadcasts: realtime.send inserts into realtime.messages; a NOTIFY on commit
//   (stack/sql/realtime_schema.sql) names the committed messages, a poll is the safety net,
//   and each message someone listens to is fetched and sent to the channels joined on its
//   topic with its privacy, as a binary user-broadcast frame carrying `{id}` as metadata.
// - Client broadcasts: relayed to the topic's other subscribers (and the sender with
//   `self`) when the sender may write: always on public channels, on private ones only if
//   an INSERT into realtime.messages passes as the user (tested once per channel, rolled
//   back). Refused sends are dropped without a reply, as on hosted.
// Not served: Presence, postgres_changes, replay, the REST broadcast API, rate limits.
import postgres from "postgres";
import { decodeJwt, type JWK, type JWTPayload } from "jose";
import { join } from "node:path";
import { createJwtVerifier, type JwtVerifier } from "../supabase/functions/_shared/jwt_verify.ts";
import { projectRoot } from "./paths.ts";
import {
  decodeFrame,
  encodeBroadcast,
  encodeMessage,
  encodeReply,
  type InMessage,
  jsonPayload,
  ProtocolError,
  type UserPayload,
  type Vsn,
} from "./realtime_protocol.ts";

export interface RealtimeServerOptions {
  /** A superuser session on the project database (hosted Realtime connects as its admin). */
  dbUrl: string;
  /** The public keys user tokens are signed with (SUPABASE_JWKS). */
  jwks: { keys: JWK[] };
  /** The legacy HS256 secret (the anon and service_role keys are signed with it). */
  legacySecret: string;
  /** Each project API key → the JWT it stands for (new-style keys stand for a JWT too). */
  apiKeys: Record<string, string>;
  /** Safety-net poll for committed messages whose NOTIFY was missed (default 1000 ms). */
  pollMs?: number;
  log?: (line: string) => void;
}

export interface RealtimeStats {
  sockets: number;
  channels: number;
  /** Database messages delivered to at least the fan-out step. */
  delivered: number;
}

export interface RealtimeServer {
  /** Answers a request for /realtime/v1/… (upgrading the websocket). */
  handle(req: Request): Response;
  stats(): RealtimeStats;
  stop(): Promise<void>;
}

/** A channel joined on one socket. */
interface Channel {
  conn: Conn;
  /** `realtime:<sub>`, as joined. */
  topic: string;
  sub: string;
  joinRef: string | null;
  private: boolean;
  self: boolean;
  ack: boolean;
  token: string;
  claims: JWTPayload;
  /** Whether the user may send on it (private channels; null: not tested yet). */
  write: boolean | null;
  confirmTimer?: ReturnType<typeof setTimeout>;
}

interface Conn {
  ws: WebSocket;
  vsn: Vsn;
  /** The JWT the API key stands for: the token when a join names none. */
  tenantToken: string;
  channels: Map<string, Channel>;
  queue: Promise<void>;
  lastSeen: number;
}

/** Hosted re-checks a channel's token at least this often (and when it expires). */
const confirmTokenMs = 5 * 60_000;
/** Phoenix closes a socket that sent nothing (not even a heartbeat) for this long. */
const idleTimeoutMs = 60_000;
/** How far back the safety-net poll looks, past its previous run. */
const pollSlackMs = 5_000;

class Rollback extends Error {
  constructor(readonly value: boolean) {
    super("rollback");
  }
}

/** A join or re-auth refusal: the reason hosted gives (`<Code>: <message>`). */
class Refusal extends Error {}

type Sql = postgres.Sql;

const errorCode = (err: unknown) => (err as { code?: string })?.code;

export async function startRealtimeServer(opts: RealtimeServerOptions): Promise<RealtimeServer> {
  const log = opts.log ?? ((l: string) => console.error(l));
  const pollMs = opts.pollMs ?? 1000;
  const sql: Sql = postgres(opts.dbUrl, {
    max: 6,
    onnotice: () => {},
    connect_timeout: 5,
    backoff: () => 0.2,
  });
  const verify: JwtVerifier = createJwtVerifier({ jwks: opts.jwks, secret: opts.legacySecret });
  const partitionsSql = await Deno.readTextFile(
    join(projectRoot, "stack", "sql", "realtime_partitions.sql"),
  );
  await sql.unsafe(partitionsSql).catch(async (err) => {
    await sql.end();
    throw new Error(`realtime stand-in: keeping realtime.messages' partitions: ${err.message}`);
  });

  const conns = new Set<Conn>();
  /** `p:<sub>` / `u:<sub>` (private / public) → the channels joined there. */
  const subscribers = new Map<string, Set<Channel>>();
  const key = (priv: boolean, sub: string) => `${priv ? "p" : "u"}:${sub}`;
  let delivered = 0;
  let stopping = false;

  function send(conn: Conn, data: string | Uint8Array) {
    if (conn.ws.readyState === WebSocket.OPEN) conn.ws.send(data);
  }

  // --- tokens and authorization -------------------------------------------------------
  async function claimsOf(token: string): Promise<JWTPayload> {
    let claims: JWTPayload;
    try {
      claims = await verify(token);
    } catch (err) {
      const code = errorCode(err);
      if (code === "ERR_JWT_EXPIRED") {
        const exp = Number(decodeJwt(token).exp);
        const ago = Math.floor(Date.now() / 1000) - exp;
        throw new Refusal(`InvalidJWTToken: Token has expired ${ago} seconds ago`);
      }
      if ((err as Error).message === "the token is not a JWT") {
        throw new Refusal("MalformedJWT: The token provided is not a valid JWT");
      }
      throw new Refusal("JwtSignatureError: Failed to validate JWT signature");
    }
    if (typeof claims.role !== "string" || typeof claims.exp !== "number") {
      throw new Refusal("InvalidJWTToken: Fields `role` and `exp` are required in JWT");
    }
    return claims;
  }

  /** Hosted's set_conn_config: the role, topic and claims the policies see. */
  function actAs(tx: postgres.TransactionSql, sub: string, claims: JWTPayload) {
    const role = String(claims.role);
    return tx`
      select set_config('role', ${role}, true),
             set_config('realtime.topic', ${sub}, true),
             set_config('request.jwt.claims', ${JSON.stringify(claims)}, true),
             set_config('request.jwt.claim.sub', ${String(claims.sub ?? "")}, true),
             set_config('request.jwt.claim.role', ${role}, true),
             set_config('request.headers', '{}', true)`;
  }

  /** Whether `claims` may read the private topic `sub` (broadcast): the probe, rolled back. */
  async function mayRead(sub: string, claims: JWTPayload): Promise<boolean> {
    const id = crypto.randomUUID();
    try {
      await sql.begin(async (tx) => {
        await tx`insert into realtime.messages (id, topic, extension)
                 values (${id}, ${sub}, 'broadcast')`;
        await actAs(tx, sub, claims);
        const visible = await tx`select 1 from realtime.messages where id = ${id}`;
        throw new Rollback(visible.length > 0);
      });
    } catch (err) {
      if (err instanceof Rollback) return err.value;
      throw policyError(err);
    }
    return false;
  }

  /** Whether `claims` may send on the private topic `sub`: an INSERT as the user, rolled back. */
  async function mayWrite(sub: string, claims: JWTPayload): Promise<boolean> {
    try {
      await sql.begin(async (tx) => {
        await actAs(tx, sub, claims);
        const ok = await tx`insert into realtime.messages (topic, extension)
                            values (${sub}, 'broadcast')`.then(() => true, (err) => {
          if (errorCode(err) === "42501") return false;
          throw err;
        });
        throw new Rollback(ok);
      });
    } catch (err) {
      if (err instanceof Rollback) return err.value;
      log(`[realtime] write check on ${sub}: ${(err as Error).message}`);
      return false;
    }
    return false;
  }

  function policyError(err: unknown): Error {
    const code = errorCode(err);
    if (code === "23514") {
      return new Refusal(
        "MissingPartition: Realtime was unable to find the expected messages partition",
      );
    }
    // A Postgres error in the policies (an unknown role, a failing function) denies.
    if (code && /^[0-9A-Z]{5}$/.test(code)) return new Refusal("");
    return new Refusal(
      "UnableToConnectToProject: Realtime was unable to connect to the project database",
    );
  }

  const unauthorized = (sub: string) =>
    `Unauthorized: You do not have permissions to read from this Channel topic: ${sub}`;

  /** The channel's claims, checked as hosted checks a join; throws a Refusal. */
  async function authorize(sub: string, priv: boolean, token: string): Promise<JWTPayload> {
    const claims = await claimsOf(token);
    if (priv) {
      let ok = false;
      try {
        ok = await mayRead(sub, claims);
      } catch (err) {
        if (err instanceof Refusal && err.message) throw err;
      }
      if (!ok) throw new Refusal(unauthorized(sub));
    }
    return claims;
  }

  // --- channels ------------------------------------------------------------------------
  function register(ch: Channel) {
    const k = key(ch.private, ch.sub);
    let set = subscribers.get(k);
    if (!set) subscribers.set(k, set = new Set());
    set.add(ch);
    ch.conn.channels.set(ch.topic, ch);
  }

  function unregister(ch: Channel) {
    clearTimeout(ch.confirmTimer);
    const k = key(ch.private, ch.sub);
    subscribers.get(k)?.delete(ch);
    if (subscribers.get(k)?.size === 0) subscribers.delete(k);
    if (ch.conn.channels.get(ch.topic) === ch) ch.conn.channels.delete(ch.topic);
  }

  function close(ch: Channel) {
    unregister(ch);
    send(
      ch.conn,
      encodeMessage(ch.conn.vsn, {
        joinRef: ch.joinRef,
        ref: ch.joinRef,
        topic: ch.topic,
        event: "phx_close",
        payload: {},
      }),
    );
  }

  /** Hosted's shutdown_response: a `system` error naming why, then the channel closes. */
  function shutdown(ch: Channel, message: string) {
    send(
      ch.conn,
      encodeMessage(ch.conn.vsn, {
        joinRef: ch.joinRef,
        ref: null,
        topic: ch.topic,
        event: "system",
        payload: { extension: "system", status: "error", message, channel: ch.sub },
      }),
    );
    close(ch);
  }

  /** Re-checks the token when it expires, and at least every five minutes. */
  function scheduleConfirm(ch: Channel) {
    clearTimeout(ch.confirmTimer);
    const left = Number(ch.claims.exp) * 1000 - Date.now();
    ch.confirmTimer = setTimeout(() => {
      enqueue(ch.conn, async () => {
        if (ch.conn.channels.get(ch.topic) !== ch) return;
        try {
          ch.claims = await claimsOf(ch.token);
          scheduleConfirm(ch);
        } catch (err) {
          shutdown(ch, (err as Error).message.replace(/^InvalidJWTToken: /, ""));
        }
      });
    }, Math.max(0, Math.min(confirmTokenMs, left)));
  }

  async function joinChannel(conn: Conn, m: InMessage) {
    const reply = (status: "ok" | "error", response: unknown) =>
      send(conn, encodeReply(conn.vsn, m, status, response));
    if (!m.topic.startsWith("realtime:")) return reply("error", { reason: "unmatched topic" });
    const sub = m.topic.slice("realtime:".length);
    if (!sub) return reply("error", { reason: "TopicNameRequired: You must provide a topic name" });
    const config = (m.payload.config ?? {}) as {
      broadcast?: { self?: boolean; ack?: boolean; replay?: unknown };
      postgres_changes?: unknown[];
      private?: boolean;
    };
    if (Array.isArray(config.postgres_changes) && config.postgres_changes.length > 0) {
      return reply("error", {
        reason: "postgres_changes is not served by the local Realtime stand-in (Broadcast only)",
      });
    }
    if (config.broadcast?.replay) {
      return reply("error", {
        reason: "replay is not served by the local Realtime stand-in",
      });
    }
    // As Phoenix: a second join of a topic on one socket closes the first.
    const previous = conn.channels.get(m.topic);
    if (previous) close(previous);
    const given = m.payload.access_token ?? m.payload.user_token;
    const token = typeof given === "string" && !given.startsWith("sb_") ? given : conn.tenantToken;
    const priv = config.private === true;
    let claims: JWTPayload;
    try {
      claims = await authorize(sub, priv, token);
    } catch (err) {
      if (err instanceof Refusal) return reply("error", { reason: err.message });
      throw err;
    }
    const ch: Channel = {
      conn,
      topic: m.topic,
      sub,
      joinRef: m.joinRef ?? m.ref,
      private: priv,
      self: config.broadcast?.self === true,
      ack: config.broadcast?.ack === true,
      token,
      claims,
      write: priv ? null : true,
    };
    register(ch);
    scheduleConfirm(ch);
    reply("ok", { postgres_changes: [] });
  }

  async function accessToken(ch: Channel, m: InMessage) {
    const token = m.payload.access_token;
    if (typeof token !== "string" || token.startsWith("sb_") || token === ch.token) return;
    try {
      ch.claims = await claimsOf(token);
      ch.token = token;
      ch.write = ch.private ? null : true;
      if (ch.private) {
        let ok = false;
        try {
          ok = await mayRead(ch.sub, ch.claims);
        } catch (err) {
          if (err instanceof Refusal && err.message) throw err;
        }
        if (!ok) {
          throw new Refusal(
            `You no longer have permission to read from this Channel topic: ${ch.sub}`,
          );
        }
      }
      scheduleConfirm(ch);
    } catch (err) {
      if (!(err instanceof Refusal)) throw err;
      shutdown(ch, err.message.replace(/^InvalidJWTToken: /, ""));
    }
  }

  async function broadcastIn(ch: Channel, m: InMessage) {
    let user: UserPayload | null = m.userBroadcast ?? null;
    if (!user) {
      const p = m.payload as { event?: unknown; payload?: unknown };
      if (typeof p.event !== "string") return;
      user = jsonPayload(p.event, JSON.stringify(p.payload ?? {}));
    }
    if (ch.write === null) ch.write = await mayWrite(ch.sub, ch.claims);
    // Hosted drops a refused broadcast without a reply, ack or not.
    if (!ch.write) return;
    fanOut(ch.private, ch.sub, user, undefined, ch.self ? null : ch);
    if (ch.ack) send(ch.conn, encodeReply(ch.conn.vsn, m, "ok", {}));
  }

  async function onMessage(conn: Conn, m: InMessage) {
    if (m.topic === "phoenix" && m.event === "heartbeat") {
      return send(conn, encodeReply(conn.vsn, m, "ok", {}));
    }
    if (m.event === "phx_join") return await joinChannel(conn, m);
    const ch = conn.channels.get(m.topic);
    if (!ch) {
      return send(conn, encodeReply(conn.vsn, m, "error", { reason: "unmatched topic" }));
    }
    switch (m.event) {
      case "phx_leave":
        unregister(ch);
        send(conn, encodeReply(conn.vsn, m, "ok", {}));
        close(ch);
        return;
      case "access_token":
        return await accessToken(ch, m);
      case "broadcast":
        return await broadcastIn(ch, m);
      case "presence":
        return send(
          conn,
          encodeReply(conn.vsn, m, "error", {
            reason: "Presence is not served by the local Realtime stand-in",
          }),
        );
      default:
        // As hosted: other client messages are ignored.
        return;
    }
  }

  /** Runs a socket's work in order, one message at a time, as a Phoenix channel does. */
  function enqueue(conn: Conn, work: () => Promise<unknown> | unknown) {
    conn.queue = conn.queue.then(work).then(() => {}, (err) => {
      log(`[realtime] ${(err as Error).message}`);
    });
  }

  // --- delivery ------------------------------------------------------------------------
  /** Sends a broadcast to the channels on (`priv`, `sub`), encoded once per protocol. */
  function fanOut(
    priv: boolean,
    sub: string,
    user: UserPayload,
    meta: Record<string, unknown> | undefined,
    except: Channel | null,
  ) {
    const set = subscribers.get(key(priv, sub));
    if (!set) return;
    const frames = new Map<Vsn, string | Uint8Array | null>();
    for (const ch of set) {
      if (ch === except) continue;
      let frame = frames.get(ch.conn.vsn);
      if (frame === undefined) {
        frame = encodeBroadcast(ch.conn.vsn, ch.topic, user, meta);
        frames.set(ch.conn.vsn, frame);
      }
      if (frame !== null) send(ch.conn, frame);
    }
  }

  /** Delivered ids → when (ms): the NOTIFY and the poll may both bring one message. */
  const seen = new Map<string, number>();
  const pending: string[] = [];
  let delivering: Promise<void> | null = null;

  interface MessageRow {
    id: string;
    topic: string;
    event: string | null;
    private: boolean | null;
    payload: string | null;
    binary_payload: Uint8Array | null;
  }

  function deliver(row: MessageRow) {
    if (seen.has(row.id)) return;
    seen.set(row.id, Date.now());
    delivered++;
    const user: UserPayload = row.binary_payload
      ? { event: row.event ?? "", encoding: "binary", data: row.binary_payload }
      : jsonPayload(row.event ?? "", row.payload ?? "null");
    fanOut(row.private === true, row.topic, user, { id: row.id }, null);
  }

  /** Fetches and delivers what the NOTIFYs named, in their order, a batch at a time. */
  async function deliverPending() {
    try {
      while (pending.length > 0) {
        const batch = pending.splice(0, 1000).filter((id) => !seen.has(id));
        if (batch.length === 0) continue;
        const rows = await sql<MessageRow[]>`
          select id::text, topic, event, private, payload::text as payload, binary_payload
            from realtime.messages
           where id = any (${batch}::uuid[]) and extension = 'broadcast'`;
        const byId = new Map(rows.map((r) => [r.id, r]));
        for (const id of batch) {
          const row = byId.get(id);
          if (row) deliver(row);
        }
      }
    } catch (err) {
      if (!stopping) log(`[realtime] delivering: ${(err as Error).message}; the poll retries`);
      pending.length = 0;
    }
  }

  function take(ids: string[]) {
    if (ids.length === 0) return;
    pending.push(...ids);
    // The callback runs after the assignment, however soon the delivery ends.
    delivering ??= deliverPending().finally(() => delivering = null);
  }

  let lastPoll: Date | null = null;
  /** The safety net: committed messages of the last moments that no NOTIFY brought. */
  async function poll(sinceMs = pollSlackMs) {
    const [{ now }] = await sql<{ now: Date }[]>`select now() as now`;
    const since = new Date((lastPoll ?? now).getTime() - sinceMs);
    lastPoll = now;
    const rows = await sql<{ id: string; private: boolean | null; topic: string }[]>`
      select id::text, private, topic from realtime.messages
       where extension = 'broadcast'
         and inserted_at >= (${since}::timestamptz at time zone 'UTC')
       order by inserted_at, id`;
    const missed: string[] = [];
    for (const r of rows) {
      if (seen.has(r.id)) continue;
      if (subscribers.has(key(r.private === true, r.topic))) missed.push(r.id);
      // Committed while nobody listened: not for a later join.
      else seen.set(r.id, Date.now());
    }
    take(missed);
    // Keep what a late NOTIFY might still name.
    const keepAfter = Date.now() - 120_000;
    for (const [id, at] of seen) {
      if (at >= keepAfter) break;
      seen.delete(id);
    }
  }

  /** The ids of the NOTIFY's messages that someone listens to (lines of [id, private, topic]). */
  function listened(payload: string): string[] {
    const ids: string[] = [];
    for (const line of payload.split("\n")) {
      try {
        const [id, priv, topic] = JSON.parse(line) as [string, string, string];
        if (subscribers.has(key(priv === "true", topic))) ids.push(id);
        // Nobody listened when it committed: the poll must not hand it to a later join.
        else seen.set(id, Date.now());
      } catch {
        log(`[realtime] unreadable notification line ${JSON.stringify(line.slice(0, 80))}`);
      }
    }
    return ids;
  }

  await sql.listen(
    "realtime_messages",
    (payload) => take(listened(payload)),
    // Also on every reconnect: catch up on what was committed while the listener was away.
    () => void poll(60_000).catch(() => {}),
  );

  const pollTimer = setInterval(() => {
    if (!stopping) poll().catch((err) => log(`[realtime] poll: ${err.message}`));
  }, pollMs);
  const janitor = setInterval(() => {
    sql.unsafe(partitionsSql).catch((err) => log(`[realtime] partitions: ${err.message}`));
  }, 3600_000);
  const idleTimer = setInterval(() => {
    const cutoff = Date.now() - idleTimeoutMs;
    for (const conn of conns) if (conn.lastSeen < cutoff) conn.ws.close(1000, "idle");
  }, 10_000);

  // --- HTTP ----------------------------------------------------------------------------
  function json(status: number, body: unknown): Response {
    return Response.json(body, { status });
  }

  function handle(req: Request): Response {
    const url = new URL(req.url);
    const path = url.pathname.replace(/^\/realtime\/v1/, "").replace(/\/+$/, "") || "/";
    if (path !== "/websocket") {
      return json(404, {
        error: `no route for ${url.pathname}; the stand-in serves /realtime/v1/websocket`,
      });
    }
    if (stopping) return json(503, { error: "Realtime is restarting, please standby" });
    const apikey = req.headers.get("x-api-key") ?? url.searchParams.get("apikey") ??
      req.headers.get("apikey");
    if (!apikey) return json(401, { error: "API key is missing" });
    const tenantToken = opts.apiKeys[apikey];
    if (!tenantToken) return json(401, { message: "Invalid API key" });
    if ((req.headers.get("upgrade") ?? "").toLowerCase() !== "websocket") {
      return json(400, { error: "expected a websocket upgrade" });
    }
    const vsnParam = url.searchParams.get("vsn") ?? "1.0.0";
    if (vsnParam !== "1.0.0" && vsnParam !== "2.0.0") {
      return json(403, { error: `protocol version ${vsnParam} is not served (1.0.0, 2.0.0)` });
    }
    let upgraded;
    try {
      upgraded = Deno.upgradeWebSocket(req);
    } catch (err) {
      return json(400, { error: `websocket upgrade failed: ${(err as Error).message}` });
    }
    const { socket, response } = upgraded;
    socket.binaryType = "arraybuffer";
    const conn: Conn = {
      ws: socket,
      vsn: vsnParam,
      tenantToken,
      channels: new Map(),
      queue: Promise.resolve(),
      lastSeen: Date.now(),
    };
    socket.onopen = () => conns.add(conn);
    socket.onmessage = (e) => {
      conn.lastSeen = Date.now();
      let m: InMessage;
      try {
        m = decodeFrame(e.data as string | ArrayBuffer, conn.vsn);
      } catch (err) {
        if (err instanceof ProtocolError) {
          log(`[realtime] closing a socket: ${err.message}`);
          socket.close(1003, err.message.slice(0, 120));
          return;
        }
        throw err;
      }
      enqueue(conn, () => onMessage(conn, m));
    };
    socket.onclose = () => {
      conns.delete(conn);
      for (const ch of [...conn.channels.values()]) unregister(ch);
    };
    socket.onerror = () => {};
    return response;
  }

  return {
    handle,
    stats: () => ({
      sockets: conns.size,
      channels: [...subscribers.values()].reduce((n, s) => n + s.size, 0),
      delivered,
    }),
    async stop() {
      stopping = true;
      clearInterval(pollTimer);
      clearInterval(janitor);
      clearInterval(idleTimer);
      for (const conn of conns) {
        for (const ch of [...conn.channels.values()]) unregister(ch);
        conn.ws.close(1001, "server stopping");
      }
      await delivering;
      await sql.end({ timeout: 2 });
    },
  };
}
