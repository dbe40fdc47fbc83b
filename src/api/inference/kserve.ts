/**
 * KServe v2 (Open Inference Protocol) over HTTP: health, server and model metadata, model
 * readiness and inference, for the champion of a model or a given version, in the caller's project.
 */
import type { OpenAPIHono } from '@hono/zod-openapi';
import type { Context } from 'hono';
import { errorMessage } from '../../log.ts';
import { CHAMPION } from '../../storage/index.ts';
import type { Selector } from '../../serving/source.ts';
import { principalOf } from '../auth.ts';
import { checkRequestedOutputs, v2Error, v2Instances, v2Outputs } from './kserve-tensors.ts';
import * as routes from './kserve.routes.ts';
import { PLATFORM, predictWith, servedSignature, type InferenceDeps } from './served.ts';

const champion: Selector = { alias: CHAMPION };

export function registerKServe(app: OpenAPIHono, deps: InferenceDeps): void {
  const { predictor, source } = deps;
  const server = deps.server ?? { name: 'maas', version: '0.1.0' };
  const project = (c: Context) => principalOf(c).projectId;

  app.openapi(routes.serverMetadata, (c) => c.json({ ...server, extensions: [] }, 200));
  app.openapi(routes.live, (c) => c.json({ live: true }, 200));
  app.openapi(routes.ready, async (c) => {
    const status = await predictor.backendStatus().catch((err: unknown) => `broken: ${errorMessage(err)}`);
    return status === 'ok' ? c.json({ ready: true } as const, 200) : c.json({ ready: false, reason: status } as const, 503);
  });

  const metadata = async (c: Context, name: string, selector: Selector) => {
    const projectId = project(c);
    const { signature } = await servedSignature(predictor, projectId, name, selector);
    const versions = await source.versions(projectId, name);
    return { name, versions: versions.map((v) => String(v.version)), platform: PLATFORM, inputs: signature.inputs, outputs: signature.outputs };
  };
  app.openapi(routes.modelMetadata, async (c) => c.json(await metadata(c, c.req.valid('param').name, champion), 200));
  app.openapi(routes.versionMetadata, async (c) => {
    const { name, version } = c.req.valid('param');
    return c.json(await metadata(c, name, { version }), 200);
  });

  // Ready once loaded: asking loads the version (or finds it warm), so a probe also warms it.
  app.openapi(routes.modelReady, async (c) => {
    const { name } = c.req.valid('param');
    await servedSignature(predictor, project(c), name, champion);
    return c.json({ name, ready: true } as const, 200);
  });
  app.openapi(routes.versionReady, async (c) => {
    const { name, version } = c.req.valid('param');
    await servedSignature(predictor, project(c), name, { version });
    return c.json({ name, ready: true } as const, 200);
  });

  const infer = async (c: Context, name: string, selector: Selector, body: { id?: string | undefined; inputs: Parameters<typeof v2Instances>[1]; outputs?: { name: string }[] | undefined }) => {
    const { served, signature, predictions } = await predictWith(predictor, project(c), name, selector, (s) => {
      checkRequestedOutputs(s, body.outputs);
      return { instances: v2Instances(s, body.inputs), relabel: (err) => v2Error(s, body.inputs, err) };
    });
    const outputs = v2Outputs(served.preprocessing, signature, predictions, body.outputs);
    return { model_name: name, model_version: String(served.version), ...(body.id !== undefined ? { id: body.id } : {}), outputs };
  };
  app.openapi(routes.infer, async (c) => c.json(await infer(c, c.req.valid('param').name, champion, c.req.valid('json')), 200));
  app.openapi(routes.versionInfer, async (c) => {
    const { name, version } = c.req.valid('param');
    return c.json(await infer(c, name, { version }, c.req.valid('json')), 200);
  });
}
