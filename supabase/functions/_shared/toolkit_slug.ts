// Composio's toolkit slugs as the catalog, the auth configs and connected_accounts spell them:
// lower case. The same pattern is the CHECK on connected_accounts.toolkit, so a slug that
// passes here can be stored, and a stored slug can always be sent back to a job.
import { z } from "zod";

export const toolkitSlugPattern = /^[a-z][a-z0-9_]{0,63}$/;

export const toolkitSlug = z.string().regex(
  toolkitSlugPattern,
  "a toolkit slug: lower-case letters, digits and _, starting with a letter, at most 64",
);
