/** Raw-socket helpers for tests: what a hostile or broken client sends, byte for byte. */
import { connect } from 'node:net';

/**
 * Writes `bytes` to 127.0.0.1:port and collects what comes back until the server closes, the
 * client gives up after `closeAfterMs` (then it closes its side), or `deadlineMs` passes.
 */
export function rawExchange(port: number, bytes: string | Buffer, options: { closeAfterWrite?: boolean; deadlineMs?: number } = {}): Promise<{ text: string; ms: number; closedByServer: boolean }> {
  return new Promise((resolve, reject) => {
    const started = Date.now();
    const socket = connect(port, '127.0.0.1');
    const chunks: Buffer[] = [];
    let closedByServer = true;
    const deadline = setTimeout(() => {
      closedByServer = false;
      socket.destroy();
    }, options.deadlineMs ?? 10_000);
    socket.on('data', (chunk: Buffer) => chunks.push(chunk));
    socket.on('error', (err: NodeJS.ErrnoException) => {
      if (err.code !== 'ECONNRESET' && err.code !== 'EPIPE') reject(err);
    });
    socket.on('close', () => {
      clearTimeout(deadline);
      resolve({ text: Buffer.concat(chunks).toString('utf8'), ms: Date.now() - started, closedByServer });
    });
    socket.write(bytes, () => {
      if (options.closeAfterWrite === true) {
        closedByServer = false;
        socket.destroy();
      }
    });
  });
}

/** A POST to 127.0.0.1:`port` (its own Host, so no Host check refuses it) that announces `announced` bytes and sends only `body`. */
export function truncatedPost(port: number, path: string, announced: number, body: string, headers: Record<string, string> = {}): string {
  let head = `POST ${path} HTTP/1.1\r\nHost: 127.0.0.1:${port}\r\nContent-Type: application/json\r\nContent-Length: ${announced}\r\n`;
  for (const [name, value] of Object.entries(headers)) head += `${name}: ${value}\r\n`;
  return `${head}\r\n${body}`;
}
