// What an owner may send: a toolkit slug and a callback URL. Both go to Composio (the slug
// picks the auth config, the URL is where Composio sends the user back after the consent);
// the service never fetches the callback URL, it only hands it on, so it is checked for
// what a browser redirect needs and nothing more: https, a host, no credentials, no
// fragment (OAuth redirect URIs carry none), a bounded length.
import { z } from "zod";
import { toolkitSlug } from "../_shared/toolkit_slug.ts";

export const maxCallbackUrlLength = 2048;

/** The callback URL's problem, or null when it is usable. */
export function callbackUrlProblem(raw: string): string | null {
  if (raw.length > maxCallbackUrlLength) return `longer than ${maxCallbackUrlLength} characters`;
  // deno-lint-ignore no-control-regex -- control characters are what is refused
  if (/[\u0000-\u0020\u007f]/.test(raw)) return "contains spaces or control characters";
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    return "not an absolute URL";
  }
  if (url.protocol !== "https:") return "must use https";
  if (!url.hostname) return "has no host";
  if (url.username || url.password) return "must not carry credentials";
  if (raw.includes("#")) return "must not have a fragment";
  return null;
}

export const callbackUrl = z.string().superRefine((v, ctx) => {
  const problem = callbackUrlProblem(v);
  if (problem) ctx.addIssue({ code: "custom", message: `callback URL ${problem}` });
});

export const initiateBody = z.strictObject({
  toolkit: toolkitSlug,
  callback_url: callbackUrl.optional(),
});
export type InitiateBody = z.infer<typeof initiateBody>;

export const refreshBody = z.strictObject({
  /** One account of the caller's tenant; default: every initiated one. */
  id: z.guid().optional(),
});
export type RefreshBody = z.infer<typeof refreshBody>;
