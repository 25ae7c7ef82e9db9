// One line describing the machine a benchmark ran on.
import os from "node:os";

export async function machineDescription(): Promise<string> {
  const cpus = os.cpus();
  const pg = await new Deno.Command("/usr/lib/postgresql/15/bin/postgres", { args: ["--version"] })
    .output().then((o) => new TextDecoder().decode(o.stdout).trim(), () => "postgres ?");
  return `${cpus.length} × ${cpus[0]?.model ?? "cpu"}, ${
    Math.round(os.totalmem() / 2 ** 30)
  } GiB RAM, ${os.type()} ${os.release()}, Deno ${Deno.version.deno}, ${pg}`;
}

/** Median of a list of numbers. */
export function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const m = Math.floor(s.length / 2);
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
}

/** The p-th percentile (0–100), nearest rank. */
export function percentile(xs: number[], p: number): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.max(0, Math.ceil((p / 100) * s.length) - 1))];
}
