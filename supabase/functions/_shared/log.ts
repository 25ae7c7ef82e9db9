// Structured logs: one JSON line per event carrying job, run_id, tenant_id and envelope_id
// where known. Never secrets, tokens or tool arguments: fields with such names are dropped
// before writing, whatever the caller passes.

const forbiddenKeys =
  /^(arguments|args|authorization|token|access_token|refresh_token|api_?key|secret|password|service_role_key|jwt|headers|cookie)$/i;

export type LogFields = Record<string, unknown>;

export interface Logger {
  info(event: string, fields?: LogFields): void;
  warn(event: string, fields?: LogFields): void;
  error(event: string, fields?: LogFields): void;
  /** A logger whose lines also carry `fields` (e.g. run_id, tenant_id). */
  with(fields: LogFields): Logger;
}

function scrub(value: unknown, depth = 0): unknown {
  if (value === null || typeof value !== "object" || depth > 4) return value;
  if (value instanceof Error) {
    // The stack and the cause are what tells a bug from an outage.
    const out: Record<string, unknown> = { name: value.name, message: value.message };
    if (value.stack) out.stack = value.stack;
    if (value.cause !== undefined) out.cause = scrub(value.cause, depth + 1);
    return out;
  }
  if (Array.isArray(value)) return value.map((v) => scrub(v, depth + 1));
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(value)) {
    if (!forbiddenKeys.test(k)) out[k] = scrub(v, depth + 1);
  }
  return out;
}

export type LogSink = (line: string) => void;
let sink: LogSink = (line) => console.log(line);

/** Tests capture lines by swapping the sink. */
export function setLogSink(next: LogSink): LogSink {
  const prev = sink;
  sink = next;
  return prev;
}

export function createLogger(base: LogFields = {}): Logger {
  const write = (level: string, event: string, fields: LogFields = {}) => {
    const line = scrub({ ts: new Date().toISOString(), level, event, ...base, ...fields });
    sink(JSON.stringify(line));
  };
  return {
    info: (e, f) => write("info", e, f),
    warn: (e, f) => write("warn", e, f),
    error: (e, f) => write("error", e, f),
    with: (fields) => createLogger({ ...base, ...fields }),
  };
}
