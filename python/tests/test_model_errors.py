"""Errors raised by model code become Seldon failure replies; the server keeps serving."""

import unittest

from .support import FIXTURES, Server


class ModelErrorsTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.server = Server("contract_models.Picky", cwd=FIXTURES)

    @classmethod
    def tearDownClass(cls):
        cls.server.stop()

    def predict(self, value):
        return self.server.post_json("/predict", {"data": {"ndarray": [[value]]}})

    def test_user_exception_is_500_with_type_and_message(self):
        status, reply = self.predict(-1)
        self.assertEqual(status, 500)
        failure = reply["status"]
        self.assertEqual((failure["code"], failure["reason"], failure["status"]), (500, "MICROSERVICE_INTERNAL_ERROR", "FAILURE"))
        self.assertTrue(failure["info"].startswith("ValueError: cannot score negative values"), failure["info"])
        self.assertIn("Picky.predict", failure["info"])

    def test_server_keeps_serving_after_a_user_exception(self):
        for _ in range(3):
            self.assertEqual(self.predict(-1)[0], 500)
        self.assertEqual(self.predict(1), (200, {"data": {"names": ["t:0"], "ndarray": [[1]]}, "meta": {}}))

    def test_user_exception_is_logged_with_its_traceback(self):
        self.predict(-2)
        self.assertTrue(any("Traceback" in line for line in self.server.stderr_lines))

    def test_microservice_error_answers_with_its_own_status_and_reason(self):
        status, reply = self.predict(99)
        self.assertEqual(status, 422)
        self.assertEqual(reply["status"], {"code": 422, "info": "99 is not a valid reading", "reason": "OUT_OF_RANGE", "status": "FAILURE"})

    def test_exception_with_status_code_attribute_is_honoured(self):
        status, reply = self.predict(77)
        self.assertEqual(status, 400)
        self.assertEqual(reply["status"]["info"], "77 is reserved")
        self.assertEqual(reply["status"]["reason"], "MICROSERVICE_BAD_DATA")

    def test_predict_returning_none_is_500_saying_so(self):
        status, reply = self.predict(55)
        self.assertEqual(status, 500)
        self.assertIn("returned None", reply["status"]["info"])

    def test_nan_in_the_output_is_answered_as_python_writes_it(self):
        # As Seldon's wrapper answers: Python clients (json, requests) read NaN back.
        status, reply = self.predict(33)
        self.assertEqual(status, 200)
        value = reply["data"]["ndarray"][0][0]
        self.assertNotEqual(value, value)

    def test_class_without_route_answers_400_as_seldon_does(self):
        status, reply = self.server.post_json("/route", {"data": {"ndarray": [[1]]}})
        self.assertEqual((status, reply["status"]["reason"]), (400, "MICROSERVICE_BAD_DATA"))
        self.assertIn("Picky has no route method", reply["status"]["info"])


if __name__ == "__main__":
    unittest.main()
