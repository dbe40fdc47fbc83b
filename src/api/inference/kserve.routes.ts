import { createRoute, z } from '@hono/zod-openapi';
import { requestInputSchema, responseOutputSchema } from './kserve-tensors.ts';

/** The protocols' error body (KServe v2 and TF Serving alike). */
export const protocolErrorSchema = z
  .object({ error: z.string().openapi({ description: 'For people: names the field, the value and the rule it broke' }) })
  .openapi('ProtocolError', { example: { error: "inputs[0].name: \"alcohol_\" is not an input of this model; inputs are alcohol, malic_acid, …" } });

export function protocolError(description: string) {
  return { description, content: { 'application/json': { schema: protocolErrorSchema } } };
}

const tensorMetadata = z.object({ name: z.string(), datatype: z.string(), shape: z.array(z.number().int()) });

const metadataSchema = z
  .object({ name: z.string(), versions: z.array(z.string()), platform: z.string(), inputs: z.array(tensorMetadata), outputs: z.array(tensorMetadata) })
  .openapi('KServeModelMetadata', {
    example: { name: 'wine', versions: ['1', '2'], platform: 'tfjs_layers', inputs: [{ name: 'alcohol', datatype: 'FP32', shape: [-1] }], outputs: [{ name: 'label', datatype: 'BYTES', shape: [-1] }, { name: 'probabilities', datatype: 'FP32', shape: [-1, 3] }] },
  });

const inferRequestSchema = z
  .object({
    id: z.string().max(1000).optional(),
    parameters: z.record(z.string(), z.unknown()).optional().openapi({ description: 'Accepted and ignored: maas defines no parameters' }),
    inputs: z.array(requestInputSchema).min(1).max(10_000),
    outputs: z.array(z.object({ name: z.string().max(200), parameters: z.record(z.string(), z.unknown()).optional() }).strict()).max(10).optional(),
  })
  .strict()
  .openapi('KServeInferRequest', {
    description:
      'Tabular models take one input per column ([n], FP32 for numbers, INT64 or BYTES for categories; null asks for imputation) or one row tensor named `input` ([n, columns], in metadata order); ' +
      'images, sequences and forecasts one FP32 tensor named `input` ([n, …shape]); text one BYTES tensor named by the text field ([n]). Data is row-major, flat or nested.',
    example: { id: '42', inputs: [{ name: 'input', shape: [1, 13], datatype: 'FP32', data: [13.2, 1.78, 2.14, 11.2, 100, 2.65, 2.76, 0.26, 1.28, 4.38, 1.05, 3.4, 1050] }] },
  });

const inferResponseSchema = z
  .object({ model_name: z.string(), model_version: z.string(), id: z.string().optional(), outputs: z.array(responseOutputSchema) })
  .openapi('KServeInferResponse', {
    example: { model_name: 'wine', model_version: '2', id: '42', outputs: [{ name: 'label', datatype: 'BYTES', shape: [1], data: ['1'] }, { name: 'probabilities', datatype: 'FP32', shape: [1, 3], data: [0.91, 0.06, 0.03] }] },
  });

const nameParam = z.object({ name: z.string() });
/**
 * A version in a path: digits only, as TF Serving's `:predict` paths take it (a number parser
 * would also take `0x1`, `1e0` or ` 1`), then a positive integer the registry can hold.
 */
export const versionParam = z
  .string()
  .regex(/^\d+$/, 'must be a version number: digits only')
  .transform(Number)
  .pipe(z.number().int().min(1).max(2 ** 31 - 1))
  .openapi({ type: 'string', pattern: '^[0-9]+$', example: '2' });
export const versionParams = z.object({ name: z.string(), version: versionParam });
const notFound = protocolError('No such model, version, or champion of the model');
const badVersion = protocolError('The version is not a positive integer');

export const serverMetadata = createRoute({
  method: 'get',
  path: '/v2',
  operationId: 'kserveServerMetadata',
  summary: 'KServe v2: the server',
  responses: {
    200: { description: 'Name, version and protocol extensions', content: { 'application/json': { schema: z.object({ name: z.string(), version: z.string(), extensions: z.array(z.string()) }) } } },
  },
});

export const live = createRoute({
  method: 'get',
  path: '/v2/health/live',
  operationId: 'kserveLive',
  summary: 'KServe v2: the server answers (no key needed)',
  responses: { 200: { description: 'Live', content: { 'application/json': { schema: z.object({ live: z.boolean() }) } } } },
});

export const ready = createRoute({
  method: 'get',
  path: '/v2/health/ready',
  operationId: 'kserveReady',
  summary: 'KServe v2: the compute backend that serves predictions works (no key needed)',
  responses: {
    200: { description: 'Ready', content: { 'application/json': { schema: z.object({ ready: z.literal(true) }) } } },
    503: { description: 'The compute backend is broken and could not be reset', content: { 'application/json': { schema: z.object({ ready: z.literal(false), reason: z.string() }) } } },
  },
});

const metadataResponses = { 200: { description: 'The tensors the version reads and writes', content: { 'application/json': { schema: metadataSchema } } }, 404: notFound };

export const modelMetadata = createRoute({
  method: 'get',
  path: '/v2/models/{name}',
  operationId: 'kserveModelMetadata',
  summary: "KServe v2: the inputs and outputs of the model's champion",
  request: { params: nameParam },
  responses: metadataResponses,
});

export const versionMetadata = createRoute({
  method: 'get',
  path: '/v2/models/{name}/versions/{version}',
  operationId: 'kserveVersionMetadata',
  summary: 'KServe v2: the inputs and outputs of a version',
  request: { params: versionParams },
  responses: { ...metadataResponses, 400: badVersion },
});

const readyResponses = { 200: { description: 'Loaded and ready', content: { 'application/json': { schema: z.object({ name: z.string(), ready: z.literal(true) }) } } }, 404: notFound };

export const modelReady = createRoute({
  method: 'get',
  path: '/v2/models/{name}/ready',
  operationId: 'kserveModelReady',
  summary: "KServe v2: the model's champion is loaded (loading it if need be)",
  request: { params: nameParam },
  responses: readyResponses,
});

export const versionReady = createRoute({
  method: 'get',
  path: '/v2/models/{name}/versions/{version}/ready',
  operationId: 'kserveVersionReady',
  summary: 'KServe v2: a version is loaded (loading it if need be)',
  request: { params: versionParams },
  responses: { ...readyResponses, 400: badVersion },
});

const inferResponses = {
  200: { description: 'One row per instance in each output: `label` and `probabilities` (class order of the metadata), `value`, or `forecast`', content: { 'application/json': { schema: inferResponseSchema } } },
  400: protocolError('An input does not fit the model: an unknown or missing name, a shape that does not match its data, or a value maas refuses; the message names the input and element'),
  404: notFound,
  409: protocolError('The version cannot serve predictions (it gives non-finite outputs)'),
  503: { ...protocolError('The compute backend is broken or was reset during the request; retry after Retry-After seconds'), headers: { 'Retry-After': { description: 'Seconds to wait', schema: { type: 'integer' as const } } } },
};
const inferBody = { required: true, content: { 'application/json': { schema: inferRequestSchema } } };

export const infer = createRoute({
  method: 'post',
  path: '/v2/models/{name}/infer',
  operationId: 'kserveInfer',
  summary: "KServe v2: predict with the model's champion",
  request: { params: nameParam, body: inferBody },
  responses: inferResponses,
});

export const versionInfer = createRoute({
  method: 'post',
  path: '/v2/models/{name}/versions/{version}/infer',
  operationId: 'kserveVersionInfer',
  summary: 'KServe v2: predict with a version',
  request: { params: versionParams, body: inferBody },
  responses: inferResponses,
});
