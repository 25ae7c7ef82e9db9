// What the Auth stand-in keeps in Postgres, in hosted Auth's own tables
// (stack/sql/auth_schema.sql): users with their bcrypt passwords, sessions with the methods
// they were signed in with, refresh tokens rotated on use, and the access-token hook call.
// Every function takes the transaction it runs in; the server decides the boundaries.
import type postgres from "postgres";

export type Tx = postgres.TransactionSql | postgres.Sql;

export interface UserRow {
  id: string;
  aud: string | null;
  role: string | null;
  email: string | null;
  phone: string | null;
  email_confirmed_at: Date | null;
  phone_confirmed_at: Date | null;
  confirmed_at: Date | null;
  last_sign_in_at: Date | null;
  raw_app_meta_data: Record<string, unknown> | null;
  raw_user_meta_data: Record<string, unknown> | null;
  is_anonymous: boolean;
  created_at: Date | null;
  updated_at: Date | null;
  banned_until: Date | null;
}

const userColumns = [
  "id",
  "aud",
  "role",
  "email",
  "phone",
  "email_confirmed_at",
  "phone_confirmed_at",
  "confirmed_at",
  "last_sign_in_at",
  "raw_app_meta_data",
  "raw_user_meta_data",
  "is_anonymous",
  "created_at",
  "updated_at",
  "banned_until",
];

/** An entry of the amr claim: how and when the session was authenticated. */
export interface AmrEntry {
  method: string;
  timestamp: number;
}

export async function userById(tx: Tx, id: string): Promise<UserRow | null> {
  const [u] = await tx<UserRow[]>`
    select ${tx(userColumns)} from auth.users where id = ${id}::uuid`;
  return u ?? null;
}

/**
 * The user with this email (case-insensitive, as GoTrue looks it up) and audience, and
 * whether the password matches its bcrypt hash. pgcrypto computes $2a$ only; $2b$ and $2y$
 * hash the same (Go's bcrypt, GoTrue's, reads all three alike). Other hashes never match.
 */
export async function userByEmailAndPassword(
  tx: Tx,
  email: string,
  aud: string,
  password: string,
): Promise<{ user: UserRow; passwordOk: boolean } | null> {
  const [row] = await tx`
    select ${tx(userColumns)},
           case when encrypted_password ~ '^\\$2[aby]\\$'
                then '$2a$' || substr(encrypted_password, 5)
                     = extensions.crypt(${password}, '$2a$' || substr(encrypted_password, 5))
                else false end as password_ok
      from auth.users
     where lower(email) = lower(${email}) and aud = ${aud}`;
  if (!row) return null;
  const { password_ok, ...user } = row;
  return { user: user as UserRow, passwordOk: password_ok === true };
}

export function isBanned(u: UserRow): boolean {
  return u.banned_until !== null && u.banned_until.getTime() > Date.now();
}

/** Hosted's refresh-token format: 12 lowercase base32 characters. */
function newRefreshToken(): string {
  const alphabet = "abcdefghijklmnopqrstuvwxyz234567";
  const bytes = crypto.getRandomValues(new Uint8Array(12));
  return Array.from(bytes, (b) => alphabet[b & 31]).join("");
}

async function insertRefreshToken(
  tx: Tx,
  userId: string,
  sessionId: string,
  parent: string | null,
): Promise<string> {
  const token = newRefreshToken();
  await tx`
    insert into auth.refresh_tokens
      (instance_id, token, user_id, revoked, parent, session_id, created_at, updated_at)
    values ('00000000-0000-0000-0000-000000000000', ${token}, ${userId}, false, ${parent},
            ${sessionId}, now(), now())`;
  return token;
}

/** A new session for a sign-in by `method`, its first refresh token, last_sign_in_at. */
export async function createSession(
  tx: Tx,
  user: UserRow,
  method: string,
  userAgent: string | null,
): Promise<{ sessionId: string; refreshToken: string; user: UserRow }> {
  const [s] = await tx`
    insert into auth.sessions (id, user_id, created_at, updated_at, aal, user_agent)
    values (gen_random_uuid(), ${user.id}, now(), now(), 'aal1', ${userAgent})
    returning id`;
  await tx`
    insert into auth.mfa_amr_claims (id, session_id, created_at, updated_at, authentication_method)
    values (gen_random_uuid(), ${s.id}, now(), now(), ${method})
    on conflict on constraint mfa_amr_claims_session_id_authentication_method_pkey
    do update set updated_at = excluded.updated_at`;
  const refreshToken = await insertRefreshToken(tx, user.id, s.id, null);
  const [u] = await tx<UserRow[]>`
    update auth.users set last_sign_in_at = now() where id = ${user.id}
    returning ${tx(userColumns)}`;
  return { sessionId: s.id, refreshToken, user: u };
}

export async function sessionAmr(tx: Tx, sessionId: string): Promise<AmrEntry[]> {
  const rows = await tx`
    select authentication_method, extract(epoch from updated_at)::bigint as ts
      from auth.mfa_amr_claims where session_id = ${sessionId}
     order by updated_at, authentication_method`;
  return rows.map((r) => ({ method: r.authentication_method, timestamp: Number(r.ts) }));
}

export async function sessionExists(tx: Tx, sessionId: string): Promise<boolean> {
  const [s] = await tx`select 1 from auth.sessions where id = ${sessionId}::uuid`;
  return Boolean(s);
}

export type RefreshOutcome =
  | { ok: true; userId: string; sessionId: string; refreshToken: string }
  | { ok: false; code: string; message: string };

export interface RotationPolicy {
  /** Seconds a revoked token may still be exchanged (a client that lost the response). */
  reuseIntervalSeconds: number;
  /** Whether reusing a revoked token past the interval revokes the whole session's tokens. */
  revokeFamilyOnReuse: boolean;
}

/**
 * Exchanges a refresh token as GoTrue does for its stored (v1) tokens: the token row is
 * locked, revoked and replaced by a child. A revoked token gets the session's current token
 * back when that is its child (the client lost the answer), is exchanged again within the
 * reuse interval, and past it is refused as already used — and the session's tokens are
 * revoked. Refusals that change rows (reuse, an orphan token) must be committed.
 */
export async function rotateRefreshToken(
  tx: Tx,
  token: string,
  policy: RotationPolicy,
  userAgent: string | null,
): Promise<RefreshOutcome> {
  const [rt] = await tx`
    select id, token, user_id, revoked, session_id,
           now() > updated_at + make_interval(secs => ${policy.reuseIntervalSeconds}) as past_reuse
      from auth.refresh_tokens where token = ${token}
       for update`;
  if (!rt) {
    return {
      ok: false,
      code: "refresh_token_not_found",
      message: "Invalid Refresh Token: Refresh Token Not Found",
    };
  }
  const user = await userById(tx, rt.user_id);
  if (user && isBanned(user)) {
    return { ok: false, code: "user_banned", message: "Invalid Refresh Token: User Banned" };
  }
  const [session] = rt.session_id
    ? await tx`
        select id, not_after < now() as expired
          from auth.sessions where id = ${rt.session_id} for update`
    : [];
  if (!session || !user) {
    await tx`delete from auth.refresh_tokens where id = ${rt.id}`;
    return {
      ok: false,
      code: "session_not_found",
      message: "Invalid Refresh Token: No Valid Session Found",
    };
  }
  if (session.expired) {
    return {
      ok: false,
      code: "session_expired",
      message: "Invalid Refresh Token: Session Expired",
    };
  }
  let issued: string | null = null;
  if (rt.revoked) {
    const [active] = await tx`
      select token, parent from auth.refresh_tokens
       where session_id = ${session.id} and revoked = false
       order by id desc limit 1`;
    if (active && active.parent === rt.token) {
      issued = active.token;
    } else if (rt.past_reuse) {
      if (policy.revokeFamilyOnReuse) {
        await tx`
          update auth.refresh_tokens set revoked = true, updated_at = now()
           where session_id = ${session.id} and revoked = false`;
      }
      return {
        ok: false,
        code: "refresh_token_already_used",
        message: "Invalid Refresh Token: Already Used",
      };
    }
  }
  if (!issued) {
    await tx`update auth.refresh_tokens set revoked = true, updated_at = now() where id = ${rt.id}`;
    issued = await insertRefreshToken(tx, user.id, session.id, rt.token);
  }
  await tx`
    update auth.sessions
       set refreshed_at = now() at time zone 'utc', updated_at = now(),
           user_agent = coalesce(${userAgent}, user_agent)
     where id = ${session.id}`;
  return { ok: true, userId: user.id, sessionId: session.id, refreshToken: issued };
}

export type LogoutScope = "global" | "local" | "others";

/** Deletes sessions (their refresh tokens and amr rows go with them). */
export async function logout(
  tx: Tx,
  userId: string,
  sessionId: string | null,
  scope: LogoutScope,
): Promise<void> {
  if (sessionId && scope === "local") {
    await tx`delete from auth.sessions where id = ${sessionId}`;
  } else if (sessionId && scope === "others") {
    await tx`delete from auth.sessions where id <> ${sessionId} and user_id = ${userId}`;
  } else {
    await tx`delete from auth.sessions where user_id = ${userId}`;
  }
}

/**
 * Calls a Postgres access-token hook as hosted Auth does: inside the issuing transaction,
 * as supabase_auth_admin (whose grants alone allow it), under a statement timeout.
 */
export async function callAccessTokenHook(
  tx: Tx,
  fn: { schema: string; name: string },
  event: unknown,
  timeoutMs: number,
): Promise<unknown> {
  const ident = (s: string) => `"${s.replaceAll('"', '""')}"`;
  await tx`set local role supabase_auth_admin`;
  await tx.unsafe(`set local statement_timeout = ${Math.trunc(timeoutMs)}`);
  const [row] = await tx.unsafe(
    `select ${ident(fn.schema)}.${ident(fn.name)}($1::text::jsonb) as out`,
    [JSON.stringify(event)],
  );
  await tx`reset role`;
  await tx.unsafe("set local statement_timeout to default");
  return row.out;
}
