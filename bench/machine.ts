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

function procCpuTicks(
  pid: number | string,
  withChildren: boolean,
): { ppid: number; ticks: number } {
  const stat = Deno.readTextFileSync(`/proc/${pid}/stat`);
  // Fields after "(comm)": state ppid … utime(14) stime(15) cutime(16) cstime(17), 1-based.
  const f = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
  const own = Number(f[11]) + Number(f[12]);
  return { ppid: Number(f[1]), ticks: withChildren ? own + Number(f[13]) + Number(f[14]) : own };
}

/**
 * CPU time (µs, user + system) Postgres has used so far: the postmaster, every live backend
 * and background process, and every child that has exited (the postmaster's cutime/cstime).
 * Differences of two readings give the database's CPU over a run. Linux only.
 */
export function postgresCpuUs(dataDir: string): number {
  const pm = Number(Deno.readTextFileSync(`${dataDir}/postmaster.pid`).split("\n")[0]);
  let ticks = procCpuTicks(pm, true).ticks;
  for (const e of Deno.readDirSync("/proc")) {
    if (!/^\d+$/.test(e.name)) continue;
    try {
      const p = procCpuTicks(e.name, false);
      if (p.ppid === pm) ticks += p.ticks;
    } catch {
      // exited while we looked: its time is in the postmaster's cutime now
    }
  }
  return (ticks * 1e6) / 100; // USER_HZ is 100 on Linux
}
