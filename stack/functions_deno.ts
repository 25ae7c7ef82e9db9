// The Deno the functions run on. Hosted Edge Functions run on Supabase's Edge Runtime,
// which embeds an older Deno than the tooling's (and has no plan to upgrade); the local
// functions server and the deploy test use that one, so an API or an import that hosted
// lacks fails here too. Following hosted is a change of `functionsDenoVersion` alone:
// install.ts installs that version, and its DENO_DIR and node_modules are its own.
import { join } from "node:path";
import { stackDir, toolsDir } from "./paths.ts";

/** Deno of the Edge Runtime that hosted runs (the CLI's image pins the same line). */
export const functionsDenoVersion = "2.1.4";

/** npm's `deno` package puts the platform binary beside its launcher script. */
export const functionsDenoBin = join(toolsDir, "node_modules", "deno", "deno");

/**
 * The working directory of every functions-Deno process: node_modules lands here, and
 * DENO_DIR is inside it, apart from the tooling Deno's caches (a version of its own each).
 */
export const functionsRuntimeDir = join(stackDir, `functions-deno-${functionsDenoVersion}`);
export const functionsDenoDir = join(functionsRuntimeDir, "deno_dir");

/**
 * Flags of every run and check. `--no-config`: the root deno.json is the tooling's and
 * never deployed, so it must not resolve anything here (the import map comes by flag).
 * `--no-lock`: the deploy uploads no lockfile, so hosted resolves from the map's exact
 * pins alone; and the tooling's deno.lock has a newer format than this Deno reads.
 */
export const functionsDenoFlags = ["--no-config", "--no-lock", "--node-modules-dir=auto"];

/** Environment of a functions-Deno process (the function's own variables are added to it). */
export function functionsDenoEnv(): Record<string, string> {
  const env: Record<string, string> = {
    PATH: Deno.env.get("PATH") ?? "/usr/bin:/bin",
    HOME: Deno.env.get("HOME") ?? "/root",
    DENO_DIR: functionsDenoDir,
    DENO_NO_UPDATE_CHECK: "1",
    // This Deno trusts only its bundled roots unless told otherwise; the machine's store
    // holds any CA that its registry traffic needs (a proxy's).
    DENO_TLS_CA_STORE: Deno.env.get("DENO_TLS_CA_STORE") ?? "system",
  };
  for (const name of ["DENO_CERT", "HTTPS_PROXY", "HTTP_PROXY", "NO_PROXY"]) {
    const v = Deno.env.get(name) ?? Deno.env.get(name.toLowerCase());
    if (v) env[name] = v;
  }
  return env;
}

/** A command on the functions' Deno, in its runtime folder with its own caches. */
export function functionsDenoCommand(
  args: string[],
  opts: { env?: Record<string, string>; stdout?: "piped" | "null"; stderr?: "piped" | "null" } = {},
): Deno.Command {
  Deno.mkdirSync(functionsRuntimeDir, { recursive: true });
  return new Deno.Command(functionsDenoBin, {
    args,
    cwd: functionsRuntimeDir,
    env: { ...functionsDenoEnv(), ...opts.env },
    clearEnv: true,
    stdin: "null",
    stdout: opts.stdout ?? "piped",
    stderr: opts.stderr ?? "piped",
  });
}
