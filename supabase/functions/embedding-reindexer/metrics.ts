// Metrics the reindexer owns, from database state: queue depth, failing sources, the age
// of the oldest due source, and stored vectors per model.
import type { MetricsSource } from "../_shared/metrics.ts";

export const embeddingMetrics: MetricsSource = async (sql) => {
  const [q] = await sql`
    select count(*)::float8 as queued,
           count(*) filter (where next_attempt_at <= now())::float8 as due,
           count(*) filter (where last_error is not null)::float8 as failing,
           coalesce(extract(epoch from now() - min(enqueued_at)
                    filter (where next_attempt_at <= now())), 0)::float8 as oldest_due_age
    from internal.embedding_queue`;
  const models = await sql`
    select model, count(*)::float8 as n from public.evidence_embeddings group by model`;
  return [
    {
      name: "embedding_queue_size",
      help: "Sources waiting in the embedding queue, by state.",
      type: "gauge",
      samples: [
        { labels: { state: "queued" }, value: q.queued },
        { labels: { state: "due" }, value: q.due },
        { labels: { state: "failing" }, value: q.failing },
      ],
    },
    {
      name: "embedding_queue_oldest_due_seconds",
      help: "Age of the oldest due source in the embedding queue (0 when none is due).",
      type: "gauge",
      samples: [{ labels: {}, value: q.oldest_due_age }],
    },
    {
      name: "evidence_embeddings_rows",
      help: "Stored embedding chunks by model.",
      type: "gauge",
      samples: models.map((m) => ({ labels: { model: m.model }, value: m.n })),
    },
  ];
};
