// What the sandbox records of each execution, and the report tests read
// (GET /_sandbox/executions): its own module, shared by the state and the execute route.
export interface ExecutionRecord {
  slug: string;
  envelope_id: string | null;
  at: string;
  /** HTTP status answered; 0 while the request is still in flight (e.g. delayed). */
  status: number;
  successful: boolean | null;
  log_id: string | null;
  arguments: unknown;
  user_id: string | null;
  connected_account_id: string | null;
  /** The `version` the request sent; null when it sent none. */
  version: string | null;
  /** The version the sandbox ran: the one sent, else the toolkit's latest (null if no tool). */
  executed_version: string | null;
  /** The API base path it came through ("v3.1", or "v3" for the older alias). */
  api_version: string;
  /** The tool ran (its effect took place), whatever was answered. */
  applied: boolean;
}

export interface ExecutionsReport {
  by_envelope: Record<string, number>;
  total: number;
  log: ExecutionRecord[];
}
