/**
 * The standard inference protocols over maas's predictor: KServe v2 (Open Inference Protocol,
 * under /v2) and TF Serving's REST API (under /v1/models, beside maas's own routes). Used by the
 * api (createApp) and by the standalone server.
 */
import type { OpenAPIHono } from '@hono/zod-openapi';
import { registerKServe } from './kserve.ts';
import type { InferenceDeps } from './served.ts';
import { registerTfServing } from './tf-serving.ts';

export { protocolErrors, isProtocolPath } from './protocol-errors.ts';
export { versionStatus, versionStatusSchema } from './tf-serving.routes.ts';
export type { InferenceDeps } from './served.ts';

/**
 * Registers both protocols' routes. Register them after the authentication middleware (the
 * project comes from the key), and `protocolErrors()` before every middleware, so that errors
 * reach protocol clients as `{"error": "<message>"}`.
 */
export function registerInference(app: OpenAPIHono, deps: InferenceDeps): void {
  registerKServe(app, deps);
  registerTfServing(app, deps);
}
