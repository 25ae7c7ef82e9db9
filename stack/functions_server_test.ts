import assert from "node:assert/strict";
import { join } from "node:path";
import { createClient } from "@supabase/supabase-js";
import { freePort } from "./cluster.ts";
import { functionsDenoVersion } from "./functions_deno.ts";
import { localImportMap } from "./functions_imports.ts";
import { startFunctionsServer } from "./functions_server.ts";
import { anonKey, serviceRoleKey, signJwt } from "./keys.ts";

const echo = `
Deno.serve(async (req) => {
  const url = new URL(req.url);
  const body = req.method === "POST" ? await req.json() : null;
  return Response.json({
    path: url.pathname,
    search: url.search,
    body,
    env: {
      url: Deno.env.get("SUPABASE_URL"),
      db: Boolean(Deno.env.get("SUPABASE_DB_URL")),
      fromDotenv: Deno.env.get("FROM_DOTENV") ?? null,
      secretKeys: Deno.env.get("SUPABASE_SECRET_KEYS") ?? null,
    },
  });
});
`;

async function functionsProject() {
  const dir = await Deno.makeTempDir({ prefix: "functions-" });
  const write = async (path: string, text: string) => {
    await Deno.mkdir(join(dir, path, ".."), { recursive: true });
    await Deno.writeTextFile(join(dir, path), text);
  };
  await write("functions/open/index.ts", echo);
  await write("functions/secured/index.ts", echo);
  await write(
    "functions/broken/index.ts",
    `throw new Error("boom at import");\nDeno.serve(() => new Response());`,
  );
  await write("functions/_shared/not_a_function.ts", "export const x = 1;");
  await write("functions/.env", 'FROM_DOTENV="yes"\n# a comment\n');
  await write("config.toml", `[functions.open]\nverify_jwt = false\n`);
  return dir;
}

Deno.test("functions server: paths, env, verify_jwt on and off, a broken function isolated, supabase-js invoke", async () => {
  const dir = await functionsProject();
  const lines: string[] = [];
  const server = await startFunctionsServer({
    port: freePort(),
    functionsDir: join(dir, "functions"),
    configFile: join(dir, "config.toml"),
    env: {
      SUPABASE_URL: "http://127.0.0.1:1",
      SUPABASE_DB_URL: "postgres://x",
      SUPABASE_SECRET_KEYS: '{"default":"sb_secret_x"}',
    },
    log: (l) => lines.push(l),
  });
  try {
    assert.deepEqual(server.slugs, ["broken", "open", "secured"]);

    // verify_jwt = false: no token needed; the handler sees /<slug>/… as on hosted.
    let res = await fetch(`${server.url}/functions/v1/open/sub/path?x=1`);
    assert.equal(res.status, 200);
    const body = await res.json();
    assert.equal(body.path, "/open/sub/path");
    assert.equal(body.search, "?x=1");
    assert.deepEqual(body.env, {
      url: "http://127.0.0.1:1",
      db: true,
      fromDotenv: "yes",
      secretKeys: '{"default":"sb_secret_x"}',
    });

    // verify_jwt default (true): no token, a forged token and an expired token are refused.
    res = await fetch(`${server.url}/functions/v1/secured`);
    assert.equal(res.status, 401);
    assert.equal((await res.json()).error.code, "missing_authorization");
    const forged = await signJwt({ role: "anon" }, {
      secret: new TextEncoder().encode("another-secret-another-secret-another"),
    });
    res = await fetch(`${server.url}/functions/v1/secured`, {
      headers: { authorization: `Bearer ${forged}` },
    });
    assert.equal(res.status, 401);
    assert.equal((await res.json()).error.code, "invalid_jwt");
    const expired = await signJwt({ role: "anon" }, {
      expiresIn: Math.floor(Date.now() / 1000) - 60,
    });
    res = await fetch(`${server.url}/functions/v1/secured`, {
      headers: { authorization: `Bearer ${expired}` },
    });
    assert.equal(res.status, 401);
    await res.body?.cancel();

    // supabase-js functions.invoke with the anon key passes verify_jwt.
    const client = createClient(server.url, anonKey, { auth: { persistSession: false } });
    const { data, error } = await client.functions.invoke("secured", { body: { hello: 1 } });
    assert.equal(error, null);
    assert.deepEqual(data.body, { hello: 1 });
    assert.equal(data.path, "/secured");
    const admin = createClient(server.url, serviceRoleKey, { auth: { persistSession: false } });
    assert.equal((await admin.functions.invoke("secured", { body: {} })).error, null);

    // A function that throws at import answers 500 JSON for its slug only.
    res = await fetch(`${server.url}/functions/v1/broken`, {
      headers: { authorization: `Bearer ${anonKey}` },
    });
    assert.equal(res.status, 500);
    const err = await res.json();
    assert.equal(err.error.code, "boot_error");
    assert.match(err.error.message, /boom at import/);
    assert.ok(lines.some((l) => l.includes('"boot_failed"') && l.includes("boom at import")));
    assert.equal((await fetch(`${server.url}/functions/v1/open`)).status, 200);

    // Unknown function.
    res = await fetch(`${server.url}/functions/v1/nope`);
    assert.equal(res.status, 404);
    await res.body?.cancel();

    // Every request logs wall and CPU time and memory.
    const reqLog = lines.map((l) => {
      try {
        return JSON.parse(l);
      } catch {
        return null;
      }
    }).find((l) => l?.event === "request" && l.function === "open");
    assert.ok(reqLog, "a request log line");
    for (const k of ["wall_ms", "cpu_ms", "memory_mb"]) assert.equal(typeof reqLog[k], "number");
  } finally {
    await server.stop();
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("functions server: a request above the hosted CPU limit is logged with a warning", async () => {
  const dir = await Deno.makeTempDir({ prefix: "functions-" });
  await Deno.mkdir(join(dir, "busy"));
  await Deno.writeTextFile(
    join(dir, "busy", "index.ts"),
    // Spins until the process has used 2.1 s of CPU (not wall time: a loaded machine
    // would deschedule a wall-clock loop and stay under the limit). CPU from /proc, as the
    // functions' Deno has no process.cpuUsage().
    `const cpuMs = () => {
       const s = Deno.readTextFileSync("/proc/self/stat");
       const f = s.slice(s.lastIndexOf(")") + 2).split(" ");
       return (Number(f[11]) + Number(f[12])) * 10;
     };
     Deno.serve(() => {
       const c0 = cpuMs();
       while (cpuMs() - c0 < 2100) {}
       return new Response("done");
     });`,
  );
  const lines: string[] = [];
  const server = await startFunctionsServer({
    port: freePort(),
    functionsDir: dir,
    configFile: join(dir, "none.toml"),
    env: {},
    log: (l) => lines.push(l),
  });
  try {
    const res = await fetch(`${server.url}/functions/v1/busy`, {
      headers: { authorization: `Bearer ${anonKey}` },
    });
    assert.equal(await res.text(), "done");
    const line = lines.find((l) => l.includes('"event":"request"'));
    assert.ok(line);
    const parsed = JSON.parse(line);
    assert.equal(parsed.level, "warn");
    assert.match(parsed.warning, /above hosted Edge limits/);
  } finally {
    await server.stop();
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("functions server: imports resolve by the deploy rule plus the local layer, on the Edge Runtime's Deno", async () => {
  const dir = await Deno.makeTempDir({ prefix: "functions-" });
  const write = async (path: string, text: string) => {
    await Deno.mkdir(join(dir, path, ".."), { recursive: true });
    await Deno.writeTextFile(join(dir, path), text);
  };
  const serve = (spec: string) =>
    `import { v } from "${spec}";\n` +
    `Deno.serve(() => Response.json({ v, deno: Deno.version.deno }));\n`;
  // The shared map, relative to its own folder.
  await write("functions/import_map.json", '{ "imports": { "shared-name": "./_lib/shared.ts" } }');
  await write("functions/_lib/shared.ts", 'export const v = "shared";');
  await write("functions/fallback/index.ts", serve("shared-name"));
  // A deno.json in the function's folder replaces the shared map: names there only.
  await write("functions/own/deno.json", '{ "imports": { "own-name": "./own.ts" } }');
  await write("functions/own/own.ts", 'export const v = "own";');
  await write("functions/own/index.ts", serve("own-name"));
  // A deno.json may name a map file instead, as the CLI follows too.
  await write("functions/pointer/deno.json", '{ "importMap": "./map.json" }');
  await write("functions/pointer/map.json", '{ "imports": { "ptr": "./ptr.ts" } }');
  await write("functions/pointer/ptr.ts", 'export const v = "pointer";');
  await write("functions/pointer/index.ts", serve("ptr"));
  await write("functions/own_lacks_shared/deno.jsonc", '{ /* none */ "imports": {} }');
  await write("functions/own_lacks_shared/index.ts", serve("shared-name"));
  // config.toml's import_map wins, relative to config.toml's folder; the map's own
  // addresses are relative to the map.
  await write("config.toml", '[functions.configured]\nimport_map = "./maps/special.json"\n');
  await write("maps/special.json", '{ "imports": { "special": "../functions/_lib/special.ts" } }');
  await write("functions/_lib/special.ts", 'export const v = "special";');
  await write("functions/configured/index.ts", serve("special"));
  // In the tooling's deno.json but in no map the function deploys with.
  await write("functions/unmapped/index.ts", serve("fast-check"));
  // The local-only layer adds a name for the local stack.
  await write("local_layer.json", '{ "imports": { "local-only": "./local_only.ts" } }');
  await write("local_only.ts", 'export const v = "local";');
  await write("functions/local/index.ts", serve("local-only"));
  // The CLI refuses an import_map.json in the function's folder.
  await write("functions/inner/import_map.json", '{ "imports": {} }');
  await write("functions/inner/index.ts", 'Deno.serve(() => new Response("never"));');

  const lines: string[] = [];
  const server = await startFunctionsServer({
    port: freePort(),
    functionsDir: join(dir, "functions"),
    configFile: join(dir, "config.toml"),
    localImports: join(dir, "local_layer.json"),
    env: {},
    log: (l) => lines.push(l),
  });
  const call = async (slug: string) => {
    const res = await fetch(`${server.url}/functions/v1/${slug}`, {
      headers: { authorization: `Bearer ${anonKey}` },
    });
    return { status: res.status, body: await res.json() };
  };
  try {
    for (
      const [slug, v] of [
        ["fallback", "shared"],
        ["own", "own"],
        ["pointer", "pointer"],
        ["configured", "special"],
        ["local", "local"],
      ]
    ) {
      assert.deepEqual(await call(slug), {
        status: 200,
        body: { v, deno: functionsDenoVersion },
      }, slug);
    }
    for (
      const [slug, missing] of [["own_lacks_shared", "shared-name"], ["unmapped", "fast-check"]]
    ) {
      const r = await call(slug);
      assert.equal(r.status, 500, slug);
      assert.equal(r.body.error.code, "boot_error");
      assert.match(r.body.error.message, new RegExp(`"${missing}" .*not in import map`), slug);
    }
    const inner = await call("inner");
    assert.equal(inner.status, 500);
    assert.match(inner.body.error.message, /import_map\.json in a function directory/);
    assert.ok(lines.some((l) => l.includes('"boot_failed"') && l.includes('"inner"')));
  } finally {
    await server.stop();
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("functions server: the local layer may only add names the deploy map lacks", () => {
  const dir = Deno.makeTempDirSync({ prefix: "functions-" });
  try {
    Deno.writeTextFileSync(join(dir, "map.json"), '{ "imports": { "zod": "npm:zod@4.6.7" } }');
    Deno.writeTextFileSync(join(dir, "layer.json"), '{ "imports": { "zod": "npm:zod@3.0.0" } }');
    assert.throws(
      () =>
        localImportMap(
          { path: join(dir, "map.json"), rule: "config.toml import_map" },
          join(
            dir,
            "layer.json",
          ),
        ),
      /zod: in both the local-only layer/,
    );
  } finally {
    Deno.removeSync(dir, { recursive: true });
  }
});
