import { createApp } from "../_shared/app.ts";
import { mountJob } from "../_shared/job.ts";
import { trickleRefreshJob } from "./refresh.ts";

const app = createApp("trickle-refresh");
mountJob(app, trickleRefreshJob);
Deno.serve(app.fetch);
