/**
 * `data.tftensor` end to end with Seldon's own client: seldon-core 1.18.2's SeldonClient, in the
 * python TRANTOR_SELDON_PYTHON names (.ci/run installs it), sends `trantor up`'s gateway a
 * TensorFlow TensorProto over REST and over gRPC, to the identity model as a Python class and as a
 * TypeScript class (also behind endpoint.type GRPC). Each answer must be a tftensor that Seldon's
 * protobuf reads, holding exactly the values sent, and the same numbers the same rows get as an
 * ndarray.
 *
 * That venv has no TensorFlow (SeldonClient's `payload_type="tftensor"` calls
 * `tf.make_tensor_proto`), so the probe builds the TensorProto as make_tensor_proto does (the
 * array's dtype, its little-endian bytes in tensor_content) with the tensor_pb2 stubs seldon_core
 * ships, and hands it to SeldonClient as the message (`raw_data=`): as a SeldonMessage for gRPC,
 * and in MessageToDict's JSON (what Seldon's REST helpers write) for REST. Replies are decoded with
 * numpy from the TensorProto fields, not with our own reader.
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
from google.protobuf import json_format
from seldon_core.proto import prediction_pb2
from seldon_core.proto.tensorflow.core.framework import tensor_pb2, tensor_shape_pb2, types_pb2
from seldon_core.seldon_client import SeldonClient

DTYPES = {np.dtype(np.float32): types_pb2.DT_FLOAT, np.dtype(np.float64): types_pb2.DT_DOUBLE, np.dtype(np.int64): types_pb2.DT_INT64}
FIELDS = {types_pb2.DT_FLOAT: "float_val", types_pb2.DT_DOUBLE: "double_val", types_pb2.DT_INT64: "int64_val"}

def tensor_proto(array):
    """What tf.make_tensor_proto gives for a numpy array of two or more numbers."""
    shape = tensor_shape_pb2.TensorShapeProto(dim=[tensor_shape_pb2.TensorShapeProto.Dim(size=d) for d in array.shape])
    return tensor_pb2.TensorProto(dtype=DTYPES[array.dtype], tensor_shape=shape, tensor_content=array.astype(array.dtype.newbyteorder("<")).tobytes())

def as_array(proto):
    """What tf.make_ndarray gives (no short *_val fields here)."""
    numpy_dtype = {v: k for k, v in DTYPES.items()}[proto.dtype]
    shape = [d.size for d in proto.tensor_shape.dim]
    if proto.tensor_content:
        values = np.frombuffer(proto.tensor_content, dtype=numpy_dtype.newbyteorder("<"))
    else:
        values = np.array(getattr(proto, FIELDS[proto.dtype]), dtype=numpy_dtype)
    return values.reshape(shape)

def texts(array):
    return [repr(v) for v in np.asarray(array).ravel().tolist()]

rows = np.array([[5.1, 3.5, 1.4, 0.2], [6.2, 3.4, 5.4, 2.3]], dtype=np.float32)
cases = {
    "float32": rows,
    "int64": np.array([[9007199254740993, -9223372036854775808], [9223372036854775807, 7]], dtype=np.int64),
}
endpoint = sys.argv[1]
out = {}
for deployment in sys.argv[2:]:
    for transport in ("rest", "grpc"):
        client = SeldonClient(deployment_name=deployment, namespace="default", gateway_endpoint=endpoint, gateway="ambassador", transport=transport, client_return_type="proto")
        for name, array in cases.items():
            message = prediction_pb2.SeldonMessage(data=prediction_pb2.DefaultData(names=["a", "b", "c", "d"][: array.shape[1]], tftensor=tensor_proto(array)))
            raw = message if transport == "grpc" else json_format.MessageToDict(message)
            r = client.predict(raw_data=raw)
            entry = {"success": r.success, "msg": r.msg, "sent": texts(array)}
            if r.response is not None:
                data = r.response.data
                entry["kind"] = data.WhichOneof("data_oneof")
                entry["names"] = list(data.names)
                if entry["kind"] == "tftensor":
                    entry["dtype"] = types_pb2.DataType.Name(data.tftensor.dtype)
                    entry["values"] = texts(as_array(data.tftensor))
                    entry["shape"] = list(as_array(data.tftensor).shape)
            if name == "float32":
                same = client.predict(payload_type="ndarray", data=rows.astype(np.float64), names=["a", "b", "c", "d"])
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
  const outcomes = JSON.parse(stdout) as Record<string, Outcome>;
  assert.equal(Object.keys(outcomes).length, DEPLOYMENTS.length * 2 * 2);
  for (const [label, outcome] of Object.entries(outcomes)) {
    const [deployment, , name] = label.split(' ');
    assert.equal(outcome.success, true, `${label}: ${outcome.msg}`);
    assert.equal(outcome.kind, 'tftensor', `${label}: answered ${outcome.kind ?? 'nothing Seldon could read'}`);
    assert.deepEqual(outcome.shape, [2, name === 'int64' ? 2 : 4], label);
    // Python keeps the array's dtype, as Seldon's wrapper does; a JavaScript number is a double.
    const dtype = name === 'int64' ? 'DT_INT64' : deployment === 'tf-python' ? 'DT_FLOAT' : 'DT_DOUBLE';
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
