/**
 * `data.tftensor` end to end with Seldon's own client: seldon-core 1.18.2's SeldonClient, with
 * TensorFlow, in the python TRANTOR_SELDON_PYTHON names (.ci/run installs both), sends `trantor
 * up`'s gateway `payload_type="tftensor"` (a TensorProto from `tf.make_tensor_proto`) over REST and
 * over gRPC, to the identity model as a Python class and as a TypeScript class (also behind
 * endpoint.type GRPC). Each answer must be a tftensor that Seldon's protobuf reads and
 * `tf.make_ndarray` turns into exactly the values sent, and the same numbers the same rows get as
 * an ndarray. Over REST a TensorProto in the proto's own field names (`tensor_shape`,
 * `tensor_content`, as `MessageToDict(preserving_proto_field_name=True)` writes) works too.
 */
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { promisify } from 'node:util';
import { Trantor } from './harness.ts';

const SELDON_PYTHON = process.env['TRANTOR_SELDON_PYTHON'] ?? '';
const CI = (process.env['CI'] ?? '') !== '' && process.env['CI'] !== 'false';
const FIXTURES = join(import.meta.dirname, 'fixtures', 'tftensor');
const DEPLOYMENTS = ['tf-python', 'tf-ts', 'tf-ts-grpc'];

/** argv: endpoint, then deployment names. Prints, per deployment, transport and case, what came back. */
const PROBE = `
import json, sys
import numpy as np
try:
    import tensorflow as tf
except ImportError:
    print(json.dumps({"missing": "tensorflow"}))
    sys.exit(0)
from google.protobuf import json_format
from seldon_core.seldon_client import SeldonClient

def texts(array):
    return [repr(v) for v in np.asarray(array).ravel().tolist()]

rows = np.array([[5.1, 3.5, 1.4, 0.2], [6.2, 3.4, 5.4, 2.3]], dtype=np.float32)
cases = {
    "float32": rows,
    "int64": np.array([[9007199254740993, -9223372036854775808], [9223372036854775807, 7]], dtype=np.int64),
    "snake_case": rows.astype(np.float64),
}
endpoint = sys.argv[1]
out = {}
for deployment in sys.argv[2:]:
    for transport in ("rest", "grpc"):
        client = SeldonClient(deployment_name=deployment, namespace="default", gateway_endpoint=endpoint, gateway="ambassador", transport=transport, client_return_type="proto")
        for name, array in cases.items():
            names = ["a", "b", "c", "d"][: array.shape[1]]
            if name == "snake_case":
                if transport == "grpc":
                    continue
                tensor = json_format.MessageToDict(tf.make_tensor_proto(array), preserving_proto_field_name=True)
                r = client.predict(raw_data={"data": {"names": names, "tftensor": tensor}})
            else:
                r = client.predict(payload_type="tftensor", data=array, names=names)
            entry = {"success": r.success, "msg": r.msg, "sent": texts(array)}
            if r.response is not None:
                data = r.response.data
                entry["kind"] = data.WhichOneof("data_oneof")
                entry["names"] = list(data.names)
                if entry["kind"] == "tftensor":
                    answer = tf.make_ndarray(data.tftensor)
                    entry.update(dtype=str(answer.dtype), shape=list(answer.shape), values=texts(answer))
            if name == "float32":
                same = client.predict(payload_type="ndarray", data=rows.astype(np.float64), names=names)
                entry["ndarray"] = {"success": same.success, "msg": same.msg, "values": None if same.response is None else texts(json_format.MessageToDict(same.response)["data"]["ndarray"])}
            out["%s %s %s" % (deployment, transport, name)] = entry
print(json.dumps(out))
`;

interface Outcome {
  success: boolean;
  msg: string;
  sent: string[];
  kind?: string;
  names?: string[];
  dtype?: string;
  shape?: number[];
  values?: string[];
  ndarray?: { success: boolean; msg: string; values: string[] | null };
}

const trantor = new Trantor();

before(async () => {
  if (SELDON_PYTHON === '') return;
  await trantor.up();
  trantor.applyAndWait(join(FIXTURES, 'deployments.yaml'));
});
after(() => trantor.close());

test("SeldonClient's tftensor over REST and gRPC comes back a tftensor of the values sent, from a Python and a TypeScript model", { timeout: 120_000 }, async (t) => {
  if (SELDON_PYTHON === '') {
    if (CI) assert.fail("Seldon's client is not installed: .ci/run installs it and sets TRANTOR_SELDON_PYTHON");
    t.skip("Seldon's client is not installed (set TRANTOR_SELDON_PYTHON to a python with seldon-core==1.18.2, or run .ci/run once)");
    return;
  }
  const endpoint = new URL(trantor.gateway).host;
  const { stdout } = await promisify(execFile)(SELDON_PYTHON, ['-c', PROBE, endpoint, ...DEPLOYMENTS], { encoding: 'utf8', timeout: 90_000 });
  const outcomes = JSON.parse(stdout) as Record<string, Outcome> & { missing?: string };
  if (outcomes.missing !== undefined) {
    if (CI) assert.fail(`${SELDON_PYTHON} has no TensorFlow: .ci/run installs tensorflow-cpu beside seldon-core`);
    t.skip(`${SELDON_PYTHON} has no TensorFlow (run .ci/run once, or pip install the tensorflow-cpu it pins)`);
    return;
  }
  assert.equal(Object.keys(outcomes).length, DEPLOYMENTS.length * 5);
  for (const [label, outcome] of Object.entries(outcomes) as [string, Outcome][]) {
    const [deployment, , name] = label.split(' ');
    assert.equal(outcome.success, true, `${label}: ${outcome.msg}`);
    assert.equal(outcome.kind, 'tftensor', `${label}: answered ${outcome.kind ?? 'nothing Seldon could read'}`);
    assert.deepEqual(outcome.shape, [2, name === 'int64' ? 2 : 4], label);
    // Python keeps the array's dtype, as Seldon's wrapper does; a JavaScript number is a double.
    const dtype = name === 'int64' ? 'int64' : deployment === 'tf-python' && name === 'float32' ? 'float32' : 'float64';
    assert.equal(outcome.dtype, dtype, label);
    // Every value exactly as sent (a float32 widened to a double is the same number).
    assert.deepEqual(outcome.values, outcome.sent, label);
    if (outcome.ndarray !== undefined) {
      assert.equal(outcome.ndarray.success, true, `${label} as ndarray: ${outcome.ndarray.msg}`);
      assert.deepEqual(outcome.values, outcome.ndarray.values, `${label}: the tftensor's numbers are the ndarray's`);
      assert.deepEqual(outcome.names, ['t:0', 't:1', 't:2', 't:3'], label);
    }
  }
});
