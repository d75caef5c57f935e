"""The rest of the component contract: parameters, meta, routing, combining, feedback, raw methods."""

import base64
import json
import unittest

from .support import FIXTURES, Server

PARAMETERS = json.dumps([
    {"name": "threshold", "value": "0.25", "type": "FLOAT"},
    {"name": "label", "value": "blue", "type": "STRING"},
    {"name": "enabled", "value": "true", "type": "BOOL"},
    {"name": "rounds", "value": "3", "type": "INT"},
    {"name": "config", "value": "{\"depth\": 2}", "type": "JSON"},
])


class FullComponentTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.server = Server(
            "contract_models.FullComponent",
            cwd=FIXTURES,
            env={"PREDICTIVE_UNIT_PARAMETERS": PARAMETERS, "PREDICTIVE_UNIT_ID": "full", "PREDICTOR_ID": "default",
                 "SELDON_DEPLOYMENT_ID": "sdep"},
        )

    @classmethod
    def tearDownClass(cls):
        cls.server.stop()

    def test_parameters_are_converted_and_passed_to_the_constructor(self):
        status, _, body = self.server.request("GET", "/health/status")
        self.assertEqual(status, 200)
        health = json.loads(body)["jsonData"]
        self.assertEqual((health["enabled"], health["rounds"], health["config"]), (True, 3, {"depth": 2}))

    def test_reply_meta_carries_the_model_tags_and_metrics(self):
        status, reply = self.server.post_json("/predict", {"data": {"ndarray": [[0.2]]}})
        self.assertEqual(status, 200)
        self.assertEqual(reply["meta"]["tags"], {"label": "blue", "loaded": True})
        self.assertEqual(reply["meta"]["metrics"], [
            {"key": "calls", "type": "COUNTER", "value": 1}, {"key": "threshold", "type": "GAUGE", "value": 0.25}
        ])

    def test_class_names_name_the_output_columns(self):
        status, reply = self.server.post_json("/predict", {"data": {"tensor": {"shape": [1, 1], "values": [0.25]}}})
        self.assertEqual(reply["data"], {"names": ["low", "high"], "tensor": {"shape": [1, 2], "values": [0.75, 0.25]}})

    def test_route_replies_with_the_child_index_as_ndarray(self):
        status, reply = self.server.post_json("/route", {"data": {"ndarray": [[0.9]]}})
        self.assertEqual(status, 200)
        self.assertEqual(reply["data"]["ndarray"], [[1]])
        self.assertEqual(self.server.post_json("/route", {"data": {"ndarray": [[0.1]]}})[1]["data"]["ndarray"], [[0]])

    def test_aggregate_takes_a_json_array_of_messages(self):
        status, reply = self.server.post_json("/aggregate", [
            {"data": {"ndarray": [[1.0, 3.0]]}}, {"data": {"ndarray": [[3.0, 5.0]]}}
        ])
        self.assertEqual(status, 200)
        self.assertEqual(reply["data"]["ndarray"], [[2.0, 4.0]])

    def test_aggregate_takes_seldon_messages_too(self):
        status, reply = self.server.post_json("/aggregate", {"seldonMessages": [{"data": {"ndarray": [2.0]}}, {"data": {"ndarray": [4.0]}}]})
        self.assertEqual((status, reply["data"]["ndarray"]), (200, [3.0]))

    def test_aggregate_names_the_bad_message(self):
        status, reply = self.server.post_json("/aggregate", [{"data": {"ndarray": [1]}}, {"nothing": 1}])
        self.assertEqual(status, 400)
        self.assertTrue(reply["status"]["info"].startswith("[1]:"), reply["status"]["info"])

    def test_send_feedback_passes_reward_truth_and_routing(self):
        feedback = {
            "request": {"data": {"ndarray": [[0.3]]}},
            "response": {"data": {"ndarray": [[0.7, 0.3]]}, "meta": {"routing": {"full": 1}}},
            "reward": 0.5,
            "truth": {"data": {"ndarray": [[1]]}},
        }
        status, reply = self.server.post_json("/send-feedback", feedback)
        self.assertEqual(status, 200)
        self.assertEqual(reply["data"]["ndarray"], [])
        health = json.loads(self.server.request("GET", "/health/status")[2])["jsonData"]
        self.assertIn({"reward": 0.5, "routing": 1, "truth": [[1]]}, health["rewards"])

    def test_transform_input_and_output_call_the_model(self):
        self.assertEqual(self.server.post_json("/transform-input", {"data": {"ndarray": [[1, 2]]}})[1]["data"]["ndarray"], [[2, 4]])
        self.assertEqual(self.server.post_json("/transform-output", {"data": {"ndarray": [[1, 2]]}})[1]["data"]["ndarray"], [[2, 3]])

    def test_metadata_comes_from_init_metadata_with_the_deployment_ids(self):
        metadata = json.loads(self.server.request("GET", "/metadata")[2])
        self.assertEqual(metadata["name"], "full-component")
        self.assertEqual(metadata["versions"], ["full/v1"])
        self.assertEqual(metadata["custom"], {"owner": "tests", "predictive_unit_id": "full", "predictor_id": "default",
                                              "seldon_deployment_id": "sdep"})


class PayloadKindsTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.server = Server("contract_models.Echo", cwd=FIXTURES)

    @classmethod
    def tearDownClass(cls):
        cls.server.stop()

    def test_str_data_comes_back_as_str_data(self):
        self.assertEqual(self.server.post_json("/predict", {"strData": "hello"}), (200, {"strData": "HELLO", "meta": {}}))

    def test_bin_data_is_base64_decoded_and_encoded(self):
        sent = base64.b64encode(b"\x00\x01abc").decode()
        status, reply = self.server.post_json("/predict", {"binData": sent})
        self.assertEqual((status, base64.b64decode(reply["binData"])), (200, b"cba\x01\x00"))

    def test_json_data_reaches_the_model_as_json_with_meta(self):
        status, reply = self.server.post_json("/predict", {"jsonData": {"a": [1, 2]}, "meta": {"tags": {"t": 1}}})
        self.assertEqual(reply["jsonData"], {"echo": {"a": [1, 2]}, "meta": {"tags": {"t": 1}}})

    def test_invalid_base64_is_400(self):
        status, reply = self.server.post_json("/predict", {"binData": "not base64!"})
        self.assertEqual(status, 400)
        self.assertIn("binData", reply["status"]["info"])

    def test_two_payloads_in_one_message_are_400(self):
        status, reply = self.server.post_json("/predict", {"strData": "a", "jsonData": 1})
        self.assertEqual(status, 400)
        self.assertIn("only one of", reply["status"]["info"])

    def test_transform_input_without_a_method_is_the_identity(self):
        self.assertEqual(
            self.server.post_json("/transform-input", {"data": {"ndarray": [[1, 2]]}}),
            (200, {"data": {"names": ["t:0", "t:1"], "ndarray": [[1, 2]]}, "meta": {}}),
        )

    def test_send_feedback_without_a_method_succeeds(self):
        status, _ = self.server.post_json("/send-feedback", {"request": {"data": {"ndarray": [[1]]}}, "reward": 1})
        self.assertEqual(status, 200)


class RawMethodsTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.server = Server("contract_models.RawModel", cwd=FIXTURES)

    @classmethod
    def tearDownClass(cls):
        cls.server.stop()

    def test_predict_raw_gets_the_whole_message_and_its_reply_is_sent_as_is(self):
        status, reply = self.server.post_json("/predict", {"data": {"ndarray": [1]}, "meta": {"puid": "x"}})
        self.assertEqual((status, reply), (200, {"jsonData": {"keys": ["data", "meta"]}, "meta": {"tags": {"raw": True}}}))


if __name__ == "__main__":
    unittest.main()
