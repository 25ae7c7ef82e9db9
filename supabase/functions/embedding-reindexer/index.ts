import { createApp } from "../_shared/app.ts";
import { activeEmbedder } from "../_shared/embeddings.ts";
import { mountJob } from "../_shared/job.ts";
import { registerMetrics } from "../_shared/metrics.ts";
import { embeddingMetrics } from "./metrics.ts";
import { reindexJob, slug } from "./reindex.ts";
import { mountSearch } from "./search.ts";

const app = createApp(slug);
registerMetrics(embeddingMetrics);
mountJob(app, reindexJob(activeEmbedder));
mountSearch(app, activeEmbedder);
Deno.serve(app.fetch);
