// The eventing benchmark's subscriber: a bare node:http server that answers every POST 202 with an
// empty body and counts the events (and distinct Ce-Id values) it was sent, per path and per value
// of the `benchrun` extension (so a warm-up's late deliveries are never counted as a run's). An event
// carrying the `benchsent` extension (process.hrtime.bigint() of the sender, in ns; the monotonic
// clock is the same for every process on the machine) also records receive time − send time.
// GET /stats?path=/x&run=r answers {"count","unique","latenciesMs":[…]} for that path; DELETE /stats
// forgets everything.
import { createServer } from 'node:http';

/** @type {Map<string, {count: number, ids: Set<string>, latenciesMs: number[]}>} */
let paths = new Map();

function statsOf(path, run) {
  const key = `${path} ${run ?? ''}`;
  let stats = paths.get(key);
  if (stats === undefined) {
    stats = { count: 0, ids: new Set(), latenciesMs: [] };
    paths.set(key, stats);
  }
  return stats;
}

const server = createServer((req, res) => {
  const url = new URL(req.url ?? '/', 'http://sink');
  if (url.pathname === '/stats') {
    req.resume();
    if (req.method === 'DELETE') {
      paths = new Map();
      res.writeHead(204);
      res.end();
      return;
    }
    const stats = statsOf(url.searchParams.get('path') ?? '/', url.searchParams.get('run') ?? undefined);
    const body = JSON.stringify({ count: stats.count, unique: stats.ids.size, latenciesMs: stats.latenciesMs });
    res.writeHead(200, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) });
    res.end(body);
    return;
  }
  const sent = req.headers['ce-benchsent'];
  req.resume();
  req.on('end', () => {
    const received = process.hrtime.bigint();
    const run = req.headers['ce-benchrun'];
    const stats = statsOf(url.pathname, typeof run === 'string' ? run : undefined);
    stats.count += 1;
    const id = req.headers['ce-id'];
    if (typeof id === 'string') stats.ids.add(id);
    if (typeof sent === 'string' && /^\d+$/.test(sent)) stats.latenciesMs.push(Number(received - BigInt(sent)) / 1e6);
    res.writeHead(202, { 'content-length': 0 });
    res.end();
  });
});
server.keepAliveTimeout = 65_000;
server.listen(0, '127.0.0.1', () => {
  const address = server.address();
  process.stdout.write(`listening ${typeof address === 'object' && address !== null ? address.port : 0}\n`);
});
const stop = () => {
  server.close(() => process.exit(0));
  server.closeAllConnections();
};
process.on('SIGTERM', stop);
process.on('SIGINT', stop);
