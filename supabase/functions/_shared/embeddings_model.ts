// What every embedding provider shares: the vector size, the Embedder interface, the model
// names stored with each vector, and unit normalisation. Its own module, so a provider
// (embeddings_offline.ts) and the provider selection (embeddings.ts) need not import each other.
export const embeddingDimensions = 384;

export interface Embedder {
  /** Stored with every vector, e.g. `gte-small`. */
  readonly model: string;
  /** Which provider made it. */
  readonly provider: ProviderName;
  /** Longest input the model reads, in (estimated) tokens; longer texts are chunked. */
  readonly maxTokens: number;
  /** One 384-d unit vector per text, in order. */
  embed(texts: string[]): Promise<number[][]>;
}

export const providerNames = ["gte-small", "openai", "offline", "hash-test"] as const;
export type ProviderName = typeof providerNames[number];

export const modelNames = {
  "gte-small": "gte-small",
  openai: "text-embedding-3-small-384",
  offline: "use-lite-512-proj384-v1",
  "hash-test": "hash-test-v1",
} as const satisfies Record<ProviderName, string>;

export function normalize(v: number[]): number[] {
  let s = 0;
  for (const x of v) s += x * x;
  const n = Math.sqrt(s);
  if (!(n > 0)) throw new RangeError("cannot normalise a zero vector");
  return v.map((x) => x / n);
}
