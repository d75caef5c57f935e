// The gRPC floors: a server that answers every unary call with the same fixed bytes, doing
// nothing else. `grpc-js`: @grpc/grpc-js's server, a passthrough method; `http2`: node:http2 with
// gRPC's framing written by hand (5-byte prefix, grpc-status trailers). Prints `listening <port>`.
import { createServer, constants } from 'node:http2';
import * as grpc from '@grpc/grpc-js';

const mode = process.argv[2];
// The answer's bytes (a protobuf SeldonMessage, hex, from the caller: ghz decodes answers).
const reply = Buffer.from(process.argv[3] ?? '', 'hex');
const framed = Buffer.alloc(5 + reply.length);
framed.writeUInt32BE(reply.length, 1);
reply.copy(framed, 5);
const listening = (port) => process.stdout.write(`listening ${port}\n`);

if (mode === 'grpc-js') {
  const server = new grpc.Server();
  const pass = (b) => b;
  const method = { path: '/seldon.protos.Seldon/Predict', requestStream: false, responseStream: false, requestSerialize: pass, requestDeserialize: pass, responseSerialize: pass, responseDeserialize: pass };
  server.addService({ Predict: method }, { Predict: (_call, callback) => callback(null, reply) });
  server.bindAsync('127.0.0.1:0', grpc.ServerCredentials.createInsecure(), (_err, port) => listening(port));
} else if (mode === 'http2') {
  const server = createServer();
  server.on('stream', (stream) => {
    stream.on('error', () => {});
    const chunks = [];
    stream.on('data', (c) => chunks.push(c));
    stream.on('end', () => {
      stream.respond({ [constants.HTTP2_HEADER_STATUS]: 200, 'content-type': 'application/grpc' }, { waitForTrailers: true });
      stream.once('wantTrailers', () => stream.sendTrailers({ 'grpc-status': '0' }));
      stream.end(framed);
    });
  });
  server.listen(0, '127.0.0.1', () => listening(server.address().port));
} else {
  throw new Error(`mode: expected grpc-js or http2, not ${mode}`);
}
