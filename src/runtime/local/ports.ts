/**
 * Free TCP ports on the loopback interface, for component replicas to listen on.
 *
 * A port is found by binding port 0 and reading what the kernel chose, then closing the socket
 * so the replica can bind it. Between the close and the replica's bind the kernel could hand the
 * same port to another bind-to-0 in this process, so ports handed out are remembered until they
 * are released, and a repeat is skipped.
 */
import { createServer } from 'node:net';
import { runtimeOptions } from './options.ts';

export const LOOPBACK = '127.0.0.1';

export class PortAllocator {
  readonly #handed = new Set<number>();
  readonly #host: string;

  constructor(host: string = LOOPBACK) {
    this.#host = host;
  }

  /** A port that is free now and not handed out by this allocator before (unless released), found within `attempts` binds. */
  async allocate(attempts: number = runtimeOptions.defaults.portAttempts): Promise<number> {
    for (let attempt = 0; attempt < attempts; attempt++) {
      const port = await bindEphemeral(this.#host);
      if (!this.#handed.has(port)) {
        this.#handed.add(port);
        return port;
      }
    }
    throw new Error(`no free port on ${this.#host} after ${attempts} attempts`);
  }

  /** Gives `port` back once nothing this process started listens on it any more. */
  release(port: number): void {
    this.#handed.delete(port);
  }

  /** How many ports are handed out and not released. */
  get inUse(): number {
    return this.#handed.size;
  }
}

function bindEphemeral(host: string): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.unref();
    server.once('error', reject);
    server.listen({ host, port: 0, exclusive: true }, () => {
      const address = server.address();
      const port = typeof address === 'object' && address !== null ? address.port : 0;
      server.close(() => (port > 0 ? resolve(port) : reject(new Error(`could not read the port bound on ${host}`))));
    });
  });
}

/** One allocator per process, so every supervisor in it avoids the ports the others hold. */
export const sharedPorts = new PortAllocator();
