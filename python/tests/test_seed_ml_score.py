"""The seed's MLScore identity class, served as Seldon's wrapper serves it."""

import json
import unittest
from urllib.parse import quote

from .support import ML_SCORE_DIR, Server

SEED_REQUEST = {"data": {"names": ["a", "b"], "tensor": {"shape": [2, 2], "values": [0, 0, 1, 1]}}}
SEED_REPLY = {"data": {"names": ["t:0", "t:1"], "tensor": {"shape": [2, 2], "values": [0.0, 0.0, 1.0, 1.0]}}, "meta": {}}


class SeedMLScoreTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.server = Server("MLScore", cwd=ML_SCORE_DIR)

    @classmethod
    def tearDownClass(cls):
        cls.server.stop()

    def test_ready_line_names_the_interface_and_address(self):
        self.assertEqual(self.server.ready_line, "trantor_runtime: serving MLScore on http://127.0.0.1:%d" % self.server.port)

    def test_constructor_print_comes_before_the_ready_line(self):
        self.assertEqual(self.server.stdout_lines[0], "Initializing\n")

    def test_tensor_request_comes_back_as_the_seed_reply(self):
        status, headers, body = self.server.request("POST", "/predict", json.dumps(SEED_REQUEST), {"Content-Type": "application/json"})
        self.assertEqual(status, 200)
        self.assertEqual(headers["content-type"], "application/json")
        self.assertEqual(body, json.dumps(SEED_REPLY, separators=(",", ":")).encode())

    def test_form_field_json_is_read_like_curl_data_urlencode(self):
        body = "json=" + quote(json.dumps(SEED_REQUEST, separators=(",", ":")))
        status, _, data = self.server.request(
            "POST", "/predict", body, {"Content-Type": "application/x-www-form-urlencoded"}
        )
        self.assertEqual(status, 200)
        self.assertEqual(json.loads(data), SEED_REPLY)

    def test_get_with_json_query_parameter_predicts(self):
        status, _, data = self.server.request("GET", "/predict?json=" + quote(json.dumps(SEED_REQUEST)))
        self.assertEqual(status, 200)
        self.assertEqual(json.loads(data), SEED_REPLY)

    def test_executor_paths_answer_like_predict(self):
        for path in ("/api/v1.0/predictions", "/api/v0.1/predictions"):
            with self.subTest(path=path):
                self.assertEqual(self.server.post_json(path, SEED_REQUEST), (200, SEED_REPLY))

    def test_ndarray_request_comes_back_as_ndarray_with_default_names(self):
        status, reply = self.server.post_json("/predict", {"data": {"ndarray": [[1, 2, 3], [4, 5, 6]]}})
        self.assertEqual(status, 200)
        self.assertEqual(reply, {"data": {"names": ["t:0", "t:1", "t:2"], "ndarray": [[1, 2, 3], [4, 5, 6]]}, "meta": {}})

    def test_one_dimensional_ndarray_has_no_names(self):
        self.assertEqual(
            self.server.post_json("/predict", {"data": {"ndarray": [1, 2]}}),
            (200, {"data": {"names": [], "ndarray": [1, 2]}, "meta": {}}),
        )

    def test_strings_in_ndarray_come_back_unchanged(self):
        status, reply = self.server.post_json("/predict", {"data": {"ndarray": [["a", 1, True]]}})
        self.assertEqual(status, 200)
        self.assertEqual(reply["data"]["ndarray"], [["a", 1, True]])

    def test_each_predict_prints_the_seed_line(self):
        before = self.server.stdout_lines.count("Predict called - will run identity function\n")
        self.server.post_json("/predict", SEED_REQUEST)
        for _ in range(50):
            if self.server.stdout_lines.count("Predict called - will run identity function\n") > before:
                break
            __import__("time").sleep(0.02)
        self.assertGreater(self.server.stdout_lines.count("Predict called - will run identity function\n"), before)

    def test_health_ping_answers_pong(self):
        status, headers, body = self.server.request("GET", "/health/ping")
        self.assertEqual((status, body), (200, b"pong"))
        self.assertTrue(headers["content-type"].startswith("text/plain"))

    def test_health_status_without_a_method_answers_healthy_as_seldon_does(self):
        status, _, body = self.server.request("GET", "/health/status")
        self.assertEqual(status, 200)
        self.assertEqual(json.loads(body)["strData"], "healthy")

    def test_live_and_ready_answer_200(self):
        for path in ("/live", "/ready"):
            with self.subTest(path=path):
                self.assertEqual(self.server.request("GET", path)[0], 200)

    def test_metadata_without_a_method_has_name_versions_and_platform(self):
        status, _, body = self.server.request("GET", "/metadata")
        self.assertEqual(status, 200)
        metadata = json.loads(body)
        self.assertEqual(metadata["name"], "MLScore")
        self.assertEqual(metadata["platform"], "seldon")
        self.assertIsInstance(metadata["versions"], list)

    def test_malformed_json_is_400_with_the_parser_message(self):
        status, _, body = self.server.request("POST", "/predict", '{"data":', {"Content-Type": "application/json"})
        self.assertEqual(status, 400)
        failure = json.loads(body)["status"]
        self.assertEqual(failure["reason"], "MICROSERVICE_BAD_DATA")
        self.assertEqual(failure["status"], "FAILURE")
        self.assertEqual(failure["code"], 400)
        self.assertIn("not valid JSON", failure["info"])
        self.assertIn("line 1 column 9", failure["info"])

    def test_message_without_a_payload_is_400_naming_the_fields(self):
        status, reply = self.server.post_json("/predict", {"meta": {}})
        self.assertEqual(status, 400)
        self.assertIn("none of data, binData, strData or jsonData", reply["status"]["info"])

    def test_tensor_whose_values_do_not_fit_its_shape_is_400_naming_the_field(self):
        status, reply = self.server.post_json("/predict", {"data": {"tensor": {"shape": [2, 2], "values": [1, 2, 3]}}})
        self.assertEqual(status, 400)
        self.assertEqual(reply["status"]["info"], "data.tensor: shape [2,2] holds 4 values, got 3")

    def test_empty_body_is_400(self):
        status, _, body = self.server.request("POST", "/predict", b"", {"Content-Type": "application/json"})
        self.assertEqual(status, 400)
        self.assertIn("empty", json.loads(body)["status"]["info"])

    def test_tftensor_without_dtype_is_400_naming_the_field(self):
        status, reply = self.server.post_json("/predict", {"data": {"tftensor": {}}})
        self.assertEqual(status, 400)
        self.assertEqual(reply["status"]["reason"], "MICROSERVICE_BAD_DATA")
        self.assertTrue(reply["status"]["info"].startswith("data.tftensor.dtype: is required"), reply["status"]["info"])

    def test_puid_in_the_request_meta_is_echoed(self):
        status, reply = self.server.post_json("/predict", {"data": {"ndarray": [1]}, "meta": {"puid": "abc"}})
        self.assertEqual(reply["meta"], {"puid": "abc"})


if __name__ == "__main__":
    unittest.main()
