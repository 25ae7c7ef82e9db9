// `POST /tools/execute/{slug}`: every request is recorded (before anything can fail, so a
// test can tell "never sent" from "sent and faulted"), faults are applied, and a success
// answers {data, error, successful, log_id} as Composio does. A fault marked `after_apply`
// answers only after the tool ran: the write happened and its answer was lost. The body takes `arguments`
// (or `text`), `connected_account_id`, `user_id` and `version`; without a version, v3.1
// runs the toolkit's latest, which the record shows.
import { resolveVersion } from "./catalog.ts";
import { apiError, json, parseJson } from "./http.ts";
import type { SandboxState } from "./state.ts";
import { isObject, sleep } from "./util.ts";
import type { ExecutionRecord } from "./execution_log.ts";

export async function executeTool(
  state: SandboxState,
  req: Request,
  slug: string,
  apiVersion: string,
): Promise<Response> {
  const envelopeId = req.headers.get("x-envelope-id");
  const entry: ExecutionRecord = {
    slug,
    envelope_id: envelopeId,
    at: new Date().toISOString(),
    status: 0,
    successful: null,
    log_id: null,
    arguments: null,
    user_id: null,
    connected_account_id: null,
    version: null,
    executed_version: null,
    api_version: apiVersion,
    applied: false,
  };
  state.log.push(entry);
  const body = parseJson(await req.text());
  if (isObject(body)) {
    entry.arguments = structuredClone(body.arguments ?? null);
    entry.user_id = typeof body.user_id === "string" ? body.user_id : null;
    entry.connected_account_id = typeof body.connected_account_id === "string"
      ? body.connected_account_id
      : null;
    entry.version = typeof body.version === "string" ? body.version : null;
  }
  const finish = (res: Response, successful: boolean | null, logId: string | null) => {
    entry.status = res.status;
    entry.successful = successful;
    entry.log_id = logId;
    return res;
  };

  const fault = state.takeFault({ route: "execute", slug, envelope_id: envelopeId });
  const before = fault?.after_apply ? null : fault;
  if (before?.delay_ms) await sleep(before.delay_ms);
  if (before?.status) return finish(state.faultAnswer(before), null, null);

  const tool = state.findTool(slug);
  if (!tool) {
    return finish(
      apiError(404, `Tool ${slug} not found`, {
        suggestedFix: "List the toolkit's tools (GET /tools) for the slugs it has.",
      }),
      null,
      null,
    );
  }
  const text = isObject(body) && typeof body.text === "string" && body.arguments === undefined;
  if (!isObject(body) || !(isObject(body.arguments) || text)) {
    return finish(
      apiError(400, "Request body must be a JSON object with an `arguments` object", {
        suggestedFix: "Send `arguments` as a JSON object of the tool's input parameters.",
      }),
      null,
      null,
    );
  }
  entry.executed_version = resolveVersion(
    state.catalog.get(tool.toolkit.slug)?.info,
    entry.version,
  );

  const logId = state.nextLogId();
  if (fault?.successful_false) {
    const payload = fault.body ?? {
      data: {},
      error: fault.message ?? `${tool.slug} failed (sandbox fault)`,
      successful: false,
      log_id: logId,
    };
    return finish(json(200, payload), false, logId);
  }
  const key = tool.slug.toUpperCase();
  const args = isObject(body.arguments) ? body.arguments : {};
  const data = state.results.has(key)
    ? structuredClone(state.results.get(key))
    : state.issues.handles(key)
    ? state.issues.run(key, args, {
      user_id: entry.user_id,
      envelope_id: envelopeId,
      log_id: logId,
      now: new Date(),
    })
    : { ok: true, tool: tool.slug, arguments_keys: Object.keys(args).sort() };
  entry.applied = true;
  if (fault?.after_apply) {
    if (fault.delay_ms) await sleep(fault.delay_ms);
    if (fault.status) return finish(state.faultAnswer(fault), null, logId);
  }
  return finish(json(200, { data, error: null, successful: true, log_id: logId }), true, logId);
}
