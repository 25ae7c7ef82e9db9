// Compares two databases object by object: what the catalog says about every table, column,
// constraint, index, view, function, trigger, policy, sequence, type, grant and comment of
// the project's schemas, the event triggers, roles and memberships of the cluster, default
// privileges, the rows of every table (and pg_cron's jobs), and what the project adds to the
// platform's tables (its policies on them, its bucket rows). Each difference is one line
// naming the object, so whoever changed one side knows what to change on the other.
import postgres from "postgres";
import { policyGrantTables } from "./migrate.ts";

/** The schemas the project's migrations create objects in. */
export const projectSchemas = ["public", "internal", "jobs"];

/**
 * Platform tables the project writes rows into without owning them (the project's buckets);
 * its policies on platform tables are compared for every table supautils lets postgres write
 * policies on (policyGrantTables). The tables themselves are the platform's, not compared.
 */
export const platformTablesWithProjectRows = ["storage.buckets"];

/**
 * Tables whose rows record what happened rather than what was declared, so two builds of
 * one schema differ there: the audit log and its chain heads (the policy-DDL event triggers
 * audit the DDL that follows them, and migrations run other DDL than the schema files), and
 * jobs.not_configured (a schedule that ticks while no Vault secrets are stored, as in any
 * fresh cluster when a minute turns, records its job there).
 */
export const historyTables = [
  "public.audit_log",
  "internal.audit_chain_heads",
  "jobs.not_configured",
];

/** Object key (`function internal.x(a integer)`) → field → value. */
export type Snapshot = Map<string, Map<string, string>>;

export interface SnapshotOptions {
  schemas?: string[];
  /** Tables (schema.name) whose rows are not compared. */
  skipRows?: string[];
}

/** `a=arwdDxt/postgres b=r/postgres`, sorted: the same privileges compare equal in any order. */
const aclText = (expr: string, kind: string, owner: string) =>
  `(select coalesce(string_agg(x::text, ' ' order by x::text), '')
      from unnest(coalesce(${expr}, pg_catalog.acldefault(${kind}, ${owner}))) x)`;

/** Defaults that are different on every insert: their values are not compared. */
const volatileDefault =
  /\b(now|clock_timestamp|statement_timestamp|transaction_timestamp|timeofday|gen_random_uuid|uuid_generate_v[14]|random|nextval)\(|\bCURRENT_(TIMESTAMP|TIME|DATE)\b|\bLOCALTIMESTAMP\b/i;

/**
 * Constraint names Postgres makes up when none is given (`<table>_pkey`, `<table>_<cols>_key`,
 * `_fkey`, `_check`, `_check1`, `_excl`): they may differ between two equivalent definitions,
 * so such constraints are matched by their definition, not their name.
 */
export function isGeneratedConstraintName(name: string, table: string): boolean {
  const prefix = name.length >= 63 ? table.slice(0, 20) : table;
  return name.startsWith(`${prefix}_`) &&
    /_(pkey|key|fkey|check|excl|not_null)\d*$/.test(name);
}

function put(snap: Snapshot, key: string, fields: Record<string, unknown>) {
  let n = 2, k = key;
  while (snap.has(k)) k = `${key} #${n++}`;
  const m = new Map<string, string>();
  for (const [f, v] of Object.entries(fields)) {
    m.set(f, v === null || v === undefined ? "" : typeof v === "string" ? v : JSON.stringify(v));
  }
  snap.set(k, m);
}

const relKinds: Record<string, string> = {
  r: "table",
  p: "table",
  v: "view",
  m: "materialized view",
  S: "sequence",
  f: "foreign table",
};
const eventTriggerStates: Record<string, string> = {
  O: "enabled",
  D: "disabled",
  R: "enabled replica",
  A: "enabled always",
};
const triggerStates = eventTriggerStates;

/** Reads everything compared from the database at `adminUrl` (a superuser: RLS and all). */
export async function snapshotDatabase(
  adminUrl: string,
  opts: SnapshotOptions = {},
): Promise<Snapshot> {
  const schemas = opts.schemas ?? projectSchemas;
  const skipRows = new Set(opts.skipRows ?? historyTables);
  const sql = postgres(adminUrl, { max: 1, onnotice: () => {}, prepare: false });
  const snap: Snapshot = new Map();
  try {
    // Types, functions and expressions print schema-qualified, except pg_catalog's.
    await sql`select pg_catalog.set_config('search_path', '', false)`;
    const notExtensionMember = (classid: string, oid: string) =>
      sql.unsafe(
        `not exists (select 1 from pg_catalog.pg_depend d
                      where d.classid = '${classid}'::regclass and d.objid = ${oid}
                        and d.deptype = 'e')`,
      );

    for (
      const r of await sql`
      select n.nspname, pg_catalog.pg_get_userbyid(n.nspowner) as owner,
             ${sql.unsafe(aclText("n.nspacl", "'n'", "n.nspowner"))} as acl,
             pg_catalog.obj_description(n.oid, 'pg_namespace') as comment
        from pg_catalog.pg_namespace n where n.nspname = any (${schemas})`
    ) {
      put(snap, `schema ${r.nspname}`, { owner: r.owner, grants: r.acl, comment: r.comment });
    }

    const rels = await sql`
      select c.oid, n.nspname, c.relname, c.relkind,
             pg_catalog.pg_get_userbyid(c.relowner) as owner,
             c.relrowsecurity, c.relforcerowsecurity, c.relpersistence,
             coalesce(pg_catalog.array_to_string(c.reloptions, ', '), '') as options,
             ${
      sql.unsafe(
        aclText(
          "c.relacl",
          "case when c.relkind = 'S' then 's' else 'r' end::\"char\"",
          "c.relowner",
        ),
      )
    } as acl,
             pg_catalog.obj_description(c.oid, 'pg_class') as comment,
             case when c.relkind in ('v', 'm') then pg_catalog.pg_get_viewdef(c.oid, true) end
               as viewdef
        from pg_catalog.pg_class c join pg_catalog.pg_namespace n on n.oid = c.relnamespace
       where n.nspname = any (${schemas}) and c.relkind in ('r', 'p', 'v', 'm', 'S', 'f')
         and ${notExtensionMember("pg_class", "c.oid")}`;
    for (const r of rels) {
      const fields: Record<string, unknown> = {
        owner: r.owner,
        grants: r.acl,
        comment: r.comment,
      };
      if (r.relkind === "r" || r.relkind === "p") {
        fields["row level security"] = r.relrowsecurity;
        fields["forced row level security"] = r.relforcerowsecurity;
        fields.persistence = r.relpersistence;
        fields.partitioned = r.relkind === "p";
      }
      if (r.relkind !== "S") fields.options = r.options;
      if (r.viewdef !== null) fields.definition = r.viewdef;
      put(snap, `${relKinds[r.relkind]} ${r.nspname}.${r.relname}`, fields);
    }

    for (
      const r of await sql`
      select n.nspname, c.relname, s.seqtypid::regtype::text as type, s.seqstart, s.seqincrement,
             s.seqmin, s.seqmax, s.seqcache, s.seqcycle,
             (select format('%s.%s%s', tn.nspname, t.relname,
                            coalesce('.' || a.attname, '') ||
                            case d.deptype when 'i' then ' (identity)' else '' end)
                from pg_catalog.pg_depend d
                join pg_catalog.pg_class t on t.oid = d.refobjid
                join pg_catalog.pg_namespace tn on tn.oid = t.relnamespace
                left join pg_catalog.pg_attribute a
                  on a.attrelid = d.refobjid and a.attnum = d.refobjsubid
               where d.classid = 'pg_class'::regclass and d.objid = c.oid
                 and d.refclassid = 'pg_class'::regclass and d.deptype in ('a', 'i')
               limit 1) as owned_by
        from pg_catalog.pg_sequence s
        join pg_catalog.pg_class c on c.oid = s.seqrelid
        join pg_catalog.pg_namespace n on n.oid = c.relnamespace
       where n.nspname = any (${schemas}) and ${notExtensionMember("pg_class", "c.oid")}`
    ) {
      const seq = snap.get(`sequence ${r.nspname}.${r.relname}`);
      if (!seq) continue;
      seq.set("type", r.type);
      seq.set(
        "parameters",
        `start ${r.seqstart} increment ${r.seqincrement} min ${r.seqmin} max ${r.seqmax} cache ${r.seqcache}${
          r.seqcycle ? " cycle" : ""
        }`,
      );
      seq.set("owned by", r.owned_by ?? "");
    }

    for (
      const r of await sql`
      select n.nspname, c.relname, a.attname,
             pg_catalog.format_type(a.atttypid, a.atttypmod) as type, a.attnotnull,
             pg_catalog.pg_get_expr(d.adbin, d.adrelid) as default_expr,
             a.attidentity, a.attgenerated,
             case when a.attcollation <> t.typcollation then co.collname end as collation,
             ${sql.unsafe(aclText("a.attacl", "'c'", "c.relowner"))} as acl,
             a.attacl is null as default_acl,
             pg_catalog.col_description(c.oid, a.attnum) as comment
        from pg_catalog.pg_attribute a
        join pg_catalog.pg_class c on c.oid = a.attrelid
        join pg_catalog.pg_namespace n on n.oid = c.relnamespace
        join pg_catalog.pg_type t on t.oid = a.atttypid
        left join pg_catalog.pg_attrdef d on d.adrelid = a.attrelid and d.adnum = a.attnum
        left join pg_catalog.pg_collation co on co.oid = a.attcollation
       where n.nspname = any (${schemas}) and c.relkind in ('r', 'p', 'v', 'm', 'f')
         and a.attnum > 0 and not a.attisdropped
         and ${notExtensionMember("pg_class", "c.oid")}`
    ) {
      put(snap, `column ${r.nspname}.${r.relname}.${r.attname}`, {
        type: r.type,
        "not null": r.attnotnull,
        default: r.attgenerated ? null : r.default_expr,
        generated: r.attgenerated ? `always as (${r.default_expr}) stored` : null,
        identity: { a: "always", d: "by default" }[r.attidentity as string] ?? null,
        collation: r.collation,
        // A column ACL that was never set and one emptied by revokes both grant nothing.
        "column grants": r.default_acl ? "" : r.acl,
        comment: r.comment,
      });
    }

    for (
      const r of await sql`
      select n.nspname, c.relname, k.conname, k.contype,
             pg_catalog.pg_get_constraintdef(k.oid) as def,
             pg_catalog.obj_description(k.oid, 'pg_constraint') as comment
        from pg_catalog.pg_constraint k
        join pg_catalog.pg_class c on c.oid = k.conrelid
        join pg_catalog.pg_namespace n on n.oid = c.relnamespace
       where n.nspname = any (${schemas}) and ${notExtensionMember("pg_class", "c.oid")}
       order by k.conname`
    ) {
      const table = `${r.nspname}.${r.relname}`;
      const generated = isGeneratedConstraintName(r.conname, r.relname);
      // Named ones by name; made-up names by what they say, the name compared only loosely.
      const key = generated
        ? `constraint on ${table}: ${r.def}`
        : `constraint ${table}.${r.conname}`;
      put(snap, key, {
        definition: generated ? null : r.def,
        name: generated ? "(generated)" : r.conname,
        comment: r.comment,
      });
    }

    for (
      const r of await sql`
      select n.nspname, c.relname, pg_catalog.pg_get_indexdef(i.indexrelid) as def,
             pg_catalog.obj_description(c.oid, 'pg_class') as comment
        from pg_catalog.pg_index i
        join pg_catalog.pg_class c on c.oid = i.indexrelid
        join pg_catalog.pg_namespace n on n.oid = c.relnamespace
       where n.nspname = any (${schemas}) and ${notExtensionMember("pg_class", "i.indrelid")}
         -- Constraint indexes are compared as their constraint.
         and not exists (select 1 from pg_catalog.pg_constraint k where k.conindid = i.indexrelid
                            and k.contype in ('p', 'u', 'x'))`
    ) {
      put(snap, `index ${r.nspname}.${r.relname}`, { definition: r.def, comment: r.comment });
    }

    for (
      const r of await sql`
      select n.nspname, c.relname, t.tgname, pg_catalog.pg_get_triggerdef(t.oid) as def,
             t.tgenabled, pg_catalog.obj_description(t.oid, 'pg_trigger') as comment
        from pg_catalog.pg_trigger t
        join pg_catalog.pg_class c on c.oid = t.tgrelid
        join pg_catalog.pg_namespace n on n.oid = c.relnamespace
       where n.nspname = any (${schemas}) and not t.tgisinternal`
    ) {
      put(snap, `trigger ${r.tgname} on ${r.nspname}.${r.relname}`, {
        definition: r.def,
        state: triggerStates[r.tgenabled],
        comment: r.comment,
      });
    }

    for (
      const r of await sql`
      select n.nspname, c.relname, p.polname, p.polpermissive, p.polcmd,
             (select string_agg(r.name, ', ' order by r.name)
                from (select case when x = 0 then 'public'
                                  else pg_catalog.pg_get_userbyid(x)::text end as name
                        from unnest(p.polroles) x) r) as roles,
             pg_catalog.pg_get_expr(p.polqual, p.polrelid) as using_expr,
             pg_catalog.pg_get_expr(p.polwithcheck, p.polrelid) as check_expr,
             pg_catalog.obj_description(p.oid, 'pg_policy') as comment
        from pg_catalog.pg_policy p
        join pg_catalog.pg_class c on c.oid = p.polrelid
        join pg_catalog.pg_namespace n on n.oid = c.relnamespace
       where n.nspname = any (${schemas})
          -- The project's policies on platform tables (realtime.messages, …).
          or n.nspname || '.' || c.relname = any (${[...policyGrantTables]})`
    ) {
      put(snap, `policy ${r.polname} on ${r.nspname}.${r.relname}`, {
        as: r.polpermissive ? "permissive" : "restrictive",
        for: { r: "select", a: "insert", w: "update", d: "delete", "*": "all" }[r.polcmd as string],
        to: r.roles,
        using: r.using_expr,
        "with check": r.check_expr,
        comment: r.comment,
      });
    }

    for (
      const r of await sql`
      select n.nspname, p.proname, p.prokind,
             pg_catalog.pg_get_function_identity_arguments(p.oid) as args,
             case when p.prokind <> 'a' then pg_catalog.pg_get_functiondef(p.oid) end as def,
             p.prosrc, p.prosecdef,
             coalesce(pg_catalog.array_to_string(p.proconfig, ', '), '') as config,
             pg_catalog.pg_get_userbyid(p.proowner) as owner,
             ${sql.unsafe(aclText("p.proacl", "'f'", "p.proowner"))} as acl,
             pg_catalog.obj_description(p.oid, 'pg_proc') as comment
        from pg_catalog.pg_proc p join pg_catalog.pg_namespace n on n.oid = p.pronamespace
       where n.nspname = any (${schemas}) and ${notExtensionMember("pg_proc", "p.oid")}`
    ) {
      const kind = { f: "function", p: "procedure", a: "aggregate", w: "window function" }[
        r.prokind as string
      ];
      put(snap, `${kind} ${r.nspname}.${r.proname}(${r.args})`, {
        // The header: language, return type, volatility, strictness, cost, … (body apart).
        definition: r.def === null ? null : String(r.def).replace(r.prosrc, "<body>"),
        body: r.prosrc,
        security: r.prosecdef ? "definer" : "invoker",
        config: r.config,
        owner: r.owner,
        grants: r.acl,
        comment: r.comment,
      });
    }

    for (
      const r of await sql`
      select n.nspname, t.typname, t.typtype,
             pg_catalog.pg_get_userbyid(t.typowner) as owner,
             ${sql.unsafe(aclText("t.typacl", "'T'", "t.typowner"))} as acl,
             pg_catalog.obj_description(t.oid, 'pg_type') as comment,
             case t.typtype
               when 'e' then (select string_agg(e.enumlabel, ', ' order by e.enumsortorder)
                                from pg_catalog.pg_enum e where e.enumtypid = t.oid)
               when 'd' then pg_catalog.format_type(t.typbasetype, t.typtypmod)
                             || case when t.typnotnull then ' not null' else '' end
                             || coalesce(' default ' || t.typdefault, '')
                             || coalesce((select ' ' || string_agg(pg_catalog.pg_get_constraintdef(k.oid), ' ' order by k.conname)
                                            from pg_catalog.pg_constraint k where k.contypid = t.oid), '')
               when 'c' then (select string_agg(a.attname || ' ' || pg_catalog.format_type(a.atttypid, a.atttypmod), ', ' order by a.attnum)
                                from pg_catalog.pg_attribute a
                               where a.attrelid = t.typrelid and a.attnum > 0 and not a.attisdropped)
               else pg_catalog.format_type(t.oid, null)
             end as def
        from pg_catalog.pg_type t join pg_catalog.pg_namespace n on n.oid = t.typnamespace
       where n.nspname = any (${schemas}) and ${notExtensionMember("pg_type", "t.oid")}
         and (t.typtype in ('e', 'd', 'r', 'm')
              or (t.typtype = 'c' and (select c.relkind from pg_catalog.pg_class c
                                        where c.oid = t.typrelid) = 'c'))`
    ) {
      put(snap, `type ${r.nspname}.${r.typname}`, {
        definition: r.def,
        owner: r.owner,
        grants: r.acl,
        comment: r.comment,
      });
    }

    // Database-wide: event triggers, extensions, default privileges, database settings.
    for (
      const r of await sql`
      select e.evtname, e.evtevent, e.evtfoid::regproc::text as fn, e.evtenabled,
             coalesce(pg_catalog.array_to_string(
               array(select x from unnest(e.evttags) x order by 1), ', '), '') as tags,
             pg_catalog.pg_get_userbyid(e.evtowner) as owner,
             pg_catalog.obj_description(e.oid, 'pg_event_trigger') as comment
        from pg_catalog.pg_event_trigger e`
    ) {
      put(snap, `event trigger ${r.evtname}`, {
        event: r.evtevent,
        tags: r.tags,
        function: r.fn,
        state: eventTriggerStates[r.evtenabled],
        owner: r.owner,
        comment: r.comment,
      });
    }

    for (
      const r of await sql`
      select e.extname, e.extversion, n.nspname
        from pg_catalog.pg_extension e join pg_catalog.pg_namespace n on n.oid = e.extnamespace`
    ) {
      put(snap, `extension ${r.extname}`, { version: r.extversion, schema: r.nspname });
    }

    for (
      const r of await sql`
      select pg_catalog.pg_get_userbyid(d.defaclrole) as role, n.nspname, d.defaclobjtype,
             (select string_agg(x::text, ' ' order by x::text) from unnest(d.defaclacl) x) as acl
        from pg_catalog.pg_default_acl d
        left join pg_catalog.pg_namespace n on n.oid = d.defaclnamespace`
    ) {
      const on = { r: "tables", S: "sequences", f: "functions", T: "types", n: "schemas" }[
        r.defaclobjtype as string
      ];
      const where = r.nspname ? ` in schema ${r.nspname}` : "";
      put(snap, `default privileges of ${r.role}${where} on ${on}`, { grants: r.acl });
    }

    for (
      const r of await sql`
      select coalesce(pg_catalog.pg_get_userbyid(nullif(s.setrole, 0)), 'every role') as role,
             pg_catalog.array_to_string(s.setconfig, ', ') as config
        from pg_catalog.pg_db_role_setting s
       where s.setdatabase = (select oid from pg_catalog.pg_database
                               where datname = pg_catalog.current_database())`
    ) {
      put(snap, `database settings for ${r.role}`, { settings: r.config });
    }

    // Cluster-wide: roles (the bootstrap made the same ones on both sides) and memberships.
    for (
      const r of await sql`
      select r.rolname, r.rolsuper, r.rolinherit, r.rolcreaterole, r.rolcreatedb, r.rolcanlogin,
             r.rolreplication, r.rolbypassrls, r.rolconnlimit,
             coalesce(pg_catalog.array_to_string(r.rolconfig, ', '), '') as config,
             pg_catalog.shobj_description(r.oid, 'pg_authid') as comment
        from pg_catalog.pg_roles r where r.rolname !~ '^pg_'`
    ) {
      const attrs = [
        ["superuser", r.rolsuper],
        ["inherit", r.rolinherit],
        ["createrole", r.rolcreaterole],
        ["createdb", r.rolcreatedb],
        ["login", r.rolcanlogin],
        ["replication", r.rolreplication],
        ["bypassrls", r.rolbypassrls],
      ].map(([n, on]) => (on ? n : `no${n}`)).join(" ");
      put(snap, `role ${r.rolname}`, {
        attributes: attrs,
        "connection limit": r.rolconnlimit,
        settings: r.config,
        comment: r.comment,
      });
    }
    for (
      const r of await sql`
      select pg_catalog.pg_get_userbyid(m.roleid) as role,
             pg_catalog.pg_get_userbyid(m.member) as member, m.admin_option
        from pg_catalog.pg_auth_members m`
    ) {
      put(snap, `membership of ${r.member} in ${r.role}`, {
        "admin option": r.admin_option,
      });
    }

    // Rows: every table's, by primary key where it is not made up at insert.
    const tables = await sql`
      select n.nspname, c.relname,
             (select json_agg(json_build_object(
                       'name', a.attname,
                       'volatile', a.attidentity <> '' or a.attgenerated <> '',
                       'default', pg_catalog.pg_get_expr(d.adbin, d.adrelid)) order by a.attnum)
                from pg_catalog.pg_attribute a
                left join pg_catalog.pg_attrdef d on d.adrelid = a.attrelid and d.adnum = a.attnum
               where a.attrelid = c.oid and a.attnum > 0 and not a.attisdropped) as columns,
             array(select a.attname::text from pg_catalog.pg_index i
                     join pg_catalog.pg_attribute a
                       on a.attrelid = i.indrelid and a.attnum = any (i.indkey)
                    where i.indrelid = c.oid and i.indisprimary order by a.attnum) as pkey
        from pg_catalog.pg_class c join pg_catalog.pg_namespace n on n.oid = c.relnamespace
       where ((n.nspname = any (${schemas}) and ${notExtensionMember("pg_class", "c.oid")})
              or n.nspname || '.' || c.relname = any (${platformTablesWithProjectRows}))
         and c.relkind in ('r', 'p')`;
    for (const t of tables) {
      const name = `${t.nspname}.${t.relname}`;
      if (skipRows.has(name)) continue;
      const columns = t.columns as Array<{ name: string; volatile: boolean; default: string }>;
      const volatile = new Set(
        columns.filter((c) => c.volatile || volatileDefault.test(c.default ?? "")).map((c) =>
          c.name
        ),
      );
      const keep = columns.map((c) => c.name).filter((c) => !volatile.has(c));
      const pk = t.pkey as string[];
      const pkey = pk.length > 0 && pk.every((c) => !volatile.has(c)) ? pk : null;
      const rows = await sql.unsafe(
        `select to_jsonb(t) as r from ${quoteIdent(t.nspname)}.${quoteIdent(t.relname)} t`,
      );
      for (const { r } of rows) {
        const fields = Object.fromEntries(keep.map((c) => [c, JSON.stringify(r[c])]));
        const id = pkey
          ? pkey.map((c) => `${c}=${typeof r[c] === "string" ? r[c] : JSON.stringify(r[c])}`)
            .join(" ")
          : JSON.stringify(fields);
        put(snap, `row ${name} ${id}`, fields);
      }
    }

    const [{ cron }] = await sql`select pg_catalog.to_regclass('cron.job') is not null as cron`;
    if (cron) {
      for (
        const r of await sql`
        select jobname, schedule, command, active, username, database from cron.job`
      ) {
        put(snap, `cron job ${r.jobname}`, {
          schedule: r.schedule,
          command: r.command,
          active: r.active,
          username: r.username,
          database: r.database,
        });
      }
    }
  } finally {
    await sql.end();
  }
  return snap;
}

function quoteIdent(name: string): string {
  return `"${name.replaceAll('"', '""')}"`;
}

/** `«…a b c…»`: a value around its first difference from `other`, on one line. */
function around(value: string, other: string): string {
  const oneLine = (s: string) => s.replace(/\s+/g, " ").trim();
  const v = oneLine(value), o = oneLine(other);
  let i = 0;
  while (i < v.length && i < o.length && v[i] === o[i]) i++;
  const from = Math.max(0, i - 30);
  const to = Math.min(v.length, i + 50);
  return `«${from > 0 ? "…" : ""}${v.slice(from, to)}${to < v.length ? "…" : ""}»`;
}

/** Fields whose values are SQL text or prose: shown around their first difference. */
const textFields = new Set(["body", "definition", "comment", "command"]);

function describeField(field: string, a: string, b: string, names: [string, string]): string {
  if (a === "" || b === "") {
    return `${field} only in ${a === "" ? names[1] : names[0]}: ${around(a || b, "")}`;
  }
  if (!textFields.has(field) && !/\n/.test(a + b) && a.length <= 60 && b.length <= 60) {
    return `${field} ${a} vs ${b}`;
  }
  const la = a.split("\n"), lb = b.split("\n");
  let line = 0;
  while (line < la.length && line < lb.length && la[line] === lb[line]) line++;
  const where = la.length > 1 || lb.length > 1 ? ` at line ${line + 1}` : "";
  const ra = la.slice(line).join("\n"), rb = lb.slice(line).join("\n");
  return `${field} differs${where}: ${around(ra, rb)} vs ${around(rb, ra)}`;
}

/**
 * One line per difference between `a` and `b` (labelled `names`), sorted by object: an
 * object only on one side, or each field that differs, with both values.
 */
export function compareSnapshots(
  a: Snapshot,
  b: Snapshot,
  names: [string, string] = ["first", "second"],
): string[] {
  const out: string[] = [];
  for (const key of [...new Set([...a.keys(), ...b.keys()])].sort()) {
    const fa = a.get(key), fb = b.get(key);
    if (!fa) out.push(`${key}: only in ${names[1]}`);
    else if (!fb) out.push(`${key}: only in ${names[0]}`);
    else {
      const diffs: string[] = [];
      for (const field of new Set([...fa.keys(), ...fb.keys()])) {
        const va = fa.get(field) ?? "", vb = fb.get(field) ?? "";
        if (va !== vb) diffs.push(describeField(field, va, vb, names));
      }
      if (diffs.length > 0) out.push(`${key}: ${diffs.join("; ")}`);
    }
  }
  return out;
}
