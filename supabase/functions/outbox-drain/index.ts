import { createApp } from "../_shared/app.ts";
import { mountJob } from "../_shared/job.ts";
import { registerMetrics } from "../_shared/metrics.ts";
import { defaultBudgetMs, drainBody, runDrain, slug } from "./drain.ts";
import { mountOperatorRoutes, outboxDrainMetrics } from "./ops.ts";
import { mountArtifactLinks } from "./artifact_links.ts";

const app = createApp(slug);
registerMetrics(outboxDrainMetrics);
mountJob(app, { slug, schema: drainBody, defaultBudgetMs, run: (ctx) => runDrain(ctx) });
mountOperatorRoutes(app);
mountArtifactLinks(app);
Deno.serve(app.fetch);
