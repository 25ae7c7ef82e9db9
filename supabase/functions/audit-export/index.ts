import { createApp } from "../_shared/app.ts";
import { mountJob } from "../_shared/job.ts";
import { registerMetrics } from "../_shared/metrics.ts";
import { exportJob, slug } from "./export.ts";
import { auditExportMetrics, mountVerifyRoute } from "./routes.ts";

const app = createApp(slug);
registerMetrics(auditExportMetrics);
mountJob(app, exportJob());
mountVerifyRoute(app);
Deno.serve(app.fetch);
