import { createApp } from "../_shared/app.ts";
import { mountJob } from "../_shared/job.ts";
import { catalogSyncJob } from "./sync.ts";

const app = createApp("catalog-sync");
mountJob(app, catalogSyncJob);
Deno.serve(app.fetch);
