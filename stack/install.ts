// Installs what the local stack needs: Debian's PostgreSQL 15 packages, pgvector 0.8.0
// built from Debian's source package, our stand-in extensions (pg_net, supabase_vault),
// the functions' Deno (the Edge Runtime's version, from npm) and, when asked, the pinned
// Supabase CLI. Idempotent: every step checks first, and install() returns the steps it
// performed.
import { createHash } from "node:crypto";
import { join } from "node:path";
import { ensureAuditSinkUser } from "./audit_sink.ts";
import { isRoot, run, runOrThrow } from "./command.ts";
import { functionsDenoBin, functionsDenoVersion } from "./functions_deno.ts";
import { cacheDir, pgLibDir, pgShareDir, standInExtensionsDir, toolsDir } from "./paths.ts";

export const aptPackages = [
  "postgresql-15",
  "postgresql-server-dev-15",
  "postgresql-15-cron",
  "postgresql-15-pgtap",
  "libtap-parser-sourcehandler-pgtap-perl", // pg_prove; only a Recommends of pgtap
  "pgbouncer",
  "make",
  "gcc",
];

const pgvector = {
  version: "0.8.0",
  debVersion: "0.8.0-1",
  tarball: "pgvector_0.8.0.orig.tar.gz",
  sha256: "867a2c328d4928a5a9d6f052cd3bc78c7d60228a9b914ad32aa3db88e9de27b0",
};

/**
 * Pinned exactly: the deploy test asserts what this CLI uploads (which import map, which
 * files), and another version may choose differently.
 */
export const supabaseCliVersion = "3.1.0";

export interface InstallOptions {
  /** Also install the Supabase CLI from npm (the test suite compares migration records with it). */
  withCli?: boolean;
  log?: (line: string) => void;
}

async function missingAptPackages(): Promise<string[]> {
  const missing: string[] = [];
  for (const pkg of aptPackages) {
    const res = await run(["dpkg-query", "-W", "-f=${Status}", pkg]);
    if (res.code !== 0 || !res.stdout.includes("install ok installed")) missing.push(pkg);
  }
  return missing;
}

function isDebian(): boolean {
  try {
    return Deno.readTextFileSync("/etc/os-release").includes("ID=debian");
  } catch {
    return false;
  }
}

function explainManualInstall(missing: string[]): never {
  throw new Error(
    [
      `The local stack needs Debian packages that are not installed: ${missing.join(" ")}.`,
      isRoot
        ? "This machine is not Debian, so they cannot be installed automatically."
        : "Run as root,\
 or install them yourself:",
      `  sudo apt-get update && sudo apt-get install -y --no-install-recommends ${
        aptPackages.join(" ")
      }`,
      `and pgvector ${pgvector.version} for PostgreSQL 15 (Debian: postgresql-15-pgvector from trixie,`,
      "or build it from source with `make OPTFLAGS= PG_CONFIG=/usr/lib/postgresql/15/bin/pg_config`).",
    ].join("\n"),
  );
}

function exists(path: string): boolean {
  try {
    Deno.statSync(path);
    return true;
  } catch {
    return false;
  }
}

function sha256(data: Uint8Array): string {
  return createHash("sha256").update(data).digest("hex");
}

async function buildPgvector(log: (l: string) => void): Promise<void> {
  const work = join(cacheDir, "pgvector");
  await Deno.mkdir(work, { recursive: true });
  const tarPath = join(work, pgvector.tarball);
  if (!exists(tarPath) || sha256(Deno.readFileSync(tarPath)) !== pgvector.sha256) {
    // A private apt config pointing at trixie's sources, so the system's sources stay untouched.
    const etc = join(work, "apt-etc");
    const lists = join(work, "apt-lists");
    await Deno.mkdir(join(etc, "sources.list.d"), { recursive: true });
    await Deno.mkdir(join(lists, "partial"), { recursive: true });
    await Deno.writeTextFile(
      join(etc, "sources.list.d", "trixie-src.list"),
      "deb-src http://deb.debian.org/debian trixie main\n",
    );
    const aptOpts = [
      `-o`,
      `Dir::State::Lists=${lists}`,
      `-o`,
      `Dir::Etc::SourceList=/dev/null`,
      `-o`,
      `Dir::Etc::SourceParts=${join(etc, "sources.list.d")}`,
      `-o`,
      `APT::Sandbox::User=root`,
    ];
    log("fetching pgvector source package from Debian (trixie)");
    await runOrThrow(["apt-get", ...aptOpts, "update"]);
    const dl = await run(
      ["apt-get", ...aptOpts, "source", "--download-only", `pgvector=${pgvector.debVersion}`],
      { cwd: work },
    );
    if (dl.code !== 0 || !exists(tarPath)) {
      throw new Error(
        `could not download pgvector ${pgvector.debVersion} source from Debian: ${dl.stderr.trim()}`,
      );
    }
  }
  const digest = sha256(Deno.readFileSync(tarPath));
  if (digest !== pgvector.sha256) {
    throw new Error(
      `${pgvector.tarball}: sha256 ${digest} does not match the expected ${pgvector.sha256}`,
    );
  }
  const src = join(work, `pgvector-${pgvector.version}`);
  await Deno.remove(src, { recursive: true }).catch(() => {});
  await runOrThrow(["tar", "-xzf", tarPath, "-C", work]);
  const pgConfig = "PG_CONFIG=/usr/lib/postgresql/15/bin/pg_config";
  log("building pgvector");
  // OPTFLAGS="" drops -march=native, so the build runs on any x86_64 machine.
  await runOrThrow(["make", "-j2", "OPTFLAGS=", pgConfig], { cwd: src });
  await runOrThrow(["make", "install", "OPTFLAGS=", pgConfig], { cwd: src });
}

/** Copies stack/extensions/<name>/* into PostgreSQL's extension directory when they differ. */
async function standInFilesToCopy(): Promise<Array<[string, string]>> {
  const copies: Array<[string, string]> = [];
  for await (const ext of Deno.readDir(standInExtensionsDir)) {
    if (!ext.isDirectory) continue;
    for await (const f of Deno.readDir(join(standInExtensionsDir, ext.name))) {
      const from = join(standInExtensionsDir, ext.name, f.name);
      const to = join(pgShareDir, "extension", f.name);
      const want = await Deno.readTextFile(from);
      const have = exists(to) ? await Deno.readTextFile(to) : null;
      if (want !== have) copies.push([from, to]);
    }
  }
  return copies;
}

export const supabaseCliBin = join(toolsDir, "node_modules", ".bin", "supabase");

/** The version of an npm package installed in the tools folder, or null. */
function toolVersion(pkg: string): string | null {
  try {
    const meta = JSON.parse(
      Deno.readTextFileSync(join(toolsDir, "node_modules", pkg, "package.json")),
    );
    return typeof meta.version === "string" ? meta.version : null;
  } catch {
    return null;
  }
}

async function npmInstallTool(spec: string, log: (l: string) => void) {
  log(`npm install ${spec}`);
  await Deno.mkdir(toolsDir, { recursive: true });
  await runOrThrow(["npm", "install", "--silent", "--prefix", toolsDir, spec]);
}

/** Installs what is missing; returns the names of the steps it performed (empty when none). */
export async function install(opts: InstallOptions = {}): Promise<string[]> {
  const log = opts.log ?? ((l: string) => console.error(`[install] ${l}`));
  const steps: string[] = [];

  const missing = await missingAptPackages().catch(() => aptPackages);
  if (missing.length > 0) {
    if (!isRoot || !isDebian()) explainManualInstall(missing);
    log(`apt-get install ${missing.join(" ")}`);
    await runOrThrow(["apt-get", "update", "-qq"]);
    await runOrThrow(["apt-get", "install", "-y", "-qq", "--no-install-recommends", ...missing], {
      env: { DEBIAN_FRONTEND: "noninteractive" },
    });
    steps.push(`apt: ${missing.join(" ")}`);
  }

  const vectorInstalled = exists(join(pgLibDir, "vector.so")) &&
    exists(join(pgShareDir, "extension", `vector--${pgvector.version}.sql`));
  if (!vectorInstalled) {
    if (!isRoot) explainManualInstall(["pgvector"]);
    await buildPgvector(log);
    steps.push(`pgvector ${pgvector.version}`);
  }

  const copies = await standInFilesToCopy();
  if (copies.length > 0) {
    if (!isRoot) {
      throw new Error(
        `copy the stand-in extensions into ${pgShareDir}/extension as root:\n` +
          copies.map(([f, t]) => `  cp ${f} ${t}`).join("\n"),
      );
    }
    for (const [from, to] of copies) await Deno.copyFile(from, to);
    log(`stand-in extensions: ${copies.map(([, t]) => t.split("/").pop()).join(", ")}`);
    steps.push("stand-in extensions");
  }

  if (toolVersion("deno") !== functionsDenoVersion || !exists(functionsDenoBin)) {
    const spec = `deno@${functionsDenoVersion}`;
    await npmInstallTool(spec, log);
    if (!exists(functionsDenoBin)) {
      throw new Error(
        `npm installed ${spec} but no binary at ${functionsDenoBin} (are npm scripts disabled?)`,
      );
    }
    steps.push(spec);
  }

  // The OS user the local audit export sink runs as: neither postgres nor root.
  if (await ensureAuditSinkUser()) {
    log("created the OS user audit-sink (the local audit export sink runs as it)");
    steps.push("user audit-sink");
  }

  if (opts.withCli && (toolVersion("supabase") !== supabaseCliVersion || !exists(supabaseCliBin))) {
    const spec = `supabase@${supabaseCliVersion}`;
    await npmInstallTool(spec, log);
    steps.push(spec);
  }
  return steps;
}

/** The schema diff `deno task db:diff` writes migrations with (stack/db_diff.ts), pinned. */
export const pgDelta = { name: "@supabase/pg-delta", version: "1.0.0-alpha.34" };
export const pgDeltaBin = join(toolsDir, "node_modules", ".bin", "pgdelta");

/** Installs pg-delta into .stack/tools unless that exact version is there; true if it did. */
export async function installPgDelta(
  log = (l: string) => console.error(`[install] ${l}`),
): Promise<boolean> {
  const pkg = join(toolsDir, "node_modules", pgDelta.name, "package.json");
  const have = exists(pgDeltaBin) && exists(pkg)
    ? JSON.parse(await Deno.readTextFile(pkg)).version
    : null;
  if (have === pgDelta.version) return false;
  const spec = `${pgDelta.name}@${pgDelta.version}`;
  log(`npm install ${spec}`);
  await Deno.mkdir(toolsDir, { recursive: true });
  await runOrThrow(["npm", "install", "--silent", "--save-exact", "--prefix", toolsDir, spec]);
  return true;
}

if (import.meta.main) {
  const steps = await install({ withCli: Deno.args.includes("--with-cli") });
  console.log(steps.length ? `installed: ${steps.join("; ")}` : "nothing to install");
}
