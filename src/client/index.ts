/**
 * The typed HTTP client of the maas api: openapi-fetch over the types generated from the
 * app's OpenAPI document (scripts/api-client.ts), a multipart upload helper, errors that carry
 * the server's message, and a resumable reader of a study's live events. Plain Node imports
 * it as `maas/client` (dist/client.js, built at install).
 */
import createClient, { type Client } from 'openapi-fetch';
import type { components, operations, paths } from './generated/schema.d.ts';
import { unwrap } from './errors.ts';
import type { Connection } from './events.ts';

export { MaasApiError, unwrap, type ApiIssue } from './errors.ts';
export { watchStudy, type Connection, type ReceivedEvent, type StudyEvent, type WatchOptions } from './events.ts';
export type { components, operations, paths };

export type Dataset = components['schemas']['Dataset'];
export type Study = components['schemas']['Study'];
export type Model = components['schemas']['Model'];
export type ApiErrorBody = components['schemas']['Error'];
export type CreateStudy = components['schemas']['CreateStudy'];

/** Options of createMaasClient. */
export interface MaasClientOptions {
  /** The api's base URL, e.g. http://127.0.0.1:3000. */
  url: string;
  /** API key, sent as `Authorization: Bearer <key>`. @defaultValue none (an open deployment) */
  key?: string;
  /** @defaultValue globalThis.fetch at the time of the call */
  fetch?: typeof fetch;
}

/** openapi-fetch's client of every documented route, and where it connects (for watchStudy). */
export type MaasClient = Client<paths> & { readonly connection: Connection };

/**
 * A typed client: `client.GET('/v1/studies/{id}', { params: { path: { id } } })` resolves to
 * `{ data }` or `{ error }`; wrap a call in `unwrap()` to get the data or a MaasApiError.
 */
export function createMaasClient(options: MaasClientOptions): MaasClient {
  const url = options.url.replace(/\/+$/, '');
  // Late-bound, so a fetch replaced after the client was made (a test's stub) is the one used.
  const doFetch = options.fetch ?? ((input: Request) => globalThis.fetch(input));
  const client = createClient<paths>({
    baseUrl: url,
    fetch: (input: Request) => doFetch(input),
    headers: options.key ? { authorization: `Bearer ${options.key}` } : {},
  });
  const connection: Connection = { url, ...(options.key ? { key: options.key } : {}), ...(options.fetch ? { fetch: options.fetch } : {}) };
  return Object.assign(client, { connection });
}

/** The text fields of an upload (POST /v1/datasets), everything but the file. */
export type UploadFields = Omit<operations['uploadDataset']['requestBody']['content']['multipart/form-data'], 'file'>;

/**
 * Uploads a dataset as multipart form data and returns what the api understood of it.
 * @param file - the file's bytes; `fileName` is what the api sees (its extension tells CSV, JSONL and zip apart)
 * @throws MaasApiError naming the field and the rule when the api refuses it
 */
export async function uploadDataset(client: MaasClient, file: Blob, fileName: string, fields: UploadFields): Promise<Dataset> {
  const form = new FormData();
  form.set('file', file, fileName);
  for (const [name, value] of Object.entries(fields)) if (value !== undefined) form.set(name, String(value));
  return unwrap(client.POST('/v1/datasets', { body: fields as never, bodySerializer: () => form }));
}
