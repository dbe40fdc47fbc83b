/**
 * Network settings shared by the processes that listen (the api, `maas serve`). Kept apart from
 * main.ts, so that `maas serve` does not load the queue, Redis and training code to read a HOST.
 */

/** Whether a HOST setting listens on this machine only. */
export function isLoopback(host: string): boolean {
  return host === 'localhost' || host === '::1' || /^127(\.\d{1,3}){3}$/.test(host);
}
