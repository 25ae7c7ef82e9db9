// Starts the local stack's audit export sink (stack/audit_sink_server.ts) as the OS user
// audit-sink, over a folder that user owns: neither postgres (the database superuser runs
// as it: COPY … TO PROGRAM) nor root-run functions code has a way to rewrite or delete an
// export through the sink, and the postgres OS user cannot touch the files. This is the
// local stand-in for a sink outside the project's authority (docs/audit.md). Not root: the
// sink runs as the current user, and says so.
import { createHash } from "node:crypto";
import { basename, join } from "node:path";
import { asUser, isRoot, run, runOrThrow } from "./command.ts";
import { functionsDenoBin } from "./functions_deno.ts";
import { canEnter } from "./layout.ts";
import { auditSinkS3, auditSinkToken } from "./keys.ts";
import { projectRoot } from "./paths.ts";

export const auditSinkUser = "audit-sink";
export const auditSinkHome = "/var/lib/audit-sink";

/** What the sink process runs: the server and the one module it imports. */
const sinkFiles = ["stack/audit_sink_server.ts", "supabase/functions/_shared/sigv4.ts"];

async function userExists(user: string): Promise<boolean> {
  return (await run(["id", "-u", user])).code === 0;
}

/**
 * Creates the system user audit-sink (no login, home /var/lib/audit-sink) unless it exists;
 * true when it did. Only root can, and only root needs it.
 */
export async function ensureAuditSinkUser(): Promise<boolean> {
  if (!isRoot || await userExists(auditSinkUser)) return false;
  await runOrThrow([
    "useradd",
    "--system",
    "--user-group",
    "--home-dir",
    auditSinkHome,
    "--create-home",
    "--shell",
    "/usr/sbin/nologin",
    "--comment",
    "audit export sink of the local stack",
    auditSinkUser,
  ], {
    what: `creating the OS user ${auditSinkUser}`,
    fix: "create it yourself: useradd --system --user-group --create-home " +
      `--home-dir ${auditSinkHome} --shell /usr/sbin/nologin ${auditSinkUser}`,
  });
  return true;
}

function userCan(user: string, test: "-r" | "-x", path: string): boolean {
  const argv = asUser(["test", test, path], user);
  return new Deno.Command(argv[0], { args: argv.slice(1), stdout: "null", stderr: "null" })
    .outputSync().success;
}

function statOrNull(path: string): Deno.FileInfo | null {
  try {
    return Deno.statSync(path);
  } catch {
    return null;
  }
}

/**
 * The Deno binary and script audit-sink runs: in place when it can read them, else copies
 * in its home (owned by root, so the sink cannot change its own code either), refreshed
 * when they differ.
 */
async function sinkRuntime(user: string | null): Promise<{ deno: string; script: string }> {
  const deno = functionsDenoBin;
  const script = join(projectRoot, sinkFiles[0]);
  if (!user) return { deno, script };
  const readable = sinkFiles.every((f) => userCan(user, "-r", join(projectRoot, f)));
  const runtime = join(auditSinkHome, "runtime");
  let useDeno = deno;
  if (!userCan(user, "-x", deno)) {
    useDeno = join(runtime, "deno");
    const have = statOrNull(useDeno), want = Deno.statSync(deno);
    if (!have || have.size !== want.size || have.mtime?.getTime() !== want.mtime?.getTime()) {
      await Deno.mkdir(runtime, { recursive: true, mode: 0o755 });
      await runOrThrow(["cp", "--preserve=timestamps", deno, `${useDeno}.new`]);
      await Deno.chmod(`${useDeno}.new`, 0o755);
      await Deno.rename(`${useDeno}.new`, useDeno);
    }
  }
  if (readable) return { deno: useDeno, script };
  for (const f of sinkFiles) {
    const to = join(runtime, f);
    const text = await Deno.readTextFile(join(projectRoot, f));
    if ((await Deno.readTextFile(to).catch(() => null)) !== text) {
      await Deno.mkdir(join(to, ".."), { recursive: true, mode: 0o755 });
      await Deno.writeTextFile(to, text, { mode: 0o644 });
    }
  }
  await runOrThrow(["chmod", "-R", "a+rX", runtime]);
  return { deno: useDeno, script: join(runtime, sinkFiles[0]) };
}

export interface AuditSink {
  /** http://127.0.0.1:<port> */
  url: string;
  /** The HTTPS sink protocol's base URL (what AUDIT_EXPORT_URL names). */
  exportsUrl: string;
  /** The S3 face's endpoint (AUDIT_EXPORT_S3_ENDPOINT); bucket auditSinkS3.bucket. */
  s3Endpoint: string;
  /** Where the exports are: <dir>/exports/<name>, <dir>/s3/<bucket>/<key>. */
  dir: string;
  /** The OS user it runs as. */
  user: string;
  stop(): Promise<void>;
}

/**
 * Where the sink of the stack in `stackDir` keeps its files: in it when audit-sink can
 * enter it, else under audit-sink's home (as the cluster is relocated for postgres).
 */
export function auditSinkDir(stackDir: string): string {
  return !isRoot || canEnter(auditSinkUser, stackDir) ? join(stackDir, "audit-sink") : join(
    auditSinkHome,
    "stacks",
    `${basename(stackDir)}-${createHash("sha256").update(stackDir).digest("hex").slice(0, 12)}`,
  );
}

/** Starts a sink on `port` for the stack in `stackDir` (files: auditSinkDir). */
export async function startAuditSink(
  opts: { stackDir: string; port: number; log?: (line: string) => void },
): Promise<AuditSink> {
  const log = opts.log ?? ((l: string) => console.error(l));
  if (isRoot) await ensureAuditSinkUser();
  const user = isRoot ? auditSinkUser : null;
  if (user && !statOrNull(auditSinkHome)) {
    await Deno.mkdir(auditSinkHome, { recursive: true, mode: 0o755 });
    await runOrThrow(["chown", `${user}:${user}`, auditSinkHome]);
  }
  const dir = auditSinkDir(opts.stackDir);
  await Deno.mkdir(dir, { recursive: true });
  if (user) {
    await runOrThrow(["chown", `${user}:${user}`, dir]);
    await Deno.chmod(dir, 0o755);
  }
  const { deno, script } = await sinkRuntime(user);
  const denoDir = user ? join(auditSinkHome, "deno_dir") : join(opts.stackDir, "audit-sink-deno");
  const env: Record<string, string> = {
    PATH: Deno.env.get("PATH") ?? "/usr/bin:/bin",
    HOME: user ? auditSinkHome : (Deno.env.get("HOME") ?? dir),
    DENO_DIR: denoDir,
    DENO_NO_UPDATE_CHECK: "1",
    AUDIT_SINK_PORT: String(opts.port),
    AUDIT_SINK_DIR: dir,
    AUDIT_SINK_TOKEN: auditSinkToken,
    AUDIT_SINK_S3_ACCESS_KEY_ID: auditSinkS3.accessKeyId,
    AUDIT_SINK_S3_SECRET_ACCESS_KEY: auditSinkS3.secretAccessKey,
    AUDIT_SINK_S3_REGION: auditSinkS3.region,
    AUDIT_SINK_S3_BUCKETS: auditSinkS3.bucket,
  };
  const argv = asUser([
    deno,
    "run",
    "--no-config",
    "--no-lock",
    `--allow-net=127.0.0.1:${opts.port}`,
    `--allow-read=${dir}`,
    `--allow-write=${dir}`,
    // Its ready line names its uid, which tests check.
    "--allow-sys=uid",
    `--allow-env=${Object.keys(env).filter((k) => k.startsWith("AUDIT_SINK_")).join(",")}`,
    script,
  ], user ?? undefined);
  const child = new Deno.Command(argv[0], {
    args: argv.slice(1),
    env,
    clearEnv: true,
    stdin: "null",
    stdout: "piped",
    stderr: "piped",
  }).spawn();
  let output = "";
  let ready!: () => void;
  const isReady = new Promise<void>((r) => (ready = r));
  const pump = async (s: ReadableStream<Uint8Array>) => {
    for await (const text of s.pipeThrough(new TextDecoderStream())) {
      output = (output + text).slice(-8000);
      if (/"event":"ready"/.test(output)) ready();
      for (const line of text.split("\n")) {
        if (line.includes('"event":"error"')) log(`audit sink: ${line}`);
      }
    }
  };
  const pumps = Promise.all([pump(child.stdout), pump(child.stderr)]);
  const exited = child.status.then((s) => s);
  let timer: ReturnType<typeof setTimeout> | undefined;
  const timeout = new Promise<"timeout">((r) => (timer = setTimeout(() => r("timeout"), 60_000)));
  const first = await Promise.race([isReady.then(() => "ready" as const), exited, timeout]);
  clearTimeout(timer);
  if (first !== "ready") {
    try {
      child.kill("SIGKILL");
    } catch { /* exited */ }
    await pumps.catch(() => {});
    throw new Error(
      `the audit sink did not start (${
        first === "timeout" ? "no ready line in 60 s" : "exited"
      }):\n${output}`,
    );
  }
  return {
    url: `http://127.0.0.1:${opts.port}`,
    exportsUrl: `http://127.0.0.1:${opts.port}/exports`,
    s3Endpoint: `http://127.0.0.1:${opts.port}/s3`,
    dir,
    user: user ?? (Deno.env.get("USER") ?? "the current user"),
    stop: async () => {
      try {
        child.kill("SIGTERM");
      } catch { /* exited */ }
      await exited;
      await pumps.catch(() => {});
    },
  };
}
