import { createRoute, z } from '@hono/zod-openapi';
import { ROLES } from '../../auth/roles.ts';
import { errorResponse } from '../openapi.ts';
import { pageQuery } from '../paging.ts';

const keySchema = z
  .object({
    id: z.string(),
    projectId: z.string(),
    role: z.enum(ROLES),
    name: z.string(),
    createdAt: z.string(),
    lastUsedAt: z.string().nullable(),
    revokedAt: z.string().nullable(),
  })
  .openapi('ApiKey');

export const create = createRoute({
  method: 'post',
  path: '/v1/keys',
  operationId: 'createKey',
  summary: "Make an API key in the caller's project (admin keys only); the secret is shown once",
  request: {
    body: {
      required: true,
      content: { 'application/json': { schema: z.object({ role: z.enum(ROLES), name: z.string().min(1).max(200) }).strict() } },
    },
  },
  responses: {
    201: { description: 'The key, with its secret', content: { 'application/json': { schema: keySchema.extend({ secret: z.string() }) } } },
    400: errorResponse('Invalid input; the message names the field, the value and the rule'),
  },
});

export const list = createRoute({
  method: 'get',
  path: '/v1/keys',
  operationId: 'listKeys',
  summary: "The project's keys (never their secrets)",
  request: { query: pageQuery },
  responses: { 200: { description: 'Keys by id', content: { 'application/json': { schema: z.object({ keys: z.array(keySchema), nextCursor: z.string().nullable() }) } } }, 400: errorResponse('A bad limit or cursor') },
});

export const revoke = createRoute({
  method: 'delete',
  path: '/v1/keys/{id}',
  operationId: 'revokeKey',
  summary: 'Revoke a key of the project; it stops working at once',
  request: { params: z.object({ id: z.string().max(100) }) },
  responses: {
    204: { description: 'Revoked' },
    404: errorResponse('No such live key in this project'),
  },
});
