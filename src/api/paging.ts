import { z } from '@hono/zod-openapi';
import { ValidationError } from '../errors.ts';

/** `?limit=&cursor=` on every list; the answer carries `nextCursor` (null on the last page). */
export const pageQuery = z.object({
  limit: z.coerce.number().int().min(1).max(500).optional().openapi({ description: 'Items per page, 1-500. Default 50.' }),
  cursor: z.string().max(300).optional().openapi({ description: "The previous page's nextCursor." }),
});

export const DEFAULT_PAGE = 50;

/** Cursors are opaque to clients: base64url of the last item's sort key. */
export function encodeCursor(key: unknown): string {
  return Buffer.from(JSON.stringify(key)).toString('base64url');
}

export function decodeCursor<T>(cursor: string | undefined, schema: z.ZodType<T>): T | undefined {
  if (cursor === undefined) return undefined;
  let value: unknown;
  try {
    value = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8'));
  } catch {
    value = undefined;
  }
  const r = schema.safeParse(value);
  if (!r.success) throw new ValidationError('cursor', cursor, "is not a cursor from this list; pass the previous page's nextCursor unchanged");
  return r.data;
}

/** Pages by reading one more than asked: its presence says whether a next page exists. */
export function pageOf<T>(items: T[], limit: number, keyOf: (item: T) => unknown): { items: T[]; nextCursor: string | null } {
  const more = items.length > limit;
  const page = more ? items.slice(0, limit) : items;
  const last = page[page.length - 1];
  return { items: page, nextCursor: more && last !== undefined ? encodeCursor(keyOf(last)) : null };
}
