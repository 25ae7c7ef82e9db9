// `supabase functions deploy` with the pinned CLI against a loopback stand-in of the
// Management API (stack/management_api.ts): what the CLI uploads is what hosted bundles,
// so each upload must carry the import map config.toml names and the verify_jwt it says,
// and must type-check, as uploaded, on the Edge Runtime's Deno.
import assert from "node:assert/strict";
import { join } from "node:path";
import { freePort } from "../stack/cluster.ts";
import {
  functionsDenoCommand,
  functionsDenoFlags,
  functionsDenoVersion,
} from "../stack/functions_deno.ts";
import { functionsLocalImportsFile, readFunctionsConfig } from "../stack/functions_imports.ts";
import { discoverFunctions } from "../stack/functions_server.ts";
import { supabaseCliBin, supabaseCliVersion } from "../stack/install.ts";
import { startManagementApi, type Upload } from "../stack/management_api.ts";
import { functionsDir, projectRoot } from "../stack/paths.ts";

/** A project ref has the hosted shape (20 lowercase letters); the CLI checks it. */
const projectRef = "loopbackprojectrefab";
const accessToken = `sbp_${"0".repeat(40)}`;

interface Deployed {
  code: number;
  output: string;
  api: ReturnType<typeof startManagementApi>;
}

/** Runs the real CLI's deploy in `workdir` (a folder holding supabase/) against the stand-in. */
async function deploy(workdir: string, tmp: string, slugs: string[] = []): Promise<Deployed> {
  const api = startManagementApi({
    port: freePort(),
    uploadsDir: join(tmp, "uploads"),
    projectRef,
    accessToken,
  });
  const profile = join(tmp, "profile.yaml");
  await Deno.writeTextFile(
    profile,
    [
      "name: loopback",
      `api_url: ${api.url}`,
      `dashboard_url: ${api.url}/dashboard`,
      "project_host: 127.0.0.1",
      "",
    ].join("\n"),
  );
  try {
    const out = await new Deno.Command(supabaseCliBin, {
      args: [
        "functions",
        "deploy",
        ...slugs,
        "--workdir",
        workdir,
        "--profile",
        profile,
        "--project-ref",
        projectRef,
        "--yes",
      ],
      // A home of its own, so nothing of the machine's CLI login or profiles takes part.
      env: {
        PATH: Deno.env.get("PATH") ?? "/usr/bin:/bin",
        HOME: tmp,
        SUPABASE_ACCESS_TOKEN: accessToken,
      },
      clearEnv: true,
      stdin: "null",
    }).output();
    const dec = new TextDecoder();
    return { code: out.code, output: dec.decode(out.stdout) + dec.decode(out.stderr), api };
  } finally {
    await api.stop();
  }
}

/**
 * `deno check` on the functions' Deno, of uploaded entrypoints with an uploaded map. One
 * program for several uploads whose maps are the same bytes and name no files (so which
 * upload's copy is read makes no difference): the npm packages' types are checked once.
 */
async function checkUploads(uploads: Upload[]): Promise<{ code: number; output: string }> {
  const mapPath = uploads[0].metadata.import_map_path;
  const out = await functionsDenoCommand([
    "check",
    ...functionsDenoFlags,
    ...(mapPath ? ["--import-map", join(uploads[0].dir, mapPath)] : []),
    ...uploads.map((u) => join(u.dir, u.metadata.entrypoint_path)),
  ]).output();
  const dec = new TextDecoder();
  // deno colours its diagnostics; strip ANSI codes so messages match.
  // deno-lint-ignore no-control-regex
  const plain = (dec.decode(out.stdout) + dec.decode(out.stderr)).replace(/\x1b\[[0-9;]*m/g, "");
  return { code: out.code, output: plain };
}

/** Uploads that can share one check: same map text, and a map that names no files. */
async function checkGroups(uploads: Upload[]): Promise<Upload[][]> {
  const groups = new Map<string, Upload[]>();
  for (const u of uploads) {
    const p = u.metadata.import_map_path;
    const text = p ? await Deno.readTextFile(join(u.dir, p)) : "";
    const map = text ? JSON.parse(text) : { imports: {} };
    const namesFiles = Object.entries(map.imports ?? {}).some(([k, v]) =>
      /^\.{0,2}\//.test(k) || /^\.{0,2}\//.test(String(v))
    ) || map.scopes !== undefined;
    const key = namesFiles ? `own:${u.slug}` : `${p}\n${text}`;
    groups.set(key, [...(groups.get(key) ?? []), u]);
  }
  return [...groups.values()];
}

Deno.test("deploy: the pinned CLI uploads every function with the shared map and config.toml's verify_jwt, and each upload type-checks on the Edge Runtime's Deno", async () => {
  const version = await new Deno.Command(supabaseCliBin, { args: ["--version"] }).output();
  assert.equal(new TextDecoder().decode(version.stdout).trim(), supabaseCliVersion);

  const tmp = await Deno.makeTempDir({ prefix: "deploy-" });
  try {
    const { code, output, api } = await deploy(projectRoot, tmp);
    assert.equal(code, 0, output);
    const slugs = discoverFunctions(functionsDir);
    assert.deepEqual([...api.uploads.keys()].sort(), slugs);

    // What the CLI asked for: one bundle-only upload per function, one bulk update that
    // activates them all, and the project (for the dashboard link). A new call would show.
    const project = `/v1/projects/${projectRef}`;
    assert.deepEqual(
      api.requests.map((r) => `${r.method} ${r.path} ${r.status}`).sort(),
      [
        ...slugs.map((s) => `POST ${project}/functions/deploy?slug=${s}&bundleOnly=true 201`),
        `PUT ${project}/functions 200`,
        `GET ${project} 200`,
      ].sort(),
    );
    assert.equal(api.bulkUpdates.length, 1);
    assert.deepEqual(
      (api.bulkUpdates[0] as Array<{ slug: string }>).map((f) => f.slug).sort(),
      slugs,
    );

    const config = readFunctionsConfig(join(projectRoot, "supabase", "config.toml"));
    const sharedMap = "supabase/functions/import_map.json";
    const localNames = Object.keys(
      JSON.parse(await Deno.readTextFile(functionsLocalImportsFile)).imports,
    );
    for (const slug of slugs) {
      const u = api.uploads.get(slug)!;
      assert.equal(u.query.bundleOnly, "true", slug);
      assert.equal(u.metadata.name, slug);
      assert.equal(u.metadata.entrypoint_path, `supabase/functions/${slug}/index.ts`);
      assert.equal(u.metadata.import_map_path, sharedMap, `${slug} deploys with the shared map`);
      assert.equal(u.metadata.verify_jwt, config.get(slug)?.verify_jwt ?? true, slug);
      assert.ok(u.files.includes(sharedMap), `${slug}'s upload carries the import map`);
      assert.ok(
        u.files.includes(u.metadata.entrypoint_path),
        `${slug}'s upload has its entrypoint`,
      );
      // Uploaded byte for byte, and only the function's module graph: no tests, nothing local.
      for (const f of u.files) {
        assert.deepEqual(
          await Deno.readFile(join(u.dir, f)),
          await Deno.readFile(join(projectRoot, f)),
          `${slug}: ${f} uploaded unchanged`,
        );
        assert.ok(!f.endsWith("_test.ts"), `${slug} uploads a test: ${f}`);
        assert.ok(f.startsWith("supabase/functions/"), `${slug} uploads ${f}`);
      }
      const uploadedMap = JSON.parse(await Deno.readTextFile(join(u.dir, sharedMap)));
      for (const name of localNames) {
        assert.ok(!(name in uploadedMap.imports), `${slug} deploys the local-only ${name}`);
      }
    }

    // The Edge Runtime's Deno, from the uploaded files alone: an import the uploaded map does
    // not resolve, or an API that Deno lacks, fails here.
    const failures: string[] = [];
    for (const group of await checkGroups(slugs.map((s) => api.uploads.get(s)!))) {
      const r = await checkUploads(group);
      if (r.code !== 0) {
        failures.push(`${group.map((u) => u.slug)} (Deno ${functionsDenoVersion}):\n${r.output}`);
      }
    }
    assert.deepEqual(failures, []);
  } finally {
    await Deno.remove(tmp, { recursive: true });
  }
});

Deno.test("deploy: an import the uploaded map lacks uploads fine but fails the check of the upload", async () => {
  // The CLI does not resolve bare imports itself; only the check on the uploaded files
  // catches one that hosted would fail to bundle.
  const tmp = await Deno.makeTempDir({ prefix: "deploy-bad-" });
  try {
    const fn = join(tmp, "project", "supabase", "functions", "unmapped");
    await Deno.mkdir(fn, { recursive: true });
    await Deno.writeTextFile(
      join(tmp, "project", "supabase", "config.toml"),
      '[functions.unmapped]\nverify_jwt = false\nimport_map = "./functions/import_map.json"\n',
    );
    await Deno.writeTextFile(
      join(tmp, "project", "supabase", "functions", "import_map.json"),
      '{ "imports": {} }\n',
    );
    await Deno.writeTextFile(
      join(fn, "index.ts"),
      'import { z } from "zod";\nDeno.serve(() => new Response(typeof z));\n',
    );
    const { code, output, api } = await deploy(join(tmp, "project"), tmp, ["unmapped"]);
    assert.equal(code, 0, output);
    const u = api.uploads.get("unmapped")!;
    assert.equal(u.metadata.verify_jwt, false);
    assert.equal(u.metadata.import_map_path, "supabase/functions/import_map.json");
    const r = await checkUploads([u]);
    assert.notEqual(r.code, 0);
    assert.match(r.output, /"zod" not prefixed with \/ or \.\/ or \.\.\/ and not in import map/);
  } finally {
    await Deno.remove(tmp, { recursive: true });
  }
});
