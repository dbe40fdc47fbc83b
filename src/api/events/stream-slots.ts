import { RateLimitedError, ServiceBusyError } from '../../errors.ts';

/**
 * Counts open event streams, per principal and in all, so that neither one client nor all of
 * them together can hold more than their share of sockets and buffers.
 */
export class StreamSlots {
  private readonly held = new Map<string, number>();
  private total = 0;

  constructor(private readonly o: { perPrincipal: number; total: number; retryAfterSeconds: number }) {}

  /**
   * Takes a slot for `who` (a key id or an address); returns the function that gives it back.
   * @throws RateLimitedError (429) when `who` holds `perPrincipal` streams; ServiceBusyError (503) when `total` are open.
   */
  take(who: string, described: string): () => void {
    const mine = this.held.get(who) ?? 0;
    if (mine >= this.o.perPrincipal) {
      throw new RateLimitedError(this.o.retryAfterSeconds, `${described} already has ${mine} event streams open, the most one key (or address) may; close one, or retry after ${this.o.retryAfterSeconds} s`);
    }
    if (this.total >= this.o.total) {
      throw new ServiceBusyError(this.o.retryAfterSeconds, `the server has ${this.total} event streams open, the most it serves at once; retry after ${this.o.retryAfterSeconds} s`);
    }
    this.held.set(who, mine + 1);
    this.total += 1;
    let given = false;
    return () => {
      if (given) return;
      given = true;
      this.total -= 1;
      const left = (this.held.get(who) ?? 1) - 1;
      if (left > 0) this.held.set(who, left);
      else this.held.delete(who);
    };
  }
}
