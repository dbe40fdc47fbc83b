import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { createServer, connect, type Server, type Socket } from 'node:net';

/**
 * Test hosts: network namespaces joined to this one by a veth pair each, so a process started in
 * one (see startMaas's `netns`) reaches this host only over that virtual link, at `hostIp`.
 * Needs root and iproute2.
 */
export interface TestHost {
  /** The namespace's name, for `ip netns exec`. */
  netns: string;
  /** This host's address on the link, as the namespace sees it. */
  hostIp: string;
  /** Takes the link down (the host is cut off, as by a network failure) or up again. */
  setLink(up: boolean): void;
  remove(): void;
}

/** Why test hosts cannot be made here, or null when they can. */
export function netnsUnavailable(): string | null {
  if (process.getuid?.() !== 0) return 'network namespaces need root';
  try {
    execFileSync('ip', ['netns', 'list'], { stdio: 'ignore' });
    return null;
  } catch {
    return 'iproute2 (`ip netns`) is not installed';
  }
}

const ip = (...args: string[]) => execFileSync('ip', args, { stdio: 'pipe' });

/** Creates host `index` (1-250) on 10.231.<index>.0/24: this side .1, the namespace .2. */
export function createTestHost(index: number): TestHost {
  const tag = randomBytes(2).toString('hex');
  const netns = `maas-${index}-${tag}`;
  // Interface names are limited to 15 characters.
  const hostSide = `mh${index}${tag}`;
  const nsSide = `mw${index}${tag}`;
  const hostIp = `10.231.${index}.1`;
  ip('netns', 'add', netns);
  ip('link', 'add', hostSide, 'type', 'veth', 'peer', 'name', nsSide);
  ip('link', 'set', nsSide, 'netns', netns);
  ip('addr', 'add', `${hostIp}/24`, 'dev', hostSide);
  ip('link', 'set', hostSide, 'up');
  ip('-n', netns, 'addr', 'add', `10.231.${index}.2/24`, 'dev', nsSide);
  ip('-n', netns, 'link', 'set', nsSide, 'up');
  ip('-n', netns, 'link', 'set', 'lo', 'up');
  return {
    netns,
    hostIp,
    setLink: (up) => ip('link', 'set', hostSide, up ? 'up' : 'down'),
    remove: () => {
      // Deleting the namespace deletes its end of the pair, and with it the other end.
      try {
        ip('netns', 'del', netns);
      } catch {
        // already gone
      }
    },
  };
}

/** Forwards TCP from `listenHost:port` to `target` (e.g. to a server that listens on loopback only). */
export async function tcpForward(listenHost: string, port: number, target: { host: string; port: number }): Promise<{ close(): Promise<void> }> {
  const sockets = new Set<Socket>();
  const server: Server = createServer((client) => {
    const upstream = connect(target.port, target.host);
    for (const s of [client, upstream]) {
      sockets.add(s);
      s.on('close', () => sockets.delete(s));
      s.on('error', () => undefined);
    }
    client.pipe(upstream).pipe(client);
    client.on('close', () => upstream.destroy());
    upstream.on('close', () => client.destroy());
  });
  await new Promise<void>((ready, fail) => server.once('error', fail).listen(port, listenHost, () => ready()));
  return {
    close: () => {
      for (const s of sockets) s.destroy();
      return new Promise((done) => server.close(() => done()));
    },
  };
}
