/**
 * What both protocols share: the served version's signature, and one prediction through maas's
 * own predictor (same preprocessing, strictness, batching and errors as POST /v1/models/{name}/predict).
 */
import type { Predictor } from '../../serving/predictor.ts';
import { signatureOf, type Signature } from '../../serving/signature.ts';
import type { ModelSource, Selector } from '../../serving/source.ts';

export interface InferenceDeps {
  predictor: Predictor;
  /** The source the predictor serves from, for the lists of versions in metadata and status answers. */
  source: ModelSource;
  /**
   * Also answer GET /v1/models/{name} with TF Serving's status of every version. Leave it off where
   * maas's own GET /v1/models/{name} is registered (it carries `model_version_status` itself).
   * @defaultValue false
   */
  modelStatusRoute?: boolean;
  /** The server's name and version in KServe's server metadata (GET /v2). @defaultValue `{ name: 'maas', version: '0.1.0' }` */
  server?: { name: string; version: string };
}

/** The platform KServe's model metadata names: TensorFlow.js layers models (`<project>_<format>`, as the protocol asks). */
export const PLATFORM = 'tfjs_layers';

/** The version a selector resolves to (loaded, or reused while warm) and its signature. */
export async function servedSignature(predictor: Predictor, projectId: string, name: string, selector: Selector) {
  const served = await predictor.signature(projectId, name, selector);
  return { served, signature: signatureOf(served.preprocessing, served.inputShape) };
}

/** A request in a protocol's format, once read against a signature: maas instances, and how to rename an encoder error. */
export interface ReadRequest {
  instances: unknown[];
  relabel(err: unknown): unknown;
}

/**
 * Predicts for a protocol request: `read` reads it against the signature of the version that
 * answers it (read again should that version be released before the model call, see
 * Predictor.predictFor), and an encoder error is renamed to the request's field. One lookup of the
 * selector, as maas's own predict: no list of versions or aliases.
 */
export async function predictWith(predictor: Predictor, projectId: string, name: string, selector: Selector, read: (signature: Signature) => ReadRequest) {
  let request: ReadRequest | undefined;
  let signature: Signature | undefined;
  try {
    const answer = await predictor.predictFor(projectId, name, selector, (version) => {
      // A read that fails for a later version must not be renamed by the earlier version's request.
      request = undefined;
      signature = signatureOf(version.preprocessing, version.inputShape);
      request = read(signature);
      return request.instances;
    });
    return { served: answer.version, signature: signature as Signature, predictions: answer.predictions };
  } catch (err) {
    throw request ? request.relabel(err) : err;
  }
}
