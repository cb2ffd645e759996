import { unwrap } from "../errors";
import type { CatalogKind, CatalogObject } from "../objects/catalog-object";

/** A per-account quota: the Worker variable when it is a positive integer, else the default. */
export function quota(configured: string | undefined, fallback: number): number {
  const value = Number(configured);
  return Number.isSafeInteger(value) && value > 0 ? value : fallback;
}

/**
 * Runs a create under a quota reservation taken atomically in the account's catalog, so that
 * concurrent creates cannot together pass the limit; a create that fails gives its slot back.
 */
export async function withinQuota<T>(
  catalog: DurableObjectStub<CatalogObject>,
  kind: CatalogKind,
  region: string,
  name: string,
  limit: number,
  create: () => Promise<T>,
): Promise<T> {
  const { reserved } = unwrap(await catalog.reserve(kind, region, name, limit));
  try {
    return await create();
  } catch (error) {
    if (reserved) await catalog.release(kind, region, name);
    throw error;
  }
}
