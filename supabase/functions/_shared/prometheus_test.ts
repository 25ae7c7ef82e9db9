import assert from "node:assert/strict";
import { renderPrometheus } from "./prometheus.ts";

Deno.test("prometheus: HELP, TYPE, labels escaped, special values", () => {
  const text = renderPrometheus([
    {
      name: "outbox_dlq_size",
      help: "Envelopes in the DLQ.",
      type: "gauge",
      samples: [{ labels: { tenant: 'a"b\\c' }, value: 3 }, { value: Infinity }],
    },
  ]);
  assert.equal(
    text,
    [
      "# HELP outbox_dlq_size Envelopes in the DLQ.",
      "# TYPE outbox_dlq_size gauge",
      'outbox_dlq_size{tenant="a\\"b\\\\c"} 3',
      "outbox_dlq_size +Inf",
      "",
    ].join("\n"),
  );
  assert.throws(
    () => renderPrometheus([{ name: "bad-name", help: "", type: "gauge", samples: [] }]),
    RangeError,
  );
});
