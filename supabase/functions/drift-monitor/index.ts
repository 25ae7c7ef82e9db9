import { createApp } from "../_shared/app.ts";
import { mountJob } from "../_shared/job.ts";
import { tenantUser } from "../_shared/middleware/caller.ts";
import { driftMonitorJob } from "./drift.ts";
import { latestDrift } from "./latest.ts";

const app = createApp("drift-monitor");
mountJob(app, driftMonitorJob);
app.get("/", tenantUser(), latestDrift);
Deno.serve(app.fetch);
