import { createApp } from "../_shared/app.ts";
import { mountJob } from "../_shared/job.ts";
import { mountConnectRoutes } from "./connect.ts";
import { refreshJob, slug } from "./refresh.ts";

const app = createApp(slug);
mountJob(app, refreshJob());
mountConnectRoutes(app);
Deno.serve(app.fetch);
