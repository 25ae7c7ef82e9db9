// Running external programs (apt, initdb, pg_ctl, pg_prove) with a clear error on failure.
import { StackError } from "./errors.ts";

export interface RunOptions {
  cwd?: string;
  env?: Record<string, string>;
  /** Run as this OS user via runuser (only when we are root). */
  user?: string;
  /** Stream output to our stdout/stderr instead of capturing it. */
  inherit?: boolean;
  stdin?: string;
  /** For the error line when it fails: the step ("creating the cluster") and what to do. */
  what?: string;
  fix?: string;
}

export interface RunResult {
  code: number;
  stdout: string;
  stderr: string;
}

export const isRoot = Deno.uid?.() === 0;

/**
 * The argv that runs `cmd` as `user` when we are root. setpriv execs in place (unlike
 * runuser), so a spawned long-running child is the program itself and gets our signals.
 */
export function asUser(cmd: string[], user?: string): string[] {
  if (!user || !isRoot) return cmd;
  return ["setpriv", `--reuid=${user}`, `--regid=${user}`, "--init-groups", "--", ...cmd];
}

/** Runs a program; returns its output whatever the exit code. */
export async function run(cmd: string[], opts: RunOptions = {}): Promise<RunResult> {
  const argv = asUser(cmd, opts.user);
  const child = new Deno.Command(argv[0], {
    args: argv.slice(1),
    cwd: opts.cwd,
    env: opts.env,
    stdin: opts.stdin === undefined ? "null" : "piped",
    stdout: opts.inherit ? "inherit" : "piped",
    stderr: opts.inherit ? "inherit" : "piped",
  }).spawn();
  if (opts.stdin !== undefined) {
    const w = child.stdin.getWriter();
    await w.write(new TextEncoder().encode(opts.stdin));
    await w.close();
  }
  const out = await child.output();
  const dec = new TextDecoder();
  return { code: out.code, stdout: dec.decode(out.stdout), stderr: dec.decode(out.stderr) };
}

/**
 * Runs a program and throws a StackError when it exits non-zero: the step, the program's
 * last line of complaint and what to do; its whole output goes into the error's details.
 */
export async function runOrThrow(cmd: string[], opts: RunOptions = {}): Promise<RunResult> {
  const res = await run(cmd, opts);
  if (res.code !== 0) {
    const output = (res.stderr || res.stdout).trim();
    const last = output.split("\n").filter((l) => l.trim()).pop() ?? "";
    const program = cmd[0].split("/").pop();
    throw new StackError(
      opts.what ?? `running ${program}`,
      `${program} exited with ${res.code}${last ? `: ${last.trim()}` : ""}`,
      opts.fix ?? "",
      `$ ${cmd.join(" ")}\n${output}`,
    );
  }
  return res;
}
