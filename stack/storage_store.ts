// What the Storage stand-in (storage_server.ts) keeps, and how it reaches it: object rows in
// hosted's storage schema (stack/sql/storage_schema.sql), bytes in files. Every statement
// runs in a transaction scoped as the Storage server scopes its own: as the caller (role,
// request.jwt.claims, storage.operation set locally), so the project's policies decide, or
// as supabase_storage_admin itself (the tables' owner: no RLS) where hosted uses its
// superuser connection (bucket lookups, signed URLs, finishing an upload).
import postgres from "postgres";
import { createHash } from "node:crypto";
import { join, resolve, sep } from "node:path";

export type Sql = postgres.Sql;
export type Tx = postgres.TransactionSql;

/** Who a request acts as: the role its JWT names and the JWT's claims. */
export interface Caller {
  role: "anon" | "authenticated" | "service_role";
  claims: Record<string, unknown>;
  jwt: string;
}

export interface Bucket {
  id: string;
  public: boolean;
  file_size_limit: number | null;
  allowed_mime_types: string[] | null;
}

export interface ObjectRow {
  id: string;
  bucket_id: string;
  name: string;
  owner: string | null;
  owner_id: string | null;
  version: string | null;
  metadata: ObjectMetadata | null;
  user_metadata: Record<string, unknown> | null;
  created_at: string;
  updated_at: string;
  last_accessed_at: string;
}

/** storage.objects.metadata as the Storage server writes it. */
export interface ObjectMetadata {
  eTag: string;
  size: number;
  mimetype: string;
  cacheControl: string;
  lastModified: string;
  contentLength: number;
  httpStatusCode: number;
}

const objectColumns =
  "id, bucket_id, name, owner, owner_id, version, metadata, user_metadata, created_at, updated_at, last_accessed_at";

/** A Postgres error of the scoped statements, to be rendered as Storage renders it. */
export interface PgError {
  code?: string;
  message?: string;
}

export class StorageStore {
  readonly sql: Sql;
  readonly root: string;

  constructor(dbUrl: string, root: string) {
    this.sql = postgres(dbUrl, { max: 4, onnotice: () => {}, prepare: false });
    this.root = resolve(root);
  }

  /** Runs `fn` as the caller: what hosted's Storage runs per request before any query. */
  asCaller<T>(caller: Caller, operation: string, fn: (tx: Tx) => Promise<T>): Promise<T> {
    return this.sql.begin(async (tx) => {
      const sub = typeof caller.claims.sub === "string" ? caller.claims.sub : "";
      await tx`
        select set_config('role', ${caller.role}, true),
               set_config('request.jwt.claim.role', ${caller.role}, true),
               set_config('request.jwt', ${caller.jwt}, true),
               set_config('request.jwt.claim.sub', ${sub}, true),
               set_config('request.jwt.claims', ${JSON.stringify(caller.claims)}, true),
               set_config('storage.operation', ${operation}, true),
               set_config('storage.allow_delete_query', 'true', true)`;
      return await fn(tx);
    }) as Promise<T>;
  }

  /** Runs `fn` as supabase_storage_admin, the tables' owner (RLS does not apply). */
  asAdmin<T>(operation: string, fn: (tx: Tx) => Promise<T>): Promise<T> {
    return this.sql.begin(async (tx) => {
      await tx`select set_config('storage.operation', ${operation}, true),
                      set_config('storage.allow_delete_query', 'true', true)`;
      return await fn(tx);
    }) as Promise<T>;
  }

  async bucket(id: string): Promise<Bucket | null> {
    const [b] = await this.asAdmin("storage.bucket.get", (tx) =>
      tx<Bucket[]>`
        select id, public, file_size_limit::float8 as file_size_limit, allowed_mime_types
          from storage.buckets where id = ${id}`);
    return b ?? null;
  }

  /** The object as `tx`'s role may see it, or null. */
  async findObject(tx: Tx, bucket: string, name: string): Promise<ObjectRow | null> {
    const [o] = await tx.unsafe<ObjectRow[]>(
      `select ${objectColumns} from storage.objects where bucket_id = $1 and name = $2`,
      [bucket, name],
    );
    return o ?? null;
  }

  /** The names among `names` that `tx`'s role may see. */
  async visibleNames(tx: Tx, bucket: string, names: string[]): Promise<Set<string>> {
    const rows = await tx`
      select name from storage.objects
       where bucket_id = ${bucket}::text and name = any (${names}::text[])`;
    return new Set(rows.map((r) => r.name as string));
  }

  /**
   * Whether the caller may write the row an upload would make: hosted's canUpload, an insert
   * (or, for an upsert, an insert … on conflict do update) as the caller, rolled back. Throws
   * the Postgres error (42501 RLS, 23505 exists) when not.
   */
  async testUpload(
    caller: Caller,
    operation: string,
    row: { bucket: string; name: string; owner: string | null; upsert: boolean },
  ): Promise<void> {
    const rollback = new Error("rollback");
    try {
      await this.asCaller(caller, operation, async (tx) => {
        await tx.unsafe(
          `insert into storage.objects (bucket_id, name, owner, owner_id, version)
           values ($1, $2, $3::uuid, $4, '1')
           ${
            row.upsert
              ? "on conflict (bucket_id, name) do update set version = excluded.version, owner = excluded.owner, owner_id = excluded.owner_id"
              : ""
          }`,
          [row.bucket, row.name, uuidOrNull(row.owner), row.owner],
        );
        throw rollback;
      });
    } catch (err) {
      if (err !== rollback) throw err;
    }
  }

  /**
   * Records an upload whose bytes are written (`version`): the row made or replaced as the
   * owner, under a lock on the name, as hosted's completeUpload. Returns the row and the
   * version it replaced (whose file the caller removes). Throws 23505 when the object
   * appeared meanwhile and this is no upsert.
   */
  completeUpload(
    operation: string,
    o: {
      bucket: string;
      name: string;
      owner: string | null;
      version: string;
      metadata: ObjectMetadata;
      userMetadata: Record<string, unknown> | null;
      upsert: boolean;
    },
  ): Promise<{ row: ObjectRow; replaced: string | null }> {
    return this.asAdmin(operation, async (tx) => {
      await tx`select pg_advisory_xact_lock(hashtextextended(${`${o.bucket}/${o.name}`}, 0))`;
      const [current] = await tx`
        select version from storage.objects
         where bucket_id = ${o.bucket} and name = ${o.name} for update`;
      if (current && !o.upsert) {
        throw Object.assign(new Error("the object exists"), { code: "23505" });
      }
      const [row] = await tx.unsafe<ObjectRow[]>(
        `insert into storage.objects (bucket_id, name, owner, owner_id, version, metadata,
                                      user_metadata)
         values ($1, $2, $3::uuid, $4, $5, $6::jsonb, $7::jsonb)
         on conflict (bucket_id, name) do update
           set owner = excluded.owner, owner_id = excluded.owner_id, version = excluded.version,
               metadata = excluded.metadata, user_metadata = excluded.user_metadata,
               last_accessed_at = now()
         returning ${objectColumns}`,
        [
          o.bucket,
          o.name,
          uuidOrNull(o.owner),
          o.owner,
          o.version,
          // postgres.js serialises them for the jsonb parameters.
          o.metadata as never,
          o.userMetadata as never,
        ],
      );
      return { row, replaced: current?.version ?? null };
    });
  }

  /** Deletes the named objects `tx`'s role may delete; returns their rows. */
  async deleteObjects(tx: Tx, bucket: string, names: string[]): Promise<ObjectRow[]> {
    return await tx.unsafe<ObjectRow[]>(
      `delete from storage.objects where bucket_id = $1 and name = any ($2::text[])
       returning ${objectColumns}`,
      [bucket, names],
    );
  }

  /** Where the bytes of one version of an object live: <root>/<bucket>/<name>/<version>. */
  filePath(bucket: string, name: string, version: string): string {
    const path = resolve(join(this.root, bucket, ...name.split("/"), version));
    // Names are validated before they get here; this is the last word on staying inside.
    if (!path.startsWith(this.root + sep)) {
      throw new Error(`path escapes the storage root: ${name}`);
    }
    return path;
  }

  async writeFile(bucket: string, name: string, version: string, bytes: Uint8Array) {
    const path = this.filePath(bucket, name, version);
    await Deno.mkdir(join(path, ".."), { recursive: true });
    await Deno.writeFile(path, bytes);
  }

  async removeFile(bucket: string, name: string, version: string | null) {
    if (!version) return;
    await Deno.remove(this.filePath(bucket, name, version)).catch(() => {});
  }

  async openFile(bucket: string, name: string, version: string): Promise<Deno.FsFile | null> {
    try {
      return await Deno.open(this.filePath(bucket, name, version));
    } catch (err) {
      if (err instanceof Deno.errors.NotFound) return null;
      throw err;
    }
  }

  end(): Promise<void> {
    return this.sql.end({ timeout: 5 });
  }
}

const uuidPattern = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/** objects.owner is a uuid (deprecated), owner_id the sub as text. */
function uuidOrNull(v: string | null): string | null {
  return v !== null && uuidPattern.test(v) ? v : null;
}

/** The metadata hosted's Storage records for stored bytes. */
export function objectMetadata(
  bytes: Uint8Array,
  mimetype: string,
  cacheControl: string,
): ObjectMetadata {
  return {
    eTag: `"${createHash("md5").update(bytes).digest("hex")}"`,
    size: bytes.byteLength,
    mimetype,
    cacheControl,
    lastModified: new Date().toISOString(),
    contentLength: bytes.byteLength,
    httpStatusCode: 200,
  };
}
