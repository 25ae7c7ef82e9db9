// Where the local stack keeps things. Everything mutable lives under .stack/ (git-ignored).
import { join } from "node:path";
import { fileURLToPath } from "node:url";

export const projectRoot = fileURLToPath(new URL("..", import.meta.url)).replace(/\/$/, "");
export const stackDir = join(projectRoot, ".stack");
export const cacheDir = join(stackDir, "cache");
export const toolsDir = join(stackDir, "tools");
export const migrationsDir = join(projectRoot, "supabase", "migrations");
export const rollbacksDir = join(projectRoot, "supabase", "rollbacks");
export const seedFile = join(projectRoot, "supabase", "seed.sql");
export const pgTestsDir = join(projectRoot, "supabase", "tests");
export const functionsDir = join(projectRoot, "supabase", "functions");
export const standInExtensionsDir = join(projectRoot, "stack", "extensions");

export const pgBinDir = "/usr/lib/postgresql/15/bin";
export const pgShareDir = "/usr/share/postgresql/15";
export const pgLibDir = "/usr/lib/postgresql/15/lib";
