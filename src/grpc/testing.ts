/** For tests of our gRPC servers: a reflection client over grpc-js. */
import type * as grpc from '@grpc/grpc-js';
import { reflectionProtoRoot, REFLECTION_VERSIONS } from './reflection.ts';

/**
 * Asks a server's reflection service (`version`) the questions in turn on one stream; resolves
 * with its answers decoded (field names as in reflection.proto), once the server ends the stream.
 */
export function askReflection(client: grpc.Client, version: (typeof REFLECTION_VERSIONS)[number], questions: Record<string, unknown>[]): Promise<Record<string, unknown>[]> {
  const root = reflectionProtoRoot(version);
  const requestType = root.lookupType(`grpc.reflection.${version}.ServerReflectionRequest`);
  const responseType = root.lookupType(`grpc.reflection.${version}.ServerReflectionResponse`);
  return new Promise((resolve, reject) => {
    const answers: Record<string, unknown>[] = [];
    const stream = client.makeBidiStreamRequest(
      `/grpc.reflection.${version}.ServerReflection/ServerReflectionInfo`,
      (value: Record<string, unknown>) => Buffer.from(requestType.encode(requestType.fromObject(value)).finish()),
      (bytes: Buffer) => responseType.toObject(responseType.decode(bytes), { oneofs: false }),
    );
    stream.on('data', (answer: Record<string, unknown>) => answers.push(answer));
    stream.on('end', () => resolve(answers));
    stream.on('error', reject);
    for (const question of questions) stream.write(question);
    stream.end();
  });
}
