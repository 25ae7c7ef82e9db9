// Environment access with errors that name the missing variable.

export function requireEnv(name: string): string {
  const v = Deno.env.get(name);
  if (!v) throw new Error(`environment variable ${name} is not set`);
  return v;
}

export function optionalEnv(name: string): string | undefined {
  return Deno.env.get(name) || undefined;
}
