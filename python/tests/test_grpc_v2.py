"""The Open Inference Protocol over gRPC (inference.GRPCInferenceService) with a real grpcio
client, against a small V2 model that computes: each input doubled (BYTES reversed, BOOL negated)."""

import importlib.util
import os
import struct
import threading
import unittest

try:
    import grpc
except ImportError as missing:  # CI installs grpcio: there, fail
    if os.environ.get("CI") == "true":
        raise
    raise unittest.SkipTest("grpcio is needed for the gRPC tests (" + str(missing) + ")") from None
import numpy as np

from trantor_runtime.component import Component
from trantor_runtime.errors import MicroserviceError
from trantor_runtime.grpc_schema import schema
from trantor_runtime.grpc_server import GrpcHost, GrpcOptions

SCHEMA = schema()


def M(name):
    return SCHEMA.message("inference." + name)


class Doubler:
    """The V2 model interface of trantor_runtime.v2: name, versions, ready, metadata, infer."""

    name = "doubler"
    versions = ["1"]

    def __init__(self):
        self.seen = []

    def ready(self):
        return True

    def metadata(self):
        return {"name": self.name, "versions": self.versions, "platform": "tests",
                "inputs": [{"name": "x", "datatype": "FP32", "shape": [-1, 2]}],
                "outputs": [{"name": "x_doubled", "datatype": "FP32", "shape": [-1, 2]}]}

    def infer(self, request):
        self.seen.append(request)
        if (request.get("parameters") or {}).get("fail"):
            raise MicroserviceError("parameters.fail: asked to fail", 400)
        outputs = []
        for tensor in request["inputs"]:
            data = tensor["data"]
            if tensor["datatype"] == "BYTES":
                out = [value[::-1] for value in data]
            elif tensor["datatype"] == "BOOL":
                out = [not value for value in data]
            else:
                dtype = {"FP16": np.float16, "FP32": np.float32, "FP64": np.float64}.get(tensor["datatype"], object)
                out = (np.asarray(data, dtype=dtype) * 2).tolist() if dtype is not object else [v * 2 for v in data]
            outputs.append({"name": tensor["name"] + "_doubled", "datatype": tensor["datatype"], "shape": tensor["shape"], "data": out})
        reply = {"model_name": self.name, "model_version": "1", "outputs": outputs}
        if "id" in request:
            reply["id"] = request["id"]
        return reply


class V2Test(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.model = Doubler()
        cls.host = GrpcHost(Component(object()), GrpcOptions(0, 32 << 20, 2), v2_model=cls.model)
        port = cls.host.start("127.0.0.1")
        cls.channel = grpc.insecure_channel("127.0.0.1:%d" % port)

    @classmethod
    def tearDownClass(cls):
        cls.channel.close()
        cls.host.stop(0)

    def call(self, method, request, reply):
        stub = self.channel.unary_unary(
            "/inference.GRPCInferenceService/" + method,
            request_serializer=type(request).SerializeToString,
            response_deserializer=M(reply).FromString,
        )
        return stub(request, timeout=10)

    def infer(self, request):
        return self.call("ModelInfer", request, "ModelInferResponse")

    def failing(self, method, request, reply="ModelInferResponse"):
        with self.assertRaises(grpc.RpcError) as caught:
            self.call(method, request, reply)
        return caught.exception

    def test_health_and_server_metadata(self):
        self.assertTrue(self.call("ServerLive", M("ServerLiveRequest")(), "ServerLiveResponse").live)
        self.assertTrue(self.call("ServerReady", M("ServerReadyRequest")(), "ServerReadyResponse").ready)
        self.assertTrue(self.call("ModelReady", M("ModelReadyRequest")(name="doubler"), "ModelReadyResponse").ready)
        self.assertTrue(self.call("ModelReady", M("ModelReadyRequest")(name="doubler", version="1"), "ModelReadyResponse").ready)
        metadata = self.call("ServerMetadata", M("ServerMetadataRequest")(), "ServerMetadataResponse")
        self.assertTrue(metadata.name)

    def test_model_metadata_is_the_models(self):
        reply = self.call("ModelMetadata", M("ModelMetadataRequest")(name="doubler"), "ModelMetadataResponse")
        self.assertEqual((reply.name, list(reply.versions), reply.platform), ("doubler", ["1"], "tests"))
        self.assertEqual((reply.inputs[0].name, reply.inputs[0].datatype, list(reply.inputs[0].shape)), ("x", "FP32", [-1, 2]))

    def test_an_unknown_model_or_version_is_not_found_naming_it(self):
        error = self.failing("ModelReady", M("ModelReadyRequest")(name="iris"), "ModelReadyResponse")
        self.assertEqual(error.code(), grpc.StatusCode.NOT_FOUND)
        self.assertIn("'iris'", error.details())
        error = self.failing("ModelMetadata", M("ModelMetadataRequest")(name="doubler", version="7"), "ModelMetadataResponse")
        self.assertEqual(error.code(), grpc.StatusCode.NOT_FOUND)
        self.assertIn("'7'", error.details())

    def test_typed_fp32_contents_come_back_typed(self):
        request = M("ModelInferRequest")(model_name="doubler", id="req-1")
        tensor = request.inputs.add(name="x", datatype="FP32", shape=[2, 2])
        tensor.contents.fp32_contents.extend([1.5, 2.0, -3.0, 0.25])
        reply = self.infer(request)
        self.assertEqual(reply.id, "req-1")
        self.assertEqual(reply.model_name, "doubler")
        self.assertEqual(len(reply.raw_output_contents), 0)
        out = reply.outputs[0]
        self.assertEqual((out.name, out.datatype, list(out.shape)), ("x_doubled", "FP32", [2, 2]))
        self.assertEqual(list(out.contents.fp32_contents), [3.0, 4.0, -6.0, 0.5])
        self.assertEqual(self.model.seen[-1]["inputs"][0]["data"], [1.5, 2.0, -3.0, 0.25])

    def test_int64_stays_exact_both_ways(self):
        big = (1 << 61) + 1  # beyond a double's 53 bits; doubled it still fits INT64
        request = M("ModelInferRequest")(model_name="doubler")
        request.inputs.add(name="n", datatype="INT64", shape=[2]).contents.int64_contents.extend([big, -5])
        reply = self.infer(request)
        self.assertEqual(self.model.seen[-1]["inputs"][0]["data"], [big, -5])
        self.assertEqual(list(reply.outputs[0].contents.int64_contents), [2 * big, -10])

    def test_raw_contents_of_every_numeric_datatype_come_back_raw(self):
        for datatype, dtype in (("UINT8", "<u1"), ("UINT16", "<u2"), ("UINT32", "<u4"), ("UINT64", "<u8"), ("INT8", "<i1"),
                                ("INT16", "<i2"), ("INT32", "<i4"), ("INT64", "<i8"), ("FP16", "<f2"), ("FP32", "<f4"), ("FP64", "<f8")):
            with self.subTest(datatype=datatype):
                values = np.array([1, 2, 3, 60], dtype=dtype)
                request = M("ModelInferRequest")(model_name="doubler")
                request.inputs.add(name="x", datatype=datatype, shape=[2, 2])
                request.raw_input_contents.append(values.tobytes())
                reply = self.infer(request)
                self.assertEqual(len(reply.raw_output_contents), 1)
                self.assertEqual(np.frombuffer(reply.raw_output_contents[0], dtype=dtype).tolist(), (values * 2).tolist())
                self.assertEqual(self.model.seen[-1]["inputs"][0]["data"], values.tolist())

    def test_bytes_travel_typed_and_raw(self):
        request = M("ModelInferRequest")(model_name="doubler")
        request.inputs.add(name="s", datatype="BYTES", shape=[2]).contents.bytes_contents.extend([b"abc", b"\x00\xff"])
        reply = self.infer(request)
        self.assertEqual(list(reply.outputs[0].contents.bytes_contents), [b"cba", b"\xff\x00"])
        self.assertEqual(self.model.seen[-1]["inputs"][0]["data"], [b"abc", b"\x00\xff"])
        raw = M("ModelInferRequest")(model_name="doubler")
        raw.inputs.add(name="s", datatype="BYTES", shape=[2])
        raw.raw_input_contents.append(struct.pack("<I", 3) + b"abc" + struct.pack("<I", 0))
        reply = self.infer(raw)
        self.assertEqual(reply.raw_output_contents[0], struct.pack("<I", 3) + b"cba" + struct.pack("<I", 0))

    def test_an_answer_that_does_not_fit_its_datatype_is_internal_naming_the_output(self):
        request = M("ModelInferRequest")(model_name="doubler")
        request.inputs.add(name="n", datatype="INT64", shape=[1]).contents.int64_contents.append((1 << 62) + 1)
        error = self.failing("ModelInfer", request)
        self.assertEqual(error.code(), grpc.StatusCode.INTERNAL)
        self.assertIn("outputs[0].data: cannot be sent as INT64", error.details())

    def test_bool_contents(self):
        request = M("ModelInferRequest")(model_name="doubler")
        request.inputs.add(name="b", datatype="BOOL", shape=[3]).contents.bool_contents.extend([True, False, True])
        self.assertEqual(list(self.infer(request).outputs[0].contents.bool_contents), [False, True, False])

    def test_an_fp16_answer_to_a_typed_request_comes_raw(self):
        request = M("ModelInferRequest")(model_name="doubler")
        request.inputs.add(name="h", datatype="FP16", shape=[1])
        request.raw_input_contents.append(np.array([1.5], dtype="<f2").tobytes())
        request.inputs.add(name="f", datatype="FP32", shape=[1])
        request.raw_input_contents.append(np.array([1.5], dtype="<f4").tobytes())
        reply = self.infer(request)
        self.assertEqual(np.frombuffer(reply.raw_output_contents[0], dtype="<f2").tolist(), [3.0])
        self.assertEqual(np.frombuffer(reply.raw_output_contents[1], dtype="<f4").tolist(), [3.0])

    def test_parameters_reach_the_model_and_its_error_is_its_status(self):
        request = M("ModelInferRequest")(model_name="doubler")
        request.parameters["fail"].bool_param = True
        request.parameters["limit"].int64_param = (1 << 60) + 3
        request.inputs.add(name="x", datatype="FP32", shape=[1]).contents.fp32_contents.append(1.0)
        error = self.failing("ModelInfer", request)
        self.assertEqual(error.code(), grpc.StatusCode.INVALID_ARGUMENT)
        self.assertEqual(error.details(), "parameters.fail: asked to fail")
        self.assertEqual(self.model.seen[-1]["parameters"], {"fail": True, "limit": (1 << 60) + 3})

    def test_bad_tensors_are_invalid_argument_naming_the_field(self):
        cases = []
        short = M("ModelInferRequest")(model_name="doubler")
        short.inputs.add(name="x", datatype="FP32", shape=[2, 2]).contents.fp32_contents.extend([1.0, 2.0, 3.0])
        cases.append((short, "inputs[0].contents.fp32_contents: 4 values expected"))
        wrong_field = M("ModelInferRequest")(model_name="doubler")
        wrong_field.inputs.add(name="x", datatype="INT32", shape=[1]).contents.fp32_contents.append(1.0)
        cases.append((wrong_field, "inputs[0].contents.fp32_contents: a INT32 tensor's values go in inputs[0].contents.int_contents"))
        out_of_range = M("ModelInferRequest")(model_name="doubler")
        out_of_range.inputs.add(name="x", datatype="INT8", shape=[2]).contents.int_contents.extend([1, 300])
        cases.append((out_of_range, "inputs[0].contents.int_contents[1]: 300 is out of range for INT8"))
        raw_short = M("ModelInferRequest")(model_name="doubler")
        raw_short.inputs.add(name="x", datatype="FP32", shape=[2])
        raw_short.raw_input_contents.append(b"\x00" * 6)
        cases.append((raw_short, "raw_input_contents[0]: 2 FP32 values take 8 bytes, got 6"))
        raw_count = M("ModelInferRequest")(model_name="doubler")
        raw_count.inputs.add(name="x", datatype="FP32", shape=[1])
        raw_count.inputs.add(name="y", datatype="FP32", shape=[1])
        raw_count.raw_input_contents.append(b"\x00" * 4)
        cases.append((raw_count, "raw_input_contents: 1 entries for 2 inputs"))
        bad_bytes = M("ModelInferRequest")(model_name="doubler")
        bad_bytes.inputs.add(name="s", datatype="BYTES", shape=[1])
        bad_bytes.raw_input_contents.append(struct.pack("<I", 9) + b"abc")
        cases.append((bad_bytes, "raw_input_contents[0]: element 0 says 9 bytes, 3 remain"))
        fp16_typed = M("ModelInferRequest")(model_name="doubler")
        fp16_typed.inputs.add(name="h", datatype="FP16", shape=[0])
        cases.append((fp16_typed, "FP16 has no typed contents field"))
        unknown = M("ModelInferRequest")(model_name="doubler")
        unknown.inputs.add(name="x", datatype="FP8", shape=[1])
        cases.append((unknown, "inputs[0].datatype: 'FP8' is not one of"))
        for request, expected in cases:
            with self.subTest(expected=expected):
                error = self.failing("ModelInfer", request)
                self.assertEqual(error.code(), grpc.StatusCode.INVALID_ARGUMENT)
                self.assertIn(expected, error.details())

    def test_infer_on_another_model_is_not_found(self):
        request = M("ModelInferRequest")(model_name="iris")
        self.assertEqual(self.failing("ModelInfer", request).code(), grpc.StatusCode.NOT_FOUND)


HAS_V2 = importlib.util.find_spec("trantor_runtime.v2") is not None


@unittest.skipUnless(HAS_V2, "this host has no trantor_runtime.v2 yet")
class HostV2Test(unittest.TestCase):
    """The real host serving iris (SKLEARN_SERVER): gRPC answers equal the V2 REST answers."""

    @classmethod
    def setUpClass(cls):
        import json

        from tests.support import REPO_DIR, Server, free_port

        parameters = json.dumps([{"name": "model_uri", "value": os.path.join(REPO_DIR, "examples", "iris", "model"), "type": "STRING"}])
        cls.grpc_port = free_port()
        cls.server = Server("trantor_runtime.servers.sklearn.SKLearnServer", args=("--grpc-port", str(cls.grpc_port)),
                            env={"PREDICTIVE_UNIT_PARAMETERS": parameters, "PREDICTIVE_UNIT_ID": "iris"})
        cls.channel = grpc.insecure_channel("127.0.0.1:%d" % cls.grpc_port)

    @classmethod
    def tearDownClass(cls):
        cls.channel.close()
        cls.server.stop()

    def call(self, method, request, reply):
        return self.channel.unary_unary("/inference.GRPCInferenceService/" + method, request_serializer=type(request).SerializeToString,
                                        response_deserializer=M(reply).FromString)(request, timeout=10)

    def rest(self, method, path, body=None):
        import json

        status, _, data = self.server.request(method, path, body)
        return status, json.loads(data)

    @staticmethod
    def outputs(reply):
        out = []
        for index, tensor in enumerate(reply.outputs):
            if reply.raw_output_contents:
                data = np.frombuffer(reply.raw_output_contents[index], dtype=DTYPES[tensor.datatype]).tolist()
            else:
                data = list(getattr(tensor.contents, CONTENTS[tensor.datatype]))
            out.append({"name": tensor.name, "datatype": tensor.datatype, "shape": list(tensor.shape), "data": data})
        return out

    @staticmethod
    def rest_outputs(body):
        return [{k: o[k] for k in ("name", "datatype", "shape", "data")} for o in body["outputs"]]

    def test_infer_with_typed_fp32_equals_rest(self):
        rows = [5.1, 3.5, 1.4, 0.2, 6.2, 3.4, 5.4, 2.3]
        request = M("ModelInferRequest")(model_name="iris", id="r-1")
        request.inputs.add(name="input-0", datatype="FP32", shape=[2, 4]).contents.fp32_contents.extend(rows)
        reply = self.call("ModelInfer", request, "ModelInferResponse")
        status, body = self.rest("POST", "/v2/models/iris/infer",
                                 {"id": "r-1", "inputs": [{"name": "input-0", "datatype": "FP32", "shape": [2, 4], "data": rows}]})
        self.assertEqual(status, 200, body)
        self.assertEqual((reply.model_name, reply.id), (body["model_name"], body["id"]))
        self.assertEqual(self.outputs(reply), self.rest_outputs(body))

    def test_infer_with_raw_contents_and_a_requested_output_equals_rest(self):
        row = np.array([6.2, 3.4, 5.4, 2.3], dtype="<f4")
        request = M("ModelInferRequest")(model_name="iris")
        request.inputs.add(name="input-0", datatype="FP32", shape=[1, 4])
        request.outputs.add(name="predict_proba")
        request.raw_input_contents.append(row.tobytes())
        reply = self.call("ModelInfer", request, "ModelInferResponse")
        self.assertEqual(len(reply.raw_output_contents), len(reply.outputs))
        status, body = self.rest("POST", "/v2/models/iris/infer", {
            "inputs": [{"name": "input-0", "datatype": "FP32", "shape": [1, 4], "data": row.tolist()}], "outputs": [{"name": "predict_proba"}]})
        self.assertEqual(status, 200, body)
        self.assertEqual(self.outputs(reply), self.rest_outputs(body))

    def test_metadata_and_readiness_equal_rest(self):
        reply = self.call("ModelMetadata", M("ModelMetadataRequest")(name="iris"), "ModelMetadataResponse")
        status, body = self.rest("GET", "/v2/models/iris")
        self.assertEqual(status, 200, body)
        self.assertEqual((reply.name, list(reply.versions), reply.platform), (body["name"], body.get("versions", []), body.get("platform", "")))
        self.assertEqual([t.name for t in reply.inputs], [t["name"] for t in body.get("inputs", [])])
        server = self.call("ServerMetadata", M("ServerMetadataRequest")(), "ServerMetadataResponse")
        status, body = self.rest("GET", "/v2")
        self.assertEqual((server.name, server.version, list(server.extensions)), (body["name"], body["version"], body["extensions"]))
        self.assertTrue(self.call("ModelReady", M("ModelReadyRequest")(name="iris"), "ModelReadyResponse").ready)

    def test_a_bad_shape_is_invalid_argument_with_rests_message(self):
        request = M("ModelInferRequest")(model_name="iris")
        request.inputs.add(name="input-0", datatype="FP32", shape=[1, 3]).contents.fp32_contents.extend([1.0, 2.0, 3.0])
        with self.assertRaises(grpc.RpcError) as caught:
            self.call("ModelInfer", request, "ModelInferResponse")
        status, body = self.rest("POST", "/v2/models/iris/infer",
                                 {"inputs": [{"name": "input-0", "datatype": "FP32", "shape": [1, 3], "data": [1.0, 2.0, 3.0]}]})
        self.assertEqual(status, 400)
        self.assertEqual(caught.exception.code(), grpc.StatusCode.INVALID_ARGUMENT)
        self.assertEqual(caught.exception.details(), body["error"])


DTYPES = {"INT64": "<i8", "FP32": "<f4", "FP64": "<f8", "INT32": "<i4"}
CONTENTS = {"INT64": "int64_contents", "FP32": "fp32_contents", "FP64": "fp64_contents", "INT32": "int_contents", "BYTES": "bytes_contents"}


class WithoutV2ModelTest(unittest.TestCase):
    @unittest.skipIf(HAS_V2, "this host has trantor_runtime.v2")
    def test_infer_is_unimplemented_saying_v2_is_not_available(self):
        host = GrpcHost(Component(object()), GrpcOptions(0, 1 << 20, 1), lock=threading.Lock())
        port = host.start("127.0.0.1")
        try:
            with grpc.insecure_channel("127.0.0.1:%d" % port) as channel:
                stub = channel.unary_unary("/inference.GRPCInferenceService/ModelInfer",
                                           request_serializer=M("ModelInferRequest").SerializeToString,
                                           response_deserializer=M("ModelInferResponse").FromString)
                with self.assertRaises(grpc.RpcError) as caught:
                    stub(M("ModelInferRequest")(model_name="x"), timeout=10)
            self.assertEqual(caught.exception.code(), grpc.StatusCode.UNIMPLEMENTED)
            self.assertIn("V2", caught.exception.details())
        finally:
            host.stop(0)


if __name__ == "__main__":
    unittest.main()
