import { serve, type ServerType } from '@hono/node-server';
import type { OpenAPIHono } from '@hono/zod-openapi';
import { createParser, type EventSourceMessage } from 'eventsource-parser';

/** A real listening server over an app, on a free port, so that streams end when a client disconnects. */
export async function listen(app: OpenAPIHono): Promise<{ url: string; close(): Promise<void> }> {
  const server = await new Promise<ServerType>((ready) => {
    const s = serve({ fetch: app.fetch, port: 0, hostname: '127.0.0.1' }, () => ready(s));
  });
  const address = server.address();
  if (address === null || typeof address === 'string') throw new Error('the server has no port');
  return {
    url: `http://127.0.0.1:${address.port}`,
    close: () =>
      new Promise((done) => {
        (server as { closeAllConnections?: () => void }).closeAllConnections?.();
        server.close(() => done());
      }),
  };
}

export interface SseRead {
  status: number;
  headers: Headers;
  /** Events in the order received. */
  events: EventSourceMessage[];
  comments: string[];
  /** Why reading stopped: `until` said so, or the server ended the stream. */
  ended: 'until' | 'server';
  /** The body of an answer that is not a stream. */
  body?: string;
}

/**
 * Opens an event stream and reads it until `until` is true of what has arrived (then
 * disconnects, as a client that goes away) or the server ends it.
 */
export async function readSse(url: string, o: { headers?: Record<string, string>; until?: (r: SseRead) => boolean } = {}): Promise<SseRead> {
  const abort = new AbortController();
  const res = await fetch(url, { headers: { accept: 'text/event-stream', ...o.headers }, signal: abort.signal });
  const read: SseRead = { status: res.status, headers: res.headers, events: [], comments: [], ended: 'server' };
  if (!res.headers.get('content-type')?.startsWith('text/event-stream')) {
    read.body = await res.text();
    return read;
  }
  const parser = createParser({ onEvent: (e) => read.events.push(e), onComment: (c) => read.comments.push(c) });
  const reader = res.body!.pipeThrough(new TextDecoderStream()).getReader();
  try {
    for (;;) {
      if (o.until?.(read)) {
        read.ended = 'until';
        break;
      }
      const { done, value } = await reader.read();
      if (done) break;
      parser.feed(value);
    }
  } finally {
    abort.abort();
    await reader.cancel().catch(() => undefined);
  }
  return read;
}
