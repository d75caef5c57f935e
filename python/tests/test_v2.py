"""The Open Inference Protocol (V2) over REST, with real HTTP requests to the real host."""

import json
import os
import shutil
import struct
import tempfile
import unittest

import joblib
import numpy as np
from sklearn.datasets import load_iris
from sklearn.linear_model import LogisticRegression

from .support import FIXTURES, Server

SKLEARN = "trantor_runtime.servers.sklearn.SKLearnServer"
ROW = [5.1, 3.5, 1.4, 0.2]


def tensor(datatype, shape, data, name="x", **parameters):
    value = {"name": name, "datatype": datatype, "shape": shape, "data": data}
    if parameters:
        value["parameters"] = parameters
    return value


def binary_body(header, *raws):
    """(body, headers) of a request whose JSON header is followed by raw tensors."""
    text = json.dumps(header).encode("utf-8")
    return text + b"".join(raws), {"Inference-Header-Content-Length": str(len(text)), "Content-Type": "application/octet-stream"}


def split_binary(headers, body):
    """(JSON header, the bytes after it) of a binary answer."""
    length = int(headers["inference-header-content-length"])
    return json.loads(body[:length]), body[length:]


def bytes_raw(*items):
    return b"".join(struct.pack("<I", len(x)) + x for x in items)


class SklearnV2Test(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.folder = tempfile.mkdtemp(prefix="trantor-v2-")
        X, y = load_iris(return_X_y=True)
        cls.model = LogisticRegression(max_iter=1000, random_state=0).fit(X, y)
        joblib.dump(cls.model, os.path.join(cls.folder, "model.joblib"))
        parameters = json.dumps([{"name": "model_uri", "value": cls.folder, "type": "STRING"}])
        cls.server = Server(SKLEARN, cwd=cls.folder, env={"PREDICTIVE_UNIT_PARAMETERS": parameters, "PREDICTIVE_UNIT_ID": "iris"})

    @classmethod
    def tearDownClass(cls):
        cls.server.stop()
        shutil.rmtree(cls.folder, ignore_errors=True)

    def infer(self, value, path="/v2/models/iris/infer"):
        status, _, body = self.server.request("POST", path, value)
        return status, json.loads(body)

    def test_server_metadata_and_health(self):
        status, headers, body = self.server.request("GET", "/v2")
        self.assertEqual((status, json.loads(body)), (200, {"name": "trantor", "version": "0.1.0", "extensions": ["binary_tensor_data"]}))
        for path in ("/v2/health/live", "/v2/health/ready", "/v2/models/iris/ready", "/v2/health/live/"):
            status, _, body = self.server.request("GET", path)
            self.assertEqual((path, status, body), (path, 200, b""))

    def test_model_metadata_is_mlserver_s(self):
        status, _, body = self.server.request("GET", "/v2/models/iris")
        self.assertEqual(status, 200)
        self.assertEqual(json.loads(body), {"name": "iris", "versions": [], "platform": "", "inputs": [], "outputs": [], "parameters": {}})

    def test_unknown_model_or_version_is_404_naming_it(self):
        for method, path in (("GET", "/v2/models/nope"), ("GET", "/v2/models/nope/ready"), ("POST", "/v2/models/nope/infer")):
            status, _, body = self.server.request(method, path, {"inputs": []} if method == "POST" else None)
            self.assertEqual((status, json.loads(body)), (404, {"error": "Model nope not found; this host serves iris"}))
        status, _, body = self.server.request("GET", "/v2/models/iris/versions/7/ready")
        self.assertEqual((status, json.loads(body)), (404, {"error": "Model iris with version 7 not found"}))
        status, _, body = self.server.request("GET", "/v2/models/iris/explain")
        self.assertEqual(status, 404)
        self.assertIn("no such path", json.loads(body)["error"])

    def test_wrong_method_is_405_with_allow(self):
        status, headers, body = self.server.request("GET", "/v2/models/iris/infer")
        self.assertEqual((status, headers["allow"]), (405, "POST"))
        self.assertEqual(json.loads(body), {"error": "GET is not allowed on /v2/models/iris/infer; use POST"})
        status, headers, _ = self.server.request("POST", "/v2/models/iris", {})
        self.assertEqual((status, headers["allow"]), (405, "GET"))

    def test_predict_by_default_as_int64_n_by_1(self):
        rows = [[1, 2, 3, 4], ROW]
        status, reply = self.infer({"id": "req-1", "inputs": [tensor("FP32", [2, 4], [1, 2, 3, 4] + ROW)]})
        self.assertEqual(status, 200)
        expected = self.model.predict(np.array(rows, dtype=np.float32)).tolist()
        self.assertEqual(reply, {
            "model_name": "iris", "id": "req-1", "parameters": {},
            "outputs": [{"name": "predict", "shape": [2, 1], "datatype": "INT64", "parameters": {"content_type": "np"}, "data": expected}],
        })

    def test_id_is_generated_when_absent(self):
        _, first = self.infer({"inputs": [tensor("FP64", [1, 4], ROW)]})
        _, second = self.infer({"inputs": [tensor("FP64", [1, 4], ROW)]})
        self.assertRegex(first["id"], r"^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$")
        self.assertNotEqual(first["id"], second["id"])

    def test_predict_proba_when_asked_equals_scikit_learn_exactly(self):
        status, reply = self.infer({"inputs": [tensor("FP64", [1, 4], [ROW])], "outputs": [{"name": "predict_proba"}, {"name": "predict"}]})
        self.assertEqual(status, 200)
        proba, labels = reply["outputs"]
        self.assertEqual((proba["name"], proba["datatype"], proba["shape"]), ("predict_proba", "FP64", [1, 3]))
        self.assertEqual(proba["data"], self.model.predict_proba(np.array([ROW])).ravel().tolist())
        self.assertEqual((labels["name"], labels["shape"], labels["data"]), ("predict", [1, 1], [0]))

    def test_integer_and_half_inputs(self):
        for datatype in ("INT64", "INT32", "UINT8", "FP16"):
            status, reply = self.infer({"inputs": [tensor(datatype, [1, 4], [6, 3, 5, 2])]})
            self.assertEqual((datatype, status, reply["outputs"][0]["data"]), (datatype, 200, [2]))

    def test_bad_shapes_are_400_naming_the_field(self):
        cases = [
            (tensor("FP32", [2, 4], [1, 2, 3, 4, 5, 6, 7]), "inputs[0].data: holds 7 elements but shape [2, 4] needs 8"),
            (tensor("FP32", [1, 5], [1, 2, 3, 4, 5]), "inputs[0].shape: expected [rows, 4] (rows of 4 features), got [1, 5]"),
            (tensor("FP32", [4], [1, 2, 3, 4]), "inputs[0].shape: expected [rows, 4] (rows of 4 features), got [4]"),
            (tensor("FP32", [1, -4], [1, 2, 3, 4]), "inputs[0].shape: expected a list of non-negative integers, got a list"),
            (tensor("FP33", [1, 4], [1, 2, 3, 4]), "inputs[0].datatype: expected one of BOOL, INT8, INT16, INT32, INT64, UINT8, UINT16, UINT32, UINT64, FP16, FP32, FP64, BYTES, got the string 'FP33'"),
            (tensor("FP32", [1, 4], [1, 2, "a", 4]), "inputs[0].data[2]: expected a number for FP32, got the string 'a'"),
            (tensor("INT8", [1, 4], [1, 2, 3, 200]), "inputs[0].data[3]: 200 is out of range for INT8 (-128 to 127)"),
            (tensor("INT64", [1, 4], [1, 2, 3.5, 4]), "inputs[0].data[2]: expected an integer for INT64, got 3.5"),
            (tensor("BOOL", [1, 4], [True, 1, True, True]), "inputs[0].data[1]: expected true or false for BOOL, got 1"),
        ]
        for value, message in cases:
            status, reply = self.infer({"inputs": [value]})
            self.assertEqual((status, reply), (400, {"error": message}))

    def test_bad_requests_are_400(self):
        cases = [
            ({}, "inputs: is required"),
            ({"inputs": []}, "inputs: iris takes one input tensor (MLServer's np codec), got 0"),
            ({"inputs": [tensor("FP32", [1, 4], [1, 2, 3, 4])], "outputs": [{"name": "foo"}]},
             "outputs[0].name: SKLEARN_SERVER answers 'predict', 'predict_proba' and 'transform' (MLServer's outputs), got 'foo'"),
            ({"inputs": [tensor("FP32", [1, 4], [1, 2, 3, 4])], "outputs": [{"name": "transform"}]},
             "outputs: LogisticRegression models do not support 'transform'"),
            ({"id": 5, "inputs": [tensor("FP32", [1, 4], [1, 2, 3, 4])]}, "id: expected a string, got 5"),
            ({"inputs": [tensor("BYTES", [1, 4], ["a", "b", "c", "d"])]}, None),
        ]
        for value, message in cases:
            status, reply = self.infer(value)
            self.assertEqual(status, 400, reply)
            if message is not None:
                self.assertEqual(reply, {"error": message})
        status, _, body = self.server.request("POST", "/v2/models/iris/infer", b'{"inputs":[', {"Content-Type": "application/json"})
        self.assertEqual(status, 400)
        self.assertTrue(json.loads(body)["error"].startswith("body: not valid JSON"))

    def test_binary_input_and_binary_output(self):
        rows = np.array([[1, 2, 3, 4], ROW], dtype=np.float32)
        header = {
            "inputs": [{"name": "x", "datatype": "FP32", "shape": [2, 4], "parameters": {"binary_data_size": rows.nbytes}}],
            "outputs": [{"name": "predict_proba", "parameters": {"binary_data": True}}, {"name": "predict"}],
        }
        body, headers = binary_body(header, rows.tobytes())
        status, answer_headers, data = self.server.request("POST", "/v2/models/iris/infer", body, headers)
        self.assertEqual((status, answer_headers["content-type"]), (200, "application/octet-stream"))
        reply, raw = split_binary(answer_headers, data)
        proba, labels = reply["outputs"]
        self.assertEqual(proba, {"name": "predict_proba", "shape": [2, 3], "datatype": "FP64", "parameters": {"content_type": "np", "binary_data_size": 48}})
        self.assertEqual(np.frombuffer(raw, "<f8").tolist(), self.model.predict_proba(rows).ravel().tolist())
        self.assertEqual(labels["data"], self.model.predict(rows).tolist())

    def test_binary_data_output_for_every_output(self):
        value = {"inputs": [tensor("FP64", [1, 4], ROW)], "parameters": {"binary_data_output": True}}
        status, headers, data = self.server.request("POST", "/v2/models/iris/infer", value)
        self.assertEqual(status, 200)
        reply, raw = split_binary(headers, data)
        self.assertEqual(reply["outputs"][0]["parameters"], {"content_type": "np", "binary_data_size": 8})
        self.assertEqual(np.frombuffer(raw, "<i8").tolist(), [0])

    def test_bad_binary_bodies_are_400(self):
        raw = np.array(ROW, dtype=np.float32).tobytes()
        header = {"inputs": [{"name": "x", "datatype": "FP32", "shape": [1, 4], "parameters": {"binary_data_size": 16}}]}
        cases = [
            (binary_body(header, raw[:12]), "inputs[0].parameters.binary_data_size: 16 bytes, but only 12 remain in the body"),
            (binary_body(header, raw + b"xx"), "body: 2 bytes after the last binary tensor belong to none"),
            ((json.dumps(header).encode(), {"Content-Type": "application/json"}),
             "inputs[0].parameters.binary_data_size: binary data needs the Inference-Header-Content-Length header"),
            ((b"{}", {"Inference-Header-Content-Length": "10"}), "Inference-Header-Content-Length: 10 is longer than the 2-byte body"),
            ((b"{}", {"Inference-Header-Content-Length": "two"}), "Inference-Header-Content-Length: expected a byte count, got 'two'"),
        ]
        header12 = {"inputs": [{"name": "x", "datatype": "FP32", "shape": [1, 4], "parameters": {"binary_data_size": 12}}]}
        cases.append((binary_body(header12, raw[:12]), "inputs[0]: 12 bytes, but 4 FP32 elements take 16"))
        for (body, headers), message in cases:
            status, _, data = self.server.request("POST", "/v2/models/iris/infer", body, headers)
            self.assertEqual((status, json.loads(data)), (400, {"error": message}))

    def test_seldon_paths_are_unchanged(self):
        status, reply = self.server.post_json("/api/v1.0/predictions", {"data": {"ndarray": [ROW]}})
        self.assertEqual(status, 200)
        self.assertEqual(reply["data"]["ndarray"], self.model.predict_proba(np.array([ROW])).tolist())


class UserClassV2Test(unittest.TestCase):
    """A user's class under V2: the one input to predict(X, names), answered as output "predict"."""

    @classmethod
    def setUpClass(cls):
        cls.echo = Server("contract_models.Echo", cwd=FIXTURES)
        cls.picky = Server("contract_models.Picky", cwd=FIXTURES, env={"PREDICTIVE_UNIT_ID": "picky-node"})

    @classmethod
    def tearDownClass(cls):
        cls.echo.stop()
        cls.picky.stop()

    def echo_infer(self, value, server=None, path="/v2/models/Echo/infer"):
        status, headers, body = (server or self.echo).request("POST", path, value)
        return status, headers, body

    def test_model_name_is_the_class_without_a_unit_id(self):
        status, _, body = self.echo.request("GET", "/v2/models/Echo")
        self.assertEqual((status, json.loads(body)["name"]), (200, "Echo"))
        status, _, body = self.picky.request("GET", "/v2/models/picky-node/ready")
        self.assertEqual(status, 200)

    def test_every_datatype_round_trips_through_predict(self):
        big = 2 ** 63 - 1
        cases = [
            ("BOOL", [2, 2], [True, False, False, True]),
            ("INT8", [2, 2], [-128, 127, 0, 1]),
            ("INT16", [2, 2], [-32768, 32767, 0, 1]),
            ("INT32", [1, 3], [-(2 ** 31), 2 ** 31 - 1, 7]),
            ("INT64", [1, 3], [-(2 ** 63), big, 9007199254740993]),
            ("UINT8", [1, 2], [0, 255]),
            ("UINT16", [1, 2], [0, 65535]),
            ("UINT32", [1, 2], [0, 2 ** 32 - 1]),
            ("UINT64", [1, 2], [0, 2 ** 64 - 1]),
            ("FP16", [1, 3], [0.5, -2.0, 65504.0]),
            ("FP32", [1, 2], [0.25, 3.5]),
            ("FP64", [1, 3], [0.1, 1e-300, 12345678.123456789]),
            ("BYTES", [3], ["ab", "", "héllo"]),
        ]
        for datatype, shape, data in cases:
            status, _, body = self.echo_infer({"inputs": [tensor(datatype, shape, data)]})
            self.assertEqual(status, 200, body)
            output = json.loads(body)["outputs"][0]
            expected_shape = shape if len(shape) > 1 else shape + [1]
            self.assertEqual(
                (output["name"], output["datatype"], output["shape"], output["data"]),
                ("predict", datatype, expected_shape, data),
                datatype,
            )
        # FP16 rounds to the nearest half, as numpy's float16 does.
        status, _, body = self.echo_infer({"inputs": [tensor("FP16", [1, 1], [0.1])]})
        self.assertEqual(json.loads(body)["outputs"][0]["data"], [float(np.float16(0.1))])

    def test_int64_digits_are_kept_in_json(self):
        status, _, body = self.echo_infer({"inputs": [tensor("INT64", [1], [9007199254740993])]})
        self.assertEqual(status, 200)
        self.assertIn(b"[9007199254740993]", body)

    def test_bytes_and_half_as_binary_data_both_ways(self):
        half = np.array([1.5, -0.25], dtype="<f2")
        header = {
            "inputs": [{"name": "x", "datatype": "FP16", "shape": [2], "parameters": {"binary_data_size": 4}}],
            "outputs": [{"name": "predict", "parameters": {"binary_data": True}}],
        }
        body, headers = binary_body(header, half.tobytes())
        status, answer_headers, data = self.echo.request("POST", "/v2/models/Echo/infer", body, headers)
        self.assertEqual(status, 200, data)
        reply, raw = split_binary(answer_headers, data)
        self.assertEqual(reply["outputs"][0]["datatype"], "FP16")
        self.assertEqual(np.frombuffer(raw, "<f2").tolist(), [1.5, -0.25])

        items = [b"\x00\xff", b"text"]
        raw_in = bytes_raw(*items)
        header = {
            "inputs": [{"name": "x", "datatype": "BYTES", "shape": [2], "parameters": {"binary_data_size": len(raw_in)}}],
            "parameters": {"binary_data_output": True},
        }
        body, headers = binary_body(header, raw_in)
        status, answer_headers, data = self.echo.request("POST", "/v2/models/Echo/infer", body, headers)
        self.assertEqual(status, 200, data)
        reply, raw = split_binary(answer_headers, data)
        self.assertEqual(reply["outputs"][0]["shape"], [2, 1])
        self.assertEqual(raw, raw_in)

    def test_bytes_that_are_not_text_need_binary_output(self):
        header = {"inputs": [{"name": "x", "datatype": "BYTES", "shape": [1], "parameters": {"binary_data_size": 6}}]}
        body, headers = binary_body(header, bytes_raw(b"\xff\xfe"))
        status, _, data = self.echo.request("POST", "/v2/models/Echo/infer", body, headers)
        self.assertEqual(status, 500)
        self.assertIn("outputs[0].data[0]: bytes that are not UTF-8 text cannot be written as JSON", json.loads(data)["error"])

    def test_only_predict_is_an_output(self):
        status, _, body = self.echo_infer({"inputs": [tensor("FP32", [1], [1])], "outputs": [{"name": "predict_proba"}]})
        self.assertEqual((status, json.loads(body)), (400, {"error": "outputs[0].name: Echo answers only 'predict', got 'predict_proba'"}))

    def test_model_errors_keep_their_status(self):
        path = "/v2/models/picky-node/infer"
        cases = [(-1.0, 500, "ValueError: cannot score negative values"), (99.0, 422, "99 is not a valid reading"), (77.0, 400, "77 is reserved")]
        for value, status, text in cases:
            got, _, body = self.picky.request("POST", path, {"inputs": [tensor("FP64", [1, 1], [value])]})
            self.assertEqual(got, status, body)
            self.assertIn(text, json.loads(body)["error"])
        status, _, body = self.picky.request("POST", path, {"inputs": [tensor("FP64", [1, 1], [33.0])]})
        self.assertEqual((status, json.loads(body)["outputs"][0]["data"]), (200, [None]))


if __name__ == "__main__":
    unittest.main()
