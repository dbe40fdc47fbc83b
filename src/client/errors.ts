/** One problem the api found with a request: the field, the value given and the rule it broke. */
export interface ApiIssue {
  field: string;
  value?: unknown;
  rule: string;
}

/**
 * A 4xx or 5xx answer of the api. `message` is the server's own message (it names the field,
 * the value and the rule for a bad request), so printing it is enough for a person.
 */
export class MaasApiError extends Error {
  override readonly name = 'MaasApiError';
  /** The HTTP status. */
  readonly status: number;
  /** The api's error code (invalid_request, not_found, conflict, …), or `http_<status>` for an answer without one. */
  readonly code: string;
  /** The problems of a refused request (400, 413, 415); empty otherwise. */
  readonly issues: ApiIssue[];
  /** Seconds to wait before retrying, from Retry-After (429, 503); null when absent. */
  readonly retryAfterSeconds: number | null;

  constructor(status: number, body: unknown, retryAfter: string | null = null) {
    const error = (body as { error?: { code?: unknown; message?: unknown; issues?: unknown } } | null)?.error;
    const text = typeof body === 'string' ? body.trim().slice(0, 500) : '';
    super(typeof error?.message === 'string' ? error.message : `HTTP ${status}${text ? `: ${text}` : ''}`);
    this.status = status;
    this.code = typeof error?.code === 'string' ? error.code : `http_${status}`;
    this.issues = Array.isArray(error?.issues) ? (error.issues as ApiIssue[]) : [];
    const seconds = retryAfter === null ? Number.NaN : Number(retryAfter);
    this.retryAfterSeconds = Number.isFinite(seconds) ? seconds : null;
  }
}

/** What every openapi-fetch call resolves to. */
type FetchResult<T> = { data?: T; error?: unknown; response: Response };

/**
 * The success body of a call, or a thrown MaasApiError carrying the server's message:
 * `const study = await unwrap(client.GET('/v1/studies/{id}', { params: { path: { id } } }))`.
 */
export async function unwrap<T>(call: Promise<FetchResult<T>>): Promise<T> {
  const { data, error, response } = await call;
  if (!response.ok) throw new MaasApiError(response.status, error, response.headers.get('retry-after'));
  return data as T;
}
