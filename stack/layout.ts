// Where one stack keeps its files. `dir` (the clone's .stack/local, or a test's temp folder)
// holds what this process writes: logs, keys. The files the postgres OS user must reach (the
// cluster's data directory and socket, the pooler's configuration) go where that user can
// reach them: `dir` itself when it can, else a folder under the postgres user's home. A clone
// in a home folder of mode 0700 thus works without loosening that folder's permissions.
import { createHash } from "node:crypto";
import { basename, join, resolve } from "node:path";
import { asUser, isRoot } from "./command.ts";

export interface StackLayout {
  dir: string;
  /** Reachable by the postgres OS user: holds db/ and pooler/. */
  serverDir: string;
  clusterDir: string;
  poolerDir: string;
  logDir: string;
  /** True when serverDir is outside `dir` (the clone is in a folder postgres cannot enter). */
  relocated: boolean;
}

/** The postgres OS user's home on Debian; it owns it, so it can reach what is below. */
export const postgresHome = "/var/lib/postgresql";
export const relocatedRoot = join(postgresHome, "agent-control-plane-stacks");

/** Whether `user` can enter `dir` (x on it and on every folder above it). */
export function canEnter(user: string, dir: string): boolean {
  const argv = asUser(["test", "-x", dir], user);
  const res = new Deno.Command(argv[0], { args: argv.slice(1), stdout: "null", stderr: "null" })
    .outputSync();
  return res.success;
}

/** The layout of the stack in `dir`, creating `dir` (and the server folder) if needed. */
export function stackLayout(dir: string): StackLayout {
  const abs = resolve(dir);
  Deno.mkdirSync(abs, { recursive: true });
  // The server user must be able to enter `abs` itself: ours to open up, unlike its parents.
  if (isRoot) Deno.chmodSync(abs, 0o755);
  const relocated = isRoot && !canEnter("postgres", abs);
  const serverDir = relocated
    ? join(
      relocatedRoot,
      `${basename(abs)}-${createHash("sha256").update(abs).digest("hex").slice(0, 12)}`,
    )
    : abs;
  if (relocated) {
    Deno.mkdirSync(serverDir, { recursive: true });
    // So that whoever finds the folder knows whose it is.
    Deno.writeTextFileSync(join(serverDir, "STACK"), `server files of the local stack in ${abs}\n`);
  }
  return {
    dir: abs,
    serverDir,
    clusterDir: join(serverDir, "db"),
    poolerDir: join(serverDir, "pooler"),
    logDir: join(abs, "logs"),
    relocated,
  };
}
