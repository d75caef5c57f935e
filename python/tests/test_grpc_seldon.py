"""Seldon Core 1.18.2's own client, ``SeldonClient(transport="grpc", microservice_endpoint=…)``,
straight at this host serving a real model class: predict with every payload kind (ndarray,
tensor, tftensor, strData, binData, jsonData) and send_feedback, over Seldon's own generated
stubs and protobuf classes. Each answer must equal what this host's REST path answers for the
same message. The client runs in Seldon's virtualenv (TRANTOR_SELDON_PYTHON in CI, which fails
when it is missing; skipped with the reason elsewhere)."""

import base64
import json
import os
import subprocess
import unittest

from tests.support import Server, free_port

IN_CI = os.environ.get("CI") == "true"
SELDON_PYTHON = os.environ.get("TRANTOR_SELDON_PYTHON") or os.path.expanduser("~/.cache/trantor-ci/seldon-venv/bin/python")

# Runs under Seldon's python: argv[1] is the endpoint; prints one JSON object per call.
CLIENT = r'''
import json, sys
import numpy as np
from google.protobuf import json_format
from seldon_core.seldon_client import SeldonClient
from seldon_core.proto import prediction_pb2, prediction_pb2_grpc
from seldon_core.proto.tensorflow.core.framework import tensor_pb2, tensor_shape_pb2, types_pb2
import grpc

endpoint = sys.argv[1]
sc = SeldonClient(transport="grpc", microservice_endpoint=endpoint)

def out(name, result):
    response = result.response
    print(json.dumps({
        "name": name,
        "success": result.success,
        "msg": result.msg,
        "request": json_format.MessageToDict(result.request) if result.request is not None else None,
        "response": json_format.MessageToDict(response) if response is not None else None,
    }), flush=True)

ndarray = sc.microservice(method="predict", payload_type="ndarray", data=np.array([[1.5, 2.0], [3.0, -4.25]]), names=["a", "b"])
out("ndarray", ndarray)
out("tensor", sc.microservice(method="predict", payload_type="tensor", data=np.array([[1.5, 2.0, 3.0]])))
out("strData", sc.microservice(method="predict", str_data="hello seldon"))
out("binData", sc.microservice(method="predict", bin_data=bytes([0, 1, 2, 250, 255])))
out("jsonData", sc.microservice(method="predict", json_data={"a": [1, 2], "b": "text"}))
out("feedback", sc.microservice_feedback(prediction_request=ndarray.request, prediction_response=ndarray.response, reward=0.5))

# The client makes a tftensor with tensorflow itself; here Seldon's own TensorProto stubs make it.
tftensor = tensor_pb2.TensorProto(
    dtype=types_pb2.DT_FLOAT,
    tensor_shape=tensor_shape_pb2.TensorShapeProto(dim=[tensor_shape_pb2.TensorShapeProto.Dim(size=2)]),
    float_val=[0.5, 1.5],
)
request = prediction_pb2.SeldonMessage(data=prediction_pb2.DefaultData(tftensor=tftensor))
with grpc.insecure_channel(endpoint) as channel:
    try:
        reply = prediction_pb2_grpc.ModelStub(channel).Predict(request)
        print(json.dumps({"name": "tftensor", "success": True, "request": json_format.MessageToDict(request),
                          "response": json_format.MessageToDict(reply)}), flush=True)
    except grpc.RpcError as exc:
        print(json.dumps({"name": "tftensor", "success": False, "request": json_format.MessageToDict(request),
                          "code": exc.code().name, "msg": exc.details()}), flush=True)
'''


class SeldonClientTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        if not os.path.exists(SELDON_PYTHON):
            if IN_CI:
                raise AssertionError("Seldon's python is missing at " + SELDON_PYTHON + " (TRANTOR_SELDON_PYTHON); .ci/run installs it")
            raise unittest.SkipTest("Seldon Core's virtualenv is not installed (" + SELDON_PYTHON + "); .ci/run makes it")
        cls.server = Server("contract_models.Echo", args=("--grpc-port", str(free_port())))
        port = cls.server.command[cls.server.command.index("--grpc-port") + 1]
        env = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}
        result = subprocess.run([SELDON_PYTHON, "-c", CLIENT, "127.0.0.1:" + port], stdout=subprocess.PIPE,
                                stderr=subprocess.PIPE, text=True, timeout=120, env=env)
        if result.returncode != 0:
            cls.server.stop()
            raise AssertionError("Seldon's client failed:\n" + result.stderr)
        cls.answers = {answer["name"]: answer for answer in map(json.loads, result.stdout.splitlines())}

    @classmethod
    def tearDownClass(cls):
        cls.server.stop()

    def rest(self, path, value):
        return self.server.post_json(path, value)

    def assert_as_rest(self, name):
        answer = self.answers[name]
        self.assertTrue(answer["success"], answer.get("msg"))
        status, body = self.rest("/predict", answer["request"])
        self.assertEqual(status, 200, body)
        self.assertEqual(answer["response"], body)
        return answer["response"]

    def test_ndarray(self):
        reply = self.assert_as_rest("ndarray")
        # Names are the class's class_names or t:0…, as Seldon's wrapper names a reply's columns.
        self.assertEqual(reply["data"], {"names": ["t:0", "t:1"], "ndarray": [[1.5, 2.0], [3.0, -4.25]]})

    def test_tensor(self):
        reply = self.assert_as_rest("tensor")
        self.assertEqual(reply["data"]["tensor"], {"shape": [1, 3], "values": [1.5, 2.0, 3.0]})

    def test_str_data(self):
        self.assertEqual(self.assert_as_rest("strData")["strData"], "HELLO SELDON")

    def test_bin_data(self):
        self.assertEqual(base64.b64decode(self.assert_as_rest("binData")["binData"]), bytes([255, 250, 2, 1, 0]))

    def test_json_data(self):
        self.assertEqual(self.assert_as_rest("jsonData")["jsonData"]["echo"], {"a": [1.0, 2.0], "b": "text"})

    def test_feedback(self):
        answer = self.answers["feedback"]
        self.assertTrue(answer["success"], answer.get("msg"))
        status, body = self.rest("/send-feedback", {**answer["request"]})
        self.assertEqual(status, 200, body)
        self.assertEqual(answer["response"], body)

    def test_tftensor_answers_as_rest_does(self):
        answer = self.answers["tftensor"]
        self.assertTrue(answer["success"], answer.get("msg"))
        status, body = self.rest("/predict", answer["request"])
        self.assertEqual(status, 200, body)
        # protobuf carries no empty list: REST's `names: []` has no gRPC form.
        self.assertEqual(body["data"].pop("names"), [])
        self.assertEqual(answer["response"], body)
        self.assertEqual(answer["response"]["data"]["tftensor"]["dtype"], "DT_FLOAT")


if __name__ == "__main__":
    unittest.main()
