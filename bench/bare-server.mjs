// The ceiling: a bare node:http server answering a fixed Seldon reply, nothing else.
import { createServer } from 'node:http';

const reply = JSON.stringify({
  data: { names: ['t:0', 't:1', 't:2'], ndarray: [[0.0008, 0.1276, 0.8715]] },
  meta: { puid: 'a'.repeat(26), tags: {}, routing: {}, requestPath: { classifier: 'SKLEARN_SERVER' }, metrics: [] },
});
const server = createServer((req, res) => {
  req.resume();
  req.on('end', () => {
    res.writeHead(200, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(reply) });
    res.end(reply);
  });
});
server.keepAliveTimeout = 65_000;
server.listen(0, '127.0.0.1', () => {
  const address = server.address();
  process.stdout.write(`listening ${typeof address === 'object' && address !== null ? address.port : 0}\n`);
});
process.on('SIGTERM', () => server.close(() => process.exit(0)));
