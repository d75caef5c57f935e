/**
 * Seldon's own client through `trantor up`'s gateway over gRPC: seldon-core 1.18.2's
 * `SeldonClient(transport="grpc", gateway="ambassador" | "istio", gateway_endpoint=<the gateway's
 * host:port>)`, in the python TRANTOR_SELDON_PYTHON names (.ci/run installs it), predicts with
 * every payload kind (ndarray, tensor, tftensor, strData, binData, jsonData) and sends feedback to
 * the MLScore identity model (a Python component). The gRPC and REST answers share the gateway's
 * one port, as behind Seldon's ingress. Each answer, decoded by Seldon (`seldon_message_to_json`),
 * must be the REST answer for the request Seldon sent, but for its puid. Skipped, with the reason,
 * when that python is absent outside CI; a failure in CI. gRPC's own reflection client, in the same
 * python, learns the gateway's schema and calls Predict with messages built from it alone.
 */
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { promisify } from 'node:util';
import { ROOT, Trantor, postJson } from './harness.ts';

const SELDON_PYTHON = process.env['TRANTOR_SELDON_PYTHON'] ?? '';
const CI = (process.env['CI'] ?? '') !== '' && process.env['CI'] !== 'false';
const ML_SCORE = join(ROOT, 'examples', 'ml-score', 'ml-score.yaml');
const NAME = 'test-ml-seldon-app';

/** argv: endpoint, gateway kind, deployment, namespace. Prints each case's request, answer and feedback answer as JSON. */
const PROBE = `
import json, sys
import numpy as np
from seldon_core.seldon_client import SeldonClient
from seldon_core.utils import seldon_message_to_json

endpoint, gateway, deployment, namespace = sys.argv[1:5]
client = SeldonClient(deployment_name=deployment, namespace=namespace, gateway_endpoint=endpoint, gateway=gateway, transport="grpc", client_return_type="proto")
tftensor = {"dtype": "DT_FLOAT", "tensorShape": {"dim": [{"size": "2"}, {"size": "2"}]}, "floatVal": [1.5, 2.0, -3.25, 4.0]}
cases = {
    "ndarray": dict(payload_type="ndarray", data=np.array([[1.0, 2.5], [3.0, -4.0]]), names=["a", "b"]),
    "tensor": dict(payload_type="tensor", data=np.array([[0.5, 1e300]])),
    "tftensor": dict(raw_data={"data": {"names": ["x", "y"], "tftensor": tftensor}}),
    "strData": dict(str_data="hello, gRPC"),
    "binData": dict(bin_data=b"\\x00\\x01\\xfe"),
    "jsonData": dict(json_data={"k": [1, "two", None]}),
}
out = {}
for name, kwargs in cases.items():
    r = client.predict(**kwargs)
    entry = {
        "success": r.success,
        "msg": r.msg,
        "request": None if r.request is None else seldon_message_to_json(r.request),
        "response": None if r.response is None else seldon_message_to_json(r.response),
    }
    if r.success:
        f = client.feedback(prediction_request=r.request, prediction_response=r.response, reward=1.0)
        entry["feedback"] = {"success": f.success, "msg": f.msg, "response": None if f.response is None else seldon_message_to_json(f.response)}
    out[name] = entry
missing = SeldonClient(deployment_name="nobody", namespace=namespace, gateway_endpoint=endpoint, gateway=gateway, transport="grpc").predict(str_data="x")
out["missing"] = {"success": missing.success, "msg": missing.msg}
print(json.dumps(out))
`;

/**
 * argv: endpoint, deployment, namespace. gRPC's own Python reflection client (grpcio-reflection,
 * as grpcurl works) learns the schema from the gateway, then predicts with messages built from it.
 */
const REFLECTION_PROBE = `
import json, sys
import grpc
from google.protobuf import descriptor_pool, json_format
try:
    from google.protobuf.message_factory import GetMessageClass
except ImportError:
    from google.protobuf import message_factory
    _f = message_factory.MessageFactory()
    GetMessageClass = _f.GetPrototype
from grpc_reflection.v1alpha.proto_reflection_descriptor_database import ProtoReflectionDescriptorDatabase

endpoint, deployment, namespace = sys.argv[1:4]
channel = grpc.insecure_channel(endpoint)
db = ProtoReflectionDescriptorDatabase(channel)
services = sorted(db.get_services())
pool = descriptor_pool.DescriptorPool(db)
seldon = pool.FindServiceByName("seldon.protos.Seldon")
predict = seldon.FindMethodByName("Predict")
Request = GetMessageClass(predict.input_type)
Response = GetMessageClass(predict.output_type)
request = json_format.ParseDict({"data": {"ndarray": [[1.0, 2.0]]}}, Request())
call = channel.unary_unary("/seldon.protos.Seldon/Predict", request_serializer=Request.SerializeToString, response_deserializer=Response.FromString)
answer = call(request, metadata=[("seldon", deployment), ("namespace", namespace)])
v2 = pool.FindServiceByName("inference.GRPCInferenceService")
print(json.dumps({
    "services": services,
    "seldonMethods": [m.name for m in seldon.methods],
    "v2Methods": [m.name for m in v2.methods],
    "answer": json.loads(json_format.MessageToJson(answer)),
}))
`;

interface Outcome {
  success: boolean;
  msg: string;
  request?: unknown;
  response?: { meta?: { puid?: string } } & Record<string, unknown>;
  feedback?: { success: boolean; msg: string; response: unknown };
}

const trantor = new Trantor();

before(async () => {
  if (SELDON_PYTHON === '') return;
  await trantor.up();
  trantor.applyAndWait(ML_SCORE);
});
after(() => trantor.close());

/**
 * An answer as protobuf can carry it, without its puid (which differs from call to call): an
 * empty repeated or map field (`metrics: []`, `tags: {}`, `tensor.values: []`) is not on the
 * wire, so it is not compared.
 */
function comparable(message: unknown): unknown {
  const prune = (value: unknown): unknown => {
    if (Array.isArray(value)) return value.map(prune);
    if (typeof value !== 'object' || value === null) return value;
    const kept: Record<string, unknown> = {};
    for (const [key, field] of Object.entries(value as Record<string, unknown>)) {
      const isEmpty = typeof field === 'object' && field !== null && Object.keys(field).length === 0;
      if (!isEmpty) kept[key] = prune(field);
    }
    return kept;
  };
  const copy = prune(message) as { meta?: Record<string, unknown> };
  if (copy.meta !== undefined) delete copy.meta['puid'];
  return copy;
}

for (const gateway of ['ambassador', 'istio']) {
  test(`SeldonClient(transport="grpc", gateway="${gateway}") at the gateway's port gets what REST answers`, { timeout: 120_000 }, async (t) => {
    if (SELDON_PYTHON === '') {
      if (CI) assert.fail("Seldon's client is not installed: .ci/run installs it and sets TRANTOR_SELDON_PYTHON");
      t.skip("Seldon's client is not installed (set TRANTOR_SELDON_PYTHON to a python with seldon-core==1.18.2, or run .ci/run once)");
      return;
    }
    const endpoint = new URL(trantor.gateway).host;
    const { stdout } = await promisify(execFile)(SELDON_PYTHON, ['-c', PROBE, endpoint, gateway, NAME, NAME], { encoding: 'utf8', timeout: 90_000 });
    const outcomes = JSON.parse(stdout) as Record<string, Outcome>;
    assert.deepEqual(Object.keys(outcomes), ['ndarray', 'tensor', 'tftensor', 'strData', 'binData', 'jsonData', 'missing']);
    for (const [name, outcome] of Object.entries(outcomes)) {
      if (name === 'missing') {
        assert.equal(outcome.success, false);
        assert.match(outcome.msg, /StatusCode\.NOT_FOUND/);
        assert.match(outcome.msg, new RegExp(`no SeldonDeployment named "nobody" in namespace "${NAME}"`));
        continue;
      }
      const rest = await postJson(trantor.url(NAME, NAME), outcome.request);
      assert.equal(rest.status, 200, `${name}: REST answered ${JSON.stringify(rest.body)}`);
      assert.equal(outcome.success, true, `${name}: ${outcome.msg}`);
      assert.match(outcome.response?.meta?.puid ?? '', /^\S+$/, `${name}: a puid`);
      assert.deepEqual(comparable(outcome.response), comparable(rest.body), name);
      assert.equal(outcome.feedback?.success, true, `${name} feedback: ${outcome.feedback?.msg}`);
      const restFeedback = await postJson(trantor.url(NAME, NAME, 'api/v1.0/feedback'), { request: outcome.request, response: outcome.response, reward: 1 });
      assert.equal(restFeedback.status, 200, `${name} feedback: ${JSON.stringify(restFeedback.body)}`);
      assert.deepEqual(comparable(outcome.feedback?.response), comparable(restFeedback.body), `${name} feedback: ${JSON.stringify(outcome.feedback?.response)} vs ${JSON.stringify(restFeedback.body)}`);
    }
  });
}

test("gRPC's Python reflection client learns the gateway's services and predicts from what it learnt", { timeout: 60_000 }, async (t) => {
  if (SELDON_PYTHON === '') {
    if (CI) assert.fail("Seldon's client is not installed: .ci/run installs it and sets TRANTOR_SELDON_PYTHON");
    t.skip("Seldon's client is not installed (set TRANTOR_SELDON_PYTHON to a python with seldon-core==1.18.2, or run .ci/run once)");
    return;
  }
  const endpoint = new URL(trantor.gateway).host;
  const { stdout } = await promisify(execFile)(SELDON_PYTHON, ['-c', REFLECTION_PROBE, endpoint, NAME, NAME], { encoding: 'utf8', timeout: 50_000 });
  const found = JSON.parse(stdout) as { services: string[]; seldonMethods: string[]; v2Methods: string[]; answer: unknown };
  for (const name of ['seldon.protos.Seldon', 'inference.GRPCInferenceService', 'grpc.health.v1.Health', 'grpc.reflection.v1alpha.ServerReflection']) assert.ok(found.services.includes(name), `${name} in ${found.services.join(', ')}`);
  assert.deepEqual(found.seldonMethods, ['Predict', 'SendFeedback', 'ModelMetadata', 'GraphMetadata']);
  assert.deepEqual(found.v2Methods, ['ServerLive', 'ServerReady', 'ModelReady', 'ServerMetadata', 'ModelMetadata', 'ModelInfer']);
  const rest = await postJson(trantor.url(NAME, NAME), { data: { ndarray: [[1.0, 2.0]] } });
  assert.deepEqual(comparable(found.answer), comparable(rest.body));
});
