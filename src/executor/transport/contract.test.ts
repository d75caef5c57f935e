/** The Transport contract, run against the HTTP transport and the in-process one. */
import { parseJsonLossless, stringifyJson } from '../../protocol/index.ts';
import { StaticEndpoints, answerJson, standIn } from '../testing.ts';
import { runTransportContract } from './contract.ts';
import type { ContractComponent, ContractSubject } from './contract.ts';
import type { UnitKey } from './endpoints.ts';
import { HttpTransport, WRAPPER_ROUTES } from './http.ts';
import { InProcessTransport } from './in-process.ts';
import type { LocalComponent } from './in-process.ts';
import type { ComponentMethod } from './transport.ts';

const unit: UnitKey = Object.freeze({ namespace: 'contract', deployment: 'model', predictor: 'default', node: 'classifier' });
/** Short, so "nothing ready" answers quickly; calls to a live replica never need a retry. */
const RETRY_WINDOW_MS = 300;

const METHOD_BY_PATH = new Map(Object.entries(WRAPPER_ROUTES).map(([method, route]) => [`${route.verb} ${route.path}`, method as ComponentMethod]));

runTransportContract({
  name: 'HTTP',
  async newTransport(component: ContractComponent): Promise<ContractSubject> {
    // A Seldon wrapper around the component: the path names the method, the body is its payload.
    const server = await standIn((request, res) => {
      const method = METHOD_BY_PATH.get(`${request.method} ${request.path}`);
      if (method === undefined) return answerJson(res, 404, { status: { status: 'FAILURE', info: `no ${request.path}` } });
      const payload = request.body === '' ? undefined : parseJsonLossless(request.body);
      void component(method, payload).then((reply) => answerJson(res, reply.status, stringifyJson(reply.body)));
    });
    const endpoints = new StaticEndpoints();
    endpoints.set(unit.node, [server.replica()]);
    const transport = new HttpTransport({ endpoints, retryWindowMs: RETRY_WINDOW_MS });
    return {
      transport,
      unit,
      takeDown: () => endpoints.set(unit.node, []),
      close: async () => {
        await transport.close();
        await server.close();
      },
    };
  },
});

runTransportContract({
  name: 'in-process',
  newTransport(component: ContractComponent): Promise<ContractSubject> {
    let served = true;
    const local: LocalComponent = { handle: component };
    // Units not served in process go to the fallback, here an HTTP transport with no replicas.
    const fallback = new HttpTransport({ endpoints: new StaticEndpoints(), retryWindowMs: RETRY_WINDOW_MS });
    const transport = new InProcessTransport({ componentOf: (u) => (served && u === unit ? local : undefined) }, fallback);
    return Promise.resolve({
      transport,
      unit,
      takeDown: () => {
        served = false;
      },
      close: () => transport.close(),
    });
  },
});
