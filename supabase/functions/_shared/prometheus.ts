// Prometheus text exposition format (version 0.0.4), pure: metrics in, text out.

export type Labels = Record<string, string>;

export interface Sample {
  labels?: Labels;
  value: number;
  /** Suffix for histogram series: _bucket, _sum, _count. */
  suffix?: string;
}

export interface Metric {
  name: string;
  help: string;
  type: "counter" | "gauge" | "histogram";
  samples: Sample[];
}

const nameRe = /^[a-zA-Z_:][a-zA-Z0-9_:]*$/;

function escapeLabel(v: string): string {
  return v.replace(/\\/g, "\\\\").replace(/\n/g, "\\n").replace(/"/g, '\\"');
}

function formatValue(v: number): string {
  if (Number.isNaN(v)) return "NaN";
  if (v === Infinity) return "+Inf";
  if (v === -Infinity) return "-Inf";
  return String(v);
}

export function renderPrometheus(metrics: Metric[]): string {
  const out: string[] = [];
  for (const m of metrics) {
    if (!nameRe.test(m.name)) throw new RangeError(`invalid metric name ${JSON.stringify(m.name)}`);
    out.push(`# HELP ${m.name} ${m.help.replace(/\n/g, " ")}`);
    out.push(`# TYPE ${m.name} ${m.type}`);
    for (const s of m.samples) {
      const labels = Object.entries(s.labels ?? {})
        .map(([k, v]) => `${k}="${escapeLabel(v)}"`)
        .join(",");
      out.push(`${m.name}${s.suffix ?? ""}${labels ? `{${labels}}` : ""} ${formatValue(s.value)}`);
    }
  }
  return out.join("\n") + "\n";
}
