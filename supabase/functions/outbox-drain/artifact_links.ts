// POST /outbox-drain/artifacts/sign: a member gets a signed, expiring download URL for one of
// their tenant's artifacts (the path that evidence and audit rows name). The artifact is
// looked up as the user (RLS: their tenant's evidence only), and the URL is asked of Storage
// with the user's own token, so Storage's policy on storage.objects decides as well. Another
// tenant's artifact, or none, is 404 alike: nothing says it exists.
import { decodeJwt } from "jose";
import type { Hono } from "hono";
import { z } from "zod";
import { type AppContext, type AppEnv, parseJsonBody } from "../_shared/app.ts";
import { bearerToken } from "../_shared/auth.ts";
import { serviceDb, withUserContext } from "../_shared/db.ts";
import { ApiError, conflict, notFound } from "../_shared/errors.ts";
import { tenantUser } from "../_shared/middleware/caller.ts";
import { signObjectUrl, StorageCallError, storageConfig } from "../_shared/storage.ts";

/** Longest expiry a link may ask for, in seconds; short links leak less. */
export const maxLinkSeconds = 3600;
export const defaultLinkSeconds = 300;

export const signBody = z.strictObject({
  path: z.string().min(1).max(1024),
  expires_in: z.number().int().min(1).max(maxLinkSeconds).optional(),
});

export function mountArtifactLinks(app: Hono<AppEnv>) {
  app.post("/artifacts/sign", tenantUser(), async (c: AppContext) => {
    const claims = c.get("claims");
    const body = await parseJsonBody(c, signBody);
    const expiresIn = body.expires_in ?? defaultLinkSeconds;
    const rows = await withUserContext(serviceDb(), claims, (tx) =>
      tx`
        select artifact_bucket, artifact_status from public.evidence
         where tenant_id = ${claims.tenant_id}::uuid and artifact_path = ${body.path}
         limit 1`);
    const found = rows[0] as { artifact_bucket: string; artifact_status: string } | undefined;
    if (!found) throw notFound(`no artifact ${body.path} in your tenant`);
    if (found.artifact_status === "pending") {
      throw conflict("the artifact is not uploaded yet: a later drain uploads it", {
        status: "pending",
      });
    }
    if (found.artifact_status === "dropped") {
      throw new ApiError(410, "artifact_dropped", "the artifact's bytes were not kept");
    }
    let signedUrl: string;
    try {
      signedUrl = await signObjectUrl(storageConfig(), bearerToken(c.req.raw)!, {
        bucket: found.artifact_bucket,
        name: body.path,
        expiresIn,
      });
    } catch (err) {
      if (err instanceof StorageCallError && err.statusCode === 404) {
        throw notFound(`no artifact ${body.path} in your tenant`);
      }
      throw new ApiError(
        502,
        "storage_error",
        `Storage refused to sign: ${(err as Error).message}`,
      );
    }
    const exp = decodeJwt(new URL(signedUrl).searchParams.get("token") ?? "").exp;
    return c.json({
      signedUrl,
      expiresAt: new Date((exp ?? Math.floor(Date.now() / 1000) + expiresIn) * 1000).toISOString(),
      bucket: found.artifact_bucket,
      path: body.path,
    });
  });
}
