import { createRoute, z } from '@hono/zod-openapi';
import { modelNameSchema } from '../../schemas.ts';
import { protocolError, versionParams } from './kserve.routes.ts';

/** TF Serving's status of one version: maas serves every registered version, loading it on first use. */
export const versionStatusSchema = z.object({
  version: z.string(),
  state: z.literal('AVAILABLE'),
  status: z.object({ error_code: z.literal('OK'), error_message: z.string() }),
});
export const modelStatusSchema = z
  .object({ model_version_status: z.array(versionStatusSchema) })
  .openapi('TfServingModelStatus', { example: { model_version_status: [{ version: '2', state: 'AVAILABLE', status: { error_code: 'OK', error_message: '' } }] } });

/** TF Serving's answer to GET /v1/models/{name}: every version, newest first. */
export function versionStatus(version: number): z.infer<typeof versionStatusSchema> {
  return { version: String(version), state: 'AVAILABLE', status: { error_code: 'OK', error_message: '' } };
}

const tensorInfo = z.object({
  dtype: z.string(),
  tensor_shape: z.object({ dim: z.array(z.object({ size: z.string(), name: z.string() })), unknown_rank: z.boolean() }),
  name: z.string(),
});
const metadataSchema = z
  .object({
    model_spec: z.object({ name: z.string(), signature_name: z.string(), version: z.string() }),
    metadata: z.object({
      signature_def: z.object({
        signature_def: z.record(z.string(), z.object({ inputs: z.record(z.string(), tensorInfo), outputs: z.record(z.string(), tensorInfo), method_name: z.string() })),
      }),
    }),
  })
  .openapi('TfServingModelMetadata');

const predictRequestSchema = z
  .object({
    signature_name: z.string().max(200).optional().openapi({ description: 'Only `serving_default` (the default) exists' }),
    instances: z.array(z.unknown()).min(1).max(10_000).optional().openapi({ description: 'Row format: one entry per instance' }),
    inputs: z.unknown().optional().openapi({ description: 'Columnar format: the single input tensor, or an object of named tensors, each holding the whole batch' }),
  })
  .strict()
  .openapi('TfServingPredictRequest', {
    description:
      'Either `instances` (rows: an object keyed by column or a list of every column, a raw text, a nested image, sequence or window) or `inputs` (columns: `{"alcohol": [13.2, 12.4], …}`, or the single tensor), not both.',
    example: { instances: [{ alcohol: 13.2, malic_acid: 1.78, ash: 2.14 }] },
  });
export type TfPredictRequest = z.infer<typeof predictRequestSchema>;
export { predictRequestSchema };

const predictResponseSchema = z
  .object({ predictions: z.unknown().optional(), outputs: z.unknown().optional() })
  .openapi('TfServingPredictResponse', {
    description: '`predictions` for the row format (with one output its values, else one object per instance), `outputs` for the columnar format (its values, or one list per output)',
    example: { predictions: [{ label: '1', probabilities: [0.91, 0.06, 0.03] }] },
  });

const nameParam = z.object({ name: z.string() });
const labelParams = z.object({ name: z.string(), label: modelNameSchema });
const notFound = protocolError('No such model, version or label (alias)');
const badSelector = protocolError('The version is not a positive integer, or the label not an alias name');

const predictResponses = {
  200: { description: 'The predictions', content: { 'application/json': { schema: predictResponseSchema } } },
  400: protocolError('The body breaks a rule or an input does not fit the model; the message names the field and the rule'),
  404: notFound,
  409: protocolError('The version cannot serve predictions (it gives non-finite outputs)'),
  503: { ...protocolError('The compute backend is broken or was reset during the request; retry after Retry-After seconds'), headers: { 'Retry-After': { description: 'Seconds to wait', schema: { type: 'integer' as const } } } },
};
const predictBody = { required: true, content: { 'application/json': { schema: predictRequestSchema } } };

// Documented here; served by hono routes whose last segment is a pattern (see tf-serving.ts).
export const predict = createRoute({
  method: 'post',
  path: '/v1/models/{name}:predict',
  operationId: 'tfServingPredict',
  summary: "TF Serving: predict with the model's champion",
  request: { params: nameParam, body: predictBody },
  responses: predictResponses,
});
export const versionPredict = createRoute({
  method: 'post',
  path: '/v1/models/{name}/versions/{version}:predict',
  operationId: 'tfServingVersionPredict',
  summary: 'TF Serving: predict with a version',
  request: { params: z.object({ name: z.string(), version: z.string().regex(/^\d+$/) }), body: predictBody },
  responses: predictResponses,
});
export const labelPredict = createRoute({
  method: 'post',
  path: '/v1/models/{name}/labels/{label}:predict',
  operationId: 'tfServingLabelPredict',
  summary: 'TF Serving: predict with the version a label (alias) points to',
  request: { params: labelParams, body: predictBody },
  responses: predictResponses,
});

const statusResponses = { 200: { description: 'The version is available', content: { 'application/json': { schema: modelStatusSchema } } }, 400: badSelector, 404: notFound };

export const modelStatus = createRoute({
  method: 'get',
  path: '/v1/models/{name}',
  operationId: 'tfServingModelStatus',
  summary: 'TF Serving: the status of every version',
  request: { params: nameParam },
  responses: { 200: statusResponses[200], 404: notFound },
});
export const versionStatusRoute = createRoute({
  method: 'get',
  path: '/v1/models/{name}/versions/{version}',
  operationId: 'tfServingVersionStatus',
  summary: 'TF Serving: the status of a version',
  request: { params: versionParams },
  responses: statusResponses,
});
export const labelStatus = createRoute({
  method: 'get',
  path: '/v1/models/{name}/labels/{label}',
  operationId: 'tfServingLabelStatus',
  summary: 'TF Serving: the status of the version a label (alias) points to',
  request: { params: labelParams },
  responses: statusResponses,
});

const metadataResponses = { 200: { description: 'The serving_default signature: inputs and outputs', content: { 'application/json': { schema: metadataSchema } } }, 404: notFound };

export const metadata = createRoute({
  method: 'get',
  path: '/v1/models/{name}/metadata',
  operationId: 'tfServingMetadata',
  summary: "TF Serving: the signature of the model's champion",
  request: { params: nameParam },
  responses: metadataResponses,
});
export const versionMetadata = createRoute({
  method: 'get',
  path: '/v1/models/{name}/versions/{version}/metadata',
  operationId: 'tfServingVersionMetadata',
  summary: 'TF Serving: the signature of a version',
  request: { params: versionParams },
  responses: { ...metadataResponses, 400: badSelector },
});
export const labelMetadata = createRoute({
  method: 'get',
  path: '/v1/models/{name}/labels/{label}/metadata',
  operationId: 'tfServingLabelMetadata',
  summary: 'TF Serving: the signature of the version a label (alias) points to',
  request: { params: labelParams },
  responses: { ...metadataResponses, 400: badSelector },
});
