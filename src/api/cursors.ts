import { z } from '@hono/zod-openapi';

/** The sort key of lists ordered newest first: creation time, then id to break ties. */
export const cursorKeySchema = z.object({ createdAt: z.iso.datetime(), id: z.string().max(200) }).strict();
