/**
 * The Node host's gRPC server against Seldon's own client: seldon-core 1.18.2's
 * `SeldonClient(transport="grpc", microservice_endpoint=…).microservice(…)`, in the python
 * TRANTOR_SELDON_PYTHON names (.ci/run installs it), calls our server with every payload kind. Each
 * answer, decoded by Seldon (seldon_message_to_json), must be what our REST server answers for the
 * request Seldon sent; a method the class lacks must reach Seldon's client as UNIMPLEMENTED with our
 * message. Skipped, with the reason, when that python is absent outside CI; a failure in CI.
 */
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { test } from 'node:test';
import { promisify } from 'node:util';
import type { Features, SeldonComponent } from './contract.ts';
import { createDispatcher } from './dispatch.ts';
import { serveComponentGrpc } from './grpc-server.ts';
import { serveComponent } from './server.ts';

const SELDON_PYTHON = process.env['TRANTOR_SELDON_PYTHON'] ?? '';
const CI = (process.env['CI'] ?? '') !== '' && process.env['CI'] !== 'false';

/** Calls the endpoint in argv[1] once per case with Seldon's client; prints what each sent and got, as JSON. */
const PROBE = `
import json, sys
import numpy as np
from seldon_core.seldon_client import SeldonClient
from seldon_core.utils import seldon_message_to_json

client = SeldonClient(transport="grpc", microservice_endpoint=sys.argv[1])
cases = {
    "ndarray": dict(method="predict", payload_type="ndarray", data=np.array([[1.0, 2.5], [3.0, -4.0]]), names=["a", "b"]),
    "tensor": dict(method="predict", payload_type="tensor", data=np.array([[0.5, 1e300]])),
    "strData": dict(method="predict", str_data="hello, gRPC"),
    "jsonData": dict(method="predict", json_data={"k": [1, "two", None]}),
    "binData": dict(method="predict", bin_data=b"\\x00\\x01\\xfe"),
    "transform-input": dict(method="transform-input", payload_type="ndarray", data=np.array([[7.0]])),
    "route": dict(method="route", data=np.array([[1.0]])),
}
out = {}
for name, kwargs in cases.items():
    r = client.microservice(**kwargs)
    out[name] = {
        "success": r.success,
        "msg": r.msg,
        "request": None if r.request is None else seldon_message_to_json(r.request),
        "response": None if r.response is None else seldon_message_to_json(r.response),
    }
print(json.dumps(out))
`;

interface Outcome {
  success: boolean;
  msg: string;
  request: unknown;
  response: unknown;
}

class Echo implements SeldonComponent {
  predict(X: Features): Features {
    return X;
  }
}

const REST_PATHS: Record<string, string> = { 'transform-input': '/transform-input' };

test("Seldon's gRPC client gets from the Node host's gRPC server what REST answers", async (t) => {
  if (SELDON_PYTHON === '') {
    if (CI) assert.fail("Seldon's client is not installed: .ci/run installs it and sets TRANTOR_SELDON_PYTHON");
    t.skip("Seldon's client is not installed (set TRANTOR_SELDON_PYTHON to a python with seldon-core==1.18.2, or run .ci/run once)");
    return;
  }
  const model = new Echo();
  const rest = await serveComponent(model, { port: 0 });
  const grpc = await serveComponentGrpc(model, createDispatcher(model), { port: 0 });
  try {
    // Asynchronous: the servers answer from this same event loop.
    const { stdout } = await promisify(execFile)(SELDON_PYTHON, ['-c', PROBE, `127.0.0.1:${grpc.port}`], { encoding: 'utf8', timeout: 60_000 });
    const outcomes = JSON.parse(stdout) as Record<string, Outcome>;
    assert.deepEqual(Object.keys(outcomes).length, 7);
    for (const [name, outcome] of Object.entries(outcomes)) {
      if (name === 'route') {
        assert.equal(outcome.success, false);
        assert.match(outcome.msg, /StatusCode\.UNIMPLEMENTED/);
        assert.match(outcome.msg, /Echo has no route method/);
        continue;
      }
      assert.equal(outcome.success, true, `${name}: ${outcome.msg}`);
      const res = await fetch(`http://127.0.0.1:${rest.port}${REST_PATHS[name] ?? '/predict'}`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify(outcome.request),
      });
      assert.equal(res.status, 200, name);
      assert.deepEqual(outcome.response, await res.json(), name);
    }
  } finally {
    await Promise.all([rest.close(), grpc.close()]);
  }
});
