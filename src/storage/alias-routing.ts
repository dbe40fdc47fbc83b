import { z } from 'zod';

/** Canary versions an alias may split its traffic with; enough for an A/B/n test, bounded so a lookup stays one small query. */
export const MAX_CANARIES = 8;

const versionNumber = z.number().int().min(1).max(2 ** 31 - 1);
/** A share of requests: more than none, at most all. */
const share = z.number().gt(0).lte(1);

/** The fields of {@link aliasRoutingSchema}, for bodies that carry them beside others. */
export const aliasRoutingShape = {
  /**
   * Versions that answer a share of the requests instead of the alias's own version, which answers
   * the rest (1 - the sum of the weights). @defaultValue [] (the alias's version answers every request)
   */
  canary: z.array(z.object({ version: versionNumber, weight: share }).strict()).max(MAX_CANARIES).default([]),
  /**
   * A version that is also asked, in the background, for `share` of the requests; its answers are
   * dropped (they never change or delay the answer sent). @defaultValue null (no shadow)
   */
  shadow: z.object({ version: versionNumber, share }).strict().nullable().default(null),
};

/** The rules across fields: the weights add up to at most 1, and no canary version is named twice. */
export function checkRouting(r: { canary: { version: number; weight: number }[] }, ctx: z.RefinementCtx): void {
  const sum = r.canary.reduce((total, c) => total + c.weight, 0);
  // A little slack for weights such as 0.1 + 0.2 that do not add up exactly in binary.
  if (sum > 1 + 1e-9) ctx.addIssue({ code: 'custom', path: ['canary'], message: `has weights adding up to ${sum}; they must add up to at most 1` });
  const seen = new Set<number>();
  for (const [i, c] of r.canary.entries()) {
    if (seen.has(c.version)) ctx.addIssue({ code: 'custom', path: ['canary', i, 'version'], message: 'is named twice; each canary version must appear once' });
    seen.add(c.version);
  }
}

/**
 * How an alias spreads requests over versions besides the one it points to, as stored in
 * `ModelAlias.routing` (JSON) and as PUT /v1/models/{name}/aliases/{alias} takes it. Versions are
 * named by number, within the alias's model.
 */
export const aliasRoutingSchema = z.object(aliasRoutingShape).strict().superRefine(checkRouting);

export type AliasRouting = z.output<typeof aliasRoutingSchema>;

/** A version the routing names, with its id, as the registry read it back (versions deleted since are left out). */
export interface RoutedVersion {
  id: string;
  version: number;
}

/** An alias's routing with its versions looked up: what serving draws from. */
export interface ResolvedRouting {
  canary: (RoutedVersion & { weight: number })[];
  shadow: (RoutedVersion & { share: number }) | null;
}

/** Every version number a routing names. */
export const routedVersions = (r: AliasRouting): number[] => [...r.canary.map((c) => c.version), ...(r.shadow ? [r.shadow.version] : [])];
