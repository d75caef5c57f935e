/**
 * The contract every Transport keeps, written once and run against each one (HTTP and in-process
 * today, gRPC when it comes), as hono runs one router suite with `runTest({ newRouter })`. A
 * transport is handed the component to reach as a function of method and payload; how it gets
 * there — a wrapper path over HTTP, a call in process — is what the suite does not care about.
 * A transport that differs on purpose names the case in `skip`, with the reason.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { TrantorError, parseJsonLossless, stringifyJson } from '../../protocol/index.ts';
import type { Feedback, SeldonMessage } from '../../protocol/index.ts';
import type { UnitKey } from './endpoints.ts';
import { invoke } from './transport.ts';
import type { CallOptions, ComponentMethod, MethodPayload, Reply, Transport } from './transport.ts';

export interface ContractReply {
  status: number;
  /** The component's answer as a value; the transport under test carries it however it does. */
  body: unknown;
}

/** The component behind the transport: answers a method and its payload (undefined for metadata and health). */
export type ContractComponent = (method: ComponentMethod, payload: unknown) => Promise<ContractReply>;

export interface ContractSubject {
  readonly transport: Transport;
  /** The unit the component serves; the same object on every call. */
  readonly unit: UnitKey;
  /** Stops serving the unit: calls made afterwards find nothing ready to answer it. */
  takeDown: () => void;
  close: () => Promise<void>;
}

export interface TransportContract {
  name: string;
  newTransport: (component: ContractComponent) => Promise<ContractSubject>;
  /** Cases this transport differs on on purpose, by name, each with the reason. */
  skip?: Readonly<Record<string, string>>;
  /** The methods the transport carries to the component (all of CONTRACT_METHODS unless told). */
  methods?: readonly ComponentMethod[];
}

export const CONTRACT_METHODS: readonly ComponentMethod[] = ['predict', 'transformInput', 'transformOutput', 'route', 'aggregate', 'sendFeedback', 'metadata', 'health'];

const OPTIONS: CallOptions = { idempotent: true, timeoutMs: 5000 };

/** The answer as a value: the message, or the failure's body. */
export function valueOf(reply: Reply<unknown>): unknown {
  return reply.failure === undefined ? reply.message : reply.body;
}

function payloadFor(method: ComponentMethod): MethodPayload {
  // Fields in protobuf's order (meta before data), so a transport through protobuf keeps the text too.
  const message: SeldonMessage = { meta: { puid: `puid-${method}` }, data: { names: ['a', 'b'], ndarray: [[1, 2.5]] } };
  if (method === 'aggregate') return [message, { jsonData: { second: true } }];
  if (method === 'sendFeedback') return { request: message, response: { data: { ndarray: [[0]] } }, reward: 1 } satisfies Feedback;
  if (method === 'metadata' || method === 'health') return undefined;
  return message;
}

export function runTransportContract({ name, newTransport, skip = {}, methods = CONTRACT_METHODS }: TransportContract): void {
  const run = (title: string, body: () => Promise<void>): void => {
    const why = skip[title];
    test(`${name}: ${title}`, why === undefined ? {} : { skip: why }, body);
  };

  const withSubject = async (component: ContractComponent, body: (subject: ContractSubject) => Promise<void>): Promise<void> => {
    const subject = await newTransport(component);
    try {
      await body(subject);
    } finally {
      await subject.close();
    }
  };

  run('every method reaches the component with its payload and answers with its reply', async () => {
    const seen: [ComponentMethod, unknown][] = [];
    await withSubject(
      (method, payload) => {
        seen.push([method, payload]);
        return Promise.resolve({ status: 200, body: { jsonData: { answered: method } } });
      },
      async ({ transport, unit }) => {
        for (const method of methods) {
          const response = await invoke(transport, unit, method, payloadFor(method), OPTIONS);
          assert.equal(response.status, 200, method);
          assert.equal(response.failure, undefined, method);
          assert.deepEqual(response.message, { jsonData: { answered: method } }, method);
        }
      },
    );
    assert.deepEqual(seen.map(([method]) => method), methods);
    for (const [method, payload] of seen) {
      const sent = payloadFor(method);
      if (sent === undefined) assert.equal(payload, undefined, method);
      else assert.equal(stringifyJson(payload), stringifyJson(sent), method);
    }
  });

  run('numbers cross exactly, both ways', async () => {
    const exact = '{"data":{"ndarray":[[12345678901234567891,1e-400,1e400,NaN]]}}';
    let arrived = '';
    await withSubject(
      (_method, payload) => {
        arrived = stringifyJson(payload);
        return Promise.resolve({ status: 200, body: parseJsonLossless(exact) });
      },
      async ({ transport, unit }) => {
        const response = await transport.predict(unit, parseJsonLossless(exact) as SeldonMessage, OPTIONS);
        assert.equal(stringifyJson(valueOf(response)), exact);
      },
    );
    assert.equal(arrived, exact);
  });

  run('meta: the request\'s puid reaches the component and the reply\'s tags and metrics come back', async () => {
    let puid: unknown;
    await withSubject(
      (_method, payload) => {
        puid = (payload as SeldonMessage).meta?.puid;
        return Promise.resolve({ status: 200, body: { data: { ndarray: [[1]] }, meta: { tags: { seen: 'yes' }, metrics: [{ key: 'k', type: 'COUNTER', value: 1 }] } } });
      },
      async ({ transport, unit }) => {
        const response = await transport.transformInput(unit, { data: { ndarray: [[1]] }, meta: { puid: 'abc-123' } }, OPTIONS);
        const meta = (valueOf(response) as SeldonMessage).meta;
        assert.deepEqual(meta, { tags: { seen: 'yes' }, metrics: [{ key: 'k', type: 'COUNTER', value: 1 }] });
      },
    );
    assert.equal(puid, 'abc-123');
  });

  run('the caller\'s message stays as it was, even when the component changes its input', async () => {
    const message: SeldonMessage = { data: { ndarray: [[1, 2]] }, meta: { puid: 'p', tags: { keep: 1 } } };
    const before = stringifyJson(message);
    await withSubject(
      (_method, payload) => {
        const input = payload as { data: { ndarray: number[][] }; meta: Record<string, unknown> };
        input.data.ndarray[0]![0] = 99;
        input.meta['tags'] = { changed: true };
        return Promise.resolve({ status: 200, body: input });
      },
      async ({ transport, unit }) => {
        const response = await transport.predict(unit, message, OPTIONS);
        assert.equal(stringifyJson((valueOf(response) as { data: unknown }).data), '{"ndarray":[[99,2]]}');
      },
    );
    assert.equal(stringifyJson(message), before);
  });

  run('a component failure passes through with its own status and body', async () => {
    const failure = { status: { status: 'FAILURE', code: 422, info: 'columns do not match', reason: 'MICROSERVICE_BAD_DATA' } };
    await withSubject(
      (method) => Promise.resolve(method === 'route' ? { status: 500, body: { status: { status: 'FAILURE', code: 500, info: 'boom', reason: 'MICROSERVICE_INTERNAL_ERROR' } } } : { status: 422, body: failure }),
      async ({ transport, unit }) => {
        const bad = await transport.predict(unit, { data: { ndarray: [[1]] } }, OPTIONS);
        assert.equal(bad.status, 422);
        assert.deepEqual(valueOf(bad), failure);
        assert.ok(bad.failure instanceof TrantorError);
        assert.deepEqual([bad.failure.code, bad.failure.status, bad.failure.reason, bad.failure.message], ['COMPONENT_FAILURE', 422, 'MICROSERVICE_BAD_DATA', 'columns do not match']);
        const broken = await transport.route(unit, { data: { ndarray: [[1]] } }, OPTIONS);
        assert.equal(broken.status, 500);
        assert.equal((valueOf(broken) as { status: { info: string } }).status.info, 'boom');
        assert.deepEqual([broken.failure?.status, broken.failure?.reason, broken.failure?.message], [500, 'MICROSERVICE_INTERNAL_ERROR', 'boom']);
      },
    );
  });

  run('a failure without a Seldon status is COMPONENT_FAILURE with the component\'s status and body', async () => {
    await withSubject(
      () => Promise.resolve({ status: 503, body: { error: 'warming up' } }),
      async ({ transport, unit }) => {
        const reply = await transport.transformInput(unit, { data: { ndarray: [[1]] } }, OPTIONS);
        assert.equal(reply.status, 503);
        assert.deepEqual(reply.body, { error: 'warming up' });
        assert.equal(reply.failure?.code, 'COMPONENT_FAILURE');
        assert.equal(reply.failure.status, 503);
        assert.equal(reply.failure.message, `node "${unit.node}" answered HTTP 503: {"error":"warming up"}`);
      },
    );
  });

  run('a success that is not a Seldon message fails BAD_UPSTREAM naming the node; metadata and health may be any value', async () => {
    await withSubject(
      (method) => Promise.resolve({ status: 200, body: method === 'metadata' || method === 'health' ? ['any', 1] : { data: 5 } }),
      async ({ transport, unit }) => {
        const reply = await transport.predict(unit, { data: { ndarray: [[1]] } }, OPTIONS);
        assert.equal(reply.status, 200);
        assert.equal(reply.failure?.code, 'BAD_UPSTREAM');
        assert.match(reply.failure.message, new RegExp(`^node "${unit.node}" answered with something that is not a Seldon message: data`));
        if (methods.includes('metadata')) assert.deepEqual((await transport.metadata(unit, OPTIONS)).message, ['any', 1]);
        if (methods.includes('health')) assert.deepEqual((await transport.health(unit, OPTIONS)).message, ['any', 1]);
      },
    );
  });

  run('a component that does not answer in time fails UPSTREAM_TIMEOUT naming the node', async () => {
    let release: () => void = () => undefined;
    const released = new Promise<void>((resolve) => (release = resolve));
    await withSubject(
      () => released.then(() => ({ status: 200, body: {} })),
      async ({ transport, unit }) => {
        try {
          await assert.rejects(transport.predict(unit, { data: { ndarray: [[1]] } }, { idempotent: true, timeoutMs: 200 }), (err: TrantorError) => {
            assert.ok(err instanceof TrantorError);
            assert.equal(err.code, 'UPSTREAM_TIMEOUT');
            assert.equal(err.status, 504);
            assert.match(err.message, new RegExp(`node "${unit.node}" .* did not answer within 200 ms`));
            return true;
          });
        } finally {
          release();
        }
      },
    );
  });

  run('a unit with nothing ready to answer fails UNAVAILABLE', async () => {
    await withSubject(
      () => Promise.resolve({ status: 200, body: {} }),
      async ({ transport, unit, takeDown }) => {
        const probe = methods.includes('health') ? 'health' : methods[0]!;
        assert.equal((await invoke(transport, unit, probe, payloadFor(probe), OPTIONS)).status, 200);
        takeDown();
        await assert.rejects(transport.predict(unit, { data: { ndarray: [[1]] } }, OPTIONS), (err: TrantorError) => {
          assert.ok(err instanceof TrantorError);
          assert.equal(err.code, 'UNAVAILABLE');
          assert.equal(err.status, 503);
          return true;
        });
      },
    );
  });
}
