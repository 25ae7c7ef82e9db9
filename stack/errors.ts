// Failures of the stack's own steps (installing, creating the cluster, starting a server):
// one line that says what failed, why and what to do, with the full output kept aside for
// the log file or --verbose, never a stack trace on the terminal.

export class StackError extends Error {
  constructor(
    /** The step, e.g. "starting Postgres". */
    readonly what: string,
    /** Why, in one line. */
    readonly why: string,
    /** What the user can do about it. */
    readonly fix: string,
    /** Everything else worth keeping: the program's output, a log tail. */
    readonly details = "",
  ) {
    super(`${what} failed: ${why}${fix ? ` — ${fix}` : ""}`);
    this.name = "StackError";
  }
}

/** The one line to print for any error: StackError's own, else the first line of its message. */
export function oneLine(err: unknown): string {
  if (err instanceof StackError) return err.message;
  const msg = err instanceof Error ? err.message : String(err);
  return msg.split("\n")[0];
}

/** Everything known about an error, for the log file. */
export function fullReport(err: unknown): string {
  if (!(err instanceof Error)) return String(err);
  const parts = [err.stack ?? err.message];
  if (err instanceof StackError && err.details) parts.push(err.details);
  return parts.join("\n");
}

/**
 * Prints a failure as one line (or everything with `verbose`) and appends the full report to
 * `logFile`; returns the line printed.
 */
export async function reportFailure(
  err: unknown,
  opts: { logFile?: string; verbose?: boolean } = {},
): Promise<string> {
  const line = `error: ${oneLine(err)}`;
  if (opts.logFile) {
    await Deno.writeTextFile(
      opts.logFile,
      `--- ${new Date().toISOString()}\n${fullReport(err)}\n`,
      { append: true, create: true },
    ).catch(() => {});
  }
  console.error(opts.verbose ? `${line}\n${fullReport(err)}` : line);
  if (!opts.verbose && opts.logFile) {
    console.error(`  full output: ${opts.logFile} (or run again with --verbose)`);
  }
  return line;
}
