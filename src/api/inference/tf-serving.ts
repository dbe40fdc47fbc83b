/**
 * TF Serving's REST API: predict (`…:predict`, row and columnar formats), model status and
 * signature metadata, for a model's champion, a version, or a label (a maas alias), in the
 * caller's project.
 */
import type { OpenAPIHono } from '@hono/zod-openapi';
import type { Context } from 'hono';
import { NotFoundError, ValidationError } from '../../errors.ts';
import { modelNameSchema } from '../../schemas.ts';
import { CHAMPION } from '../../storage/index.ts';
import { TF_DTYPES, type TensorSpec } from '../../serving/signature.ts';
import { notFoundOf, type Selector } from '../../serving/source.ts';
import { principalOf } from '../auth.ts';
import { validationResponse, zodIssues } from '../errors.ts';
import { predictWith, servedSignature, type InferenceDeps } from './served.ts';
import { fromColumns, fromRows, tfAnswer } from './tf-serving-tensors.ts';
import * as routes from './tf-serving.routes.ts';

const champion: Selector = { alias: CHAMPION };
/** TF Serving's name of the one signature a maas model has. */
const SERVING_DEFAULT = 'serving_default';

function tensorInfo(spec: TensorSpec) {
  return { dtype: TF_DTYPES[spec.datatype], tensor_shape: { dim: spec.shape.map((d) => ({ size: String(d), name: '' })), unknown_rank: false }, name: `${spec.name}:0` };
}

/** Where a `…:predict` path points: the last segment carries the verb, so hono matches it with a pattern. */
const PREDICT_PATHS: { path: string; selector: (c: Context) => { name: string; selector: Selector } }[] = [
  { path: '/v1/models/:call{[^/:]+:predict}', selector: (c) => ({ name: c.req.param('call')!.slice(0, -':predict'.length), selector: champion }) },
  { path: '/v1/models/:name/versions/:call{[0-9]+:predict}', selector: (c) => ({ name: c.req.param('name')!, selector: { version: Number(c.req.param('call')!.slice(0, -':predict'.length)) } }) },
  {
    path: '/v1/models/:name/labels/:call{[^/:]+:predict}',
    selector: (c) => {
      const label = c.req.param('call')!.slice(0, -':predict'.length);
      const valid = modelNameSchema.safeParse(label);
      if (!valid.success) throw new ValidationError('label', label, valid.error.issues[0]?.message ?? 'is not an alias name');
      return { name: c.req.param('name')!, selector: { alias: label } };
    },
  },
];

export function registerTfServing(app: OpenAPIHono, deps: InferenceDeps): void {
  const { predictor, source } = deps;
  const project = (c: Context) => principalOf(c).projectId;

  // @hono/zod-openapi turns `{name}:predict` into no usable hono path, so these three are
  // documented from their route definitions and served by plain routes with the same schema.
  for (const route of [routes.predict, routes.versionPredict, routes.labelPredict]) app.openAPIRegistry.registerPath(route);
  for (const { path, selector } of PREDICT_PATHS) {
    app.post(path, async (c) => {
      const { name, selector: which } = selector(c);
      // The /v1/* body checks have already refused an empty, non-JSON-typed or oversized body.
      const text = await c.req.text();
      let body: unknown;
      try {
        body = JSON.parse(text);
      } catch {
        return validationResponse(c, [{ field: 'body', value: text, rule: 'is not valid JSON' }]);
      }
      const parsed = routes.predictRequestSchema.safeParse(body);
      if (!parsed.success) return validationResponse(c, zodIssues(parsed.error, body));
      const request = parsed.data;
      if (request.signature_name !== undefined && request.signature_name !== '' && request.signature_name !== SERVING_DEFAULT) {
        throw new ValidationError('signature_name', request.signature_name, `is not a signature of this model; the only one is "${SERVING_DEFAULT}"`);
      }
      const rows = request.instances !== undefined;
      if (rows === (request.inputs !== undefined)) {
        throw new ValidationError(rows ? 'inputs' : 'instances', undefined, 'send exactly one of instances (row format) and inputs (columnar format)');
      }
      const { served, signature, predictions } = await predictWith(predictor, project(c), name, which, (s) => (rows ? fromRows(s, request.instances as unknown[]) : fromColumns(s, request.inputs)));
      return c.json(tfAnswer(served.preprocessing, signature, predictions, rows ? 'row' : 'columnar'), 200);
    });
  }

  const status = async (c: Context, name: string, selector: Selector) => {
    const ref = await source.resolve(project(c), name, selector);
    if (!ref) throw await notFoundOf(source, project(c), name, selector, 'label');
    return { model_version_status: [routes.versionStatus(ref.version)] };
  };
  if (deps.modelStatusRoute) {
    app.openapi(routes.modelStatus, async (c) => {
      const { name } = c.req.valid('param');
      const versions = await source.versions(project(c), name);
      if (versions.length === 0) throw new NotFoundError('model', name);
      return c.json({ model_version_status: versions.map((v) => routes.versionStatus(v.version)).reverse() }, 200);
    });
  }
  app.openapi(routes.versionStatusRoute, async (c) => {
    const { name, version } = c.req.valid('param');
    return c.json(await status(c, name, { version }), 200);
  });
  app.openapi(routes.labelStatus, async (c) => {
    const { name, label } = c.req.valid('param');
    return c.json(await status(c, name, { alias: label }), 200);
  });

  const metadata = async (c: Context, name: string, selector: Selector) => {
    const { served, signature } = await servedSignature(predictor, project(c), name, selector);
    const def = { inputs: Object.fromEntries(signature.inputs.map((i) => [i.name, tensorInfo(i)])), outputs: Object.fromEntries(signature.outputs.map((o) => [o.name, tensorInfo(o)])), method_name: 'tensorflow/serving/predict' };
    return { model_spec: { name, signature_name: '', version: String(served.version) }, metadata: { signature_def: { signature_def: { [SERVING_DEFAULT]: def } } } };
  };
  app.openapi(routes.metadata, async (c) => c.json(await metadata(c, c.req.valid('param').name, champion), 200));
  app.openapi(routes.versionMetadata, async (c) => {
    const { name, version } = c.req.valid('param');
    return c.json(await metadata(c, name, { version }), 200);
  });
  app.openapi(routes.labelMetadata, async (c) => {
    const { name, label } = c.req.valid('param');
    return c.json(await metadata(c, name, { alias: label }), 200);
  });
}
