// A loopback stand-in for the part of Supabase's Management API that `supabase functions
// deploy` talks to, so the real CLI can deploy without a network and a test can read what
// it uploaded. Each upload is written as received: `<uploadsDir>/<slug>/metadata.json` (the
// metadata part, byte for byte) and every file part at the path the CLI named it by.
// Every request is logged, answered or not, so a CLI that starts calling something new
// shows up in the log rather than as a silent difference.
import { dirname, join, normalize } from "node:path";

export interface ManagementApiOptions {
  port: number;
  /** Where each upload is written, one folder per slug. */
  uploadsDir: string;
  /** The project ref the stand-in knows; others get 404. */
  projectRef: string;
  /** The bearer the CLI must send (its SUPABASE_ACCESS_TOKEN). */
  accessToken: string;
}

export interface LoggedRequest {
  method: string;
  /** Path and query, e.g. `/v1/projects/<ref>/functions/deploy?slug=x&bundleOnly=true`. */
  path: string;
  status: number;
}

export interface DeployMetadata {
  entrypoint_path: string;
  import_map_path?: string;
  static_patterns?: string[];
  verify_jwt?: boolean;
  name?: string;
  [key: string]: unknown;
}

export interface Upload {
  slug: string;
  /** The query of the deploy request (slug, bundleOnly, …). */
  query: Record<string, string>;
  metadata: DeployMetadata;
  /** The file parts' names (paths relative to the project), in the order received. */
  files: string[];
  /** The folder holding metadata.json and the files. */
  dir: string;
}

export interface ManagementApi {
  url: string;
  requests: LoggedRequest[];
  uploads: Map<string, Upload>;
  /** The bodies of `PUT /v1/projects/<ref>/functions` (the CLI's bulk update), parsed. */
  bulkUpdates: unknown[];
  stop(): Promise<void>;
}

/** A relative path that stays inside its folder once joined, or null. */
function safeRelative(name: string): string | null {
  const n = normalize(name);
  if (n.startsWith("/") || n === ".." || n.startsWith("../")) return null;
  return n;
}

export function startManagementApi(opts: ManagementApiOptions): ManagementApi {
  const requests: LoggedRequest[] = [];
  const uploads = new Map<string, Upload>();
  const bulkUpdates: unknown[] = [];
  const deployed = new Map<string, Record<string, unknown>>();
  const projectPath = `/v1/projects/${opts.projectRef}`;

  const project = () => ({
    id: opts.projectRef,
    ref: opts.projectRef,
    organization_id: "loopback-org",
    name: "loopback",
    region: "local",
    created_at: "2026-01-01T00:00:00Z",
    status: "ACTIVE_HEALTHY",
    database: { host: "127.0.0.1", version: "15" },
  });

  async function deploy(req: Request, url: URL): Promise<Response> {
    const slug = url.searchParams.get("slug");
    if (!slug || !/^[A-Za-z0-9_-]+$/.test(slug)) {
      return Response.json({ message: "slug is required" }, { status: 400 });
    }
    const form = await req.formData();
    const dir = join(opts.uploadsDir, slug);
    await Deno.remove(dir, { recursive: true }).catch(() => {});
    await Deno.mkdir(dir, { recursive: true });
    let metadataText: string | null = null;
    const files: string[] = [];
    for (const [field, value] of form.entries()) {
      if (typeof value === "string") {
        if (field === "metadata") metadataText = value;
        continue;
      }
      const rel = safeRelative(value.name);
      if (!rel || rel === "metadata.json") {
        return Response.json({ message: `bad file name ${value.name}` }, { status: 400 });
      }
      await Deno.mkdir(dirname(join(dir, rel)), { recursive: true });
      await Deno.writeFile(join(dir, rel), new Uint8Array(await value.arrayBuffer()));
      files.push(rel);
    }
    if (metadataText === null) {
      return Response.json({ message: "no metadata part" }, { status: 400 });
    }
    await Deno.writeTextFile(join(dir, "metadata.json"), metadataText);
    const metadata = JSON.parse(metadataText) as DeployMetadata;
    uploads.set(slug, {
      slug,
      query: Object.fromEntries(url.searchParams),
      metadata,
      files,
      dir,
    });
    const now = Date.now();
    const fn = {
      id: crypto.randomUUID(),
      slug,
      name: metadata.name ?? slug,
      status: "ACTIVE",
      version: ((deployed.get(slug)?.version as number | undefined) ?? 0) + 1,
      created_at: now,
      updated_at: now,
      verify_jwt: metadata.verify_jwt ?? true,
      entrypoint_path: metadata.entrypoint_path,
      import_map_path: metadata.import_map_path ?? "",
    };
    deployed.set(slug, fn);
    return Response.json(fn, { status: 201 });
  }

  async function route(req: Request): Promise<Response> {
    const url = new URL(req.url);
    if (req.headers.get("authorization") !== `Bearer ${opts.accessToken}`) {
      return Response.json({ message: "Unauthorized" }, { status: 401 });
    }
    const p = url.pathname;
    if (req.method === "GET" && p === projectPath) return Response.json(project());
    if (req.method === "GET" && p === `${projectPath}/functions`) {
      return Response.json([...deployed.values()]);
    }
    if (req.method === "POST" && p === `${projectPath}/functions/deploy`) return deploy(req, url);
    if (req.method === "PUT" && p === `${projectPath}/functions`) {
      // The CLI deploys with bundleOnly=true, then activates all of them in one bulk update.
      const body = await req.json();
      bulkUpdates.push(body);
      return Response.json({ functions: body });
    }
    await req.body?.cancel();
    return Response.json({ message: `no stand-in for ${req.method} ${p}` }, { status: 404 });
  }

  const server = Deno.serve(
    { hostname: "127.0.0.1", port: opts.port, onListen: () => {} },
    async (req) => {
      const url = new URL(req.url);
      let res: Response;
      try {
        res = await route(req);
      } catch (err) {
        res = Response.json({ message: (err as Error).message }, { status: 500 });
      }
      requests.push({ method: req.method, path: url.pathname + url.search, status: res.status });
      return res;
    },
  );

  return {
    url: `http://127.0.0.1:${opts.port}`,
    requests,
    uploads,
    bulkUpdates,
    stop: () => server.shutdown(),
  };
}
