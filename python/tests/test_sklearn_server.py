"""SKLEARN_SERVER: a joblib-saved scikit-learn estimator behind the Seldon protocol."""

import json
import os
import shutil
import tempfile
import unittest

import joblib
import numpy as np
from sklearn.datasets import load_iris
from sklearn.linear_model import LogisticRegression

from .support import FIXTURES, Server, microservice_command, run_to_exit

SERVER = "trantor_runtime.servers.sklearn.SKLearnServer"


def parameters(model_uri, method=None):
    entries = [{"name": "model_uri", "value": model_uri, "type": "STRING"}]
    if method is not None:
        entries.append({"name": "method", "value": method, "type": "STRING"})
    return {"PREDICTIVE_UNIT_PARAMETERS": json.dumps(entries)}


class SKLearnServerTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.folder = tempfile.mkdtemp(prefix="trantor-sklearn-")
        X, y = load_iris(return_X_y=True)
        cls.model = LogisticRegression(max_iter=1000, random_state=0).fit(X, y)
        joblib.dump(cls.model, os.path.join(cls.folder, "model.joblib"))
        cls.proba = Server(SERVER, cwd=cls.folder, env=parameters(cls.folder))
        cls.labels = Server(SERVER, cwd=cls.folder, env=parameters("file://" + cls.folder, "predict"))

    @classmethod
    def tearDownClass(cls):
        cls.proba.stop()
        cls.labels.stop()
        shutil.rmtree(cls.folder, ignore_errors=True)

    def test_probabilities_equal_predict_proba_exactly(self):
        rows = [[1, 2, 3, 4], [5.1, 3.5, 1.4, 0.2], [6.7, 3.0, 5.2, 2.3]]
        status, reply = self.proba.post_json("/api/v1.0/predictions", {"data": {"ndarray": rows}})
        self.assertEqual(status, 200)
        self.assertEqual(reply["data"]["names"], ["t:0", "t:1", "t:2"])
        self.assertEqual(reply["data"]["ndarray"], self.model.predict_proba(np.array(rows)).tolist())
        self.assertEqual(reply["meta"], {})

    def test_tensor_request_gets_tensor_probabilities(self):
        status, reply = self.proba.post_json("/predict", {"data": {"tensor": {"shape": [1, 4], "values": [1, 2, 3, 4]}}})
        self.assertEqual(status, 200)
        expected = self.model.predict_proba(np.array([[1.0, 2.0, 3.0, 4.0]]))
        self.assertEqual(reply["data"]["tensor"], {"shape": [1, 3], "values": expected.ravel().tolist()})

    def test_one_dimensional_row_of_the_right_length_is_one_row(self):
        status, reply = self.proba.post_json("/predict", {"data": {"ndarray": [1, 2, 3, 4]}})
        self.assertEqual((status, len(reply["data"]["ndarray"])), (200, 1))

    def test_five_features_for_a_four_feature_model_is_400_saying_so(self):
        status, reply = self.proba.post_json("/predict", {"data": {"ndarray": [[1, 2, 3, 4, 5]]}})
        self.assertEqual(status, 400)
        self.assertEqual(reply["status"], {
            "code": 400, "info": "expected 4 features per row, got 5 (data.ndarray has rows of 5)",
            "reason": "MICROSERVICE_BAD_DATA", "status": "FAILURE",
        })

    def test_feature_count_error_names_the_tensor_field(self):
        status, reply = self.proba.post_json("/predict", {"data": {"tensor": {"shape": [1, 5], "values": [1, 2, 3, 4, 5]}}})
        self.assertEqual(status, 400)
        self.assertEqual(reply["status"]["info"], "expected 4 features per row, got 5 (data.tensor has rows of 5)")

    def test_ragged_rows_are_400(self):
        status, reply = self.proba.post_json("/predict", {"data": {"ndarray": [[1, 2, 3, 4], [1, 2]]}})
        self.assertEqual(status, 400)
        self.assertIn("rows have different lengths", reply["status"]["info"])

    def test_strings_where_numbers_belong_are_400_with_scikit_learn_message(self):
        status, reply = self.proba.post_json("/predict", {"data": {"ndarray": [["a", 2, 3, 4]]}})
        self.assertEqual(status, 400)
        self.assertIn("could not convert string to float", reply["status"]["info"])

    def test_method_predict_returns_class_labels(self):
        rows = [[5.1, 3.5, 1.4, 0.2], [6.7, 3.0, 5.2, 2.3]]
        status, reply = self.labels.post_json("/predict", {"data": {"ndarray": rows}})
        self.assertEqual(status, 200)
        self.assertEqual(reply["data"], {"names": [], "ndarray": self.model.predict(np.array(rows)).tolist()})

    def test_metadata_describes_the_estimator(self):
        metadata = json.loads(self.proba.request("GET", "/metadata")[2])
        self.assertEqual(metadata["platform"], "sklearn")
        self.assertEqual(metadata["inputs"][0]["shape"], [-1, 4])


class SKLearnStartupTest(unittest.TestCase):
    def run_server(self, env):
        return run_to_exit(microservice_command(SERVER), cwd=FIXTURES, env=env)

    def test_remote_model_uri_exits_1_saying_it_is_not_supported(self):
        uri = "gs://seldon-models/v1.11.0-dev/sklearn/iris"
        result = self.run_server(parameters(uri))
        self.assertEqual(result.returncode, 1)
        self.assertIn(
            "modelUri " + uri + ": remote model storage is not supported yet; copy the model to a local folder "
            "and use its path or a file:// URI",
            result.stderr,
        )

    def test_missing_folder_exits_1_naming_the_path(self):
        result = self.run_server(parameters("/nonexistent/iris"))
        self.assertEqual(result.returncode, 1)
        self.assertIn("/nonexistent/iris does not exist", result.stderr)

    def test_folder_without_model_joblib_exits_1_naming_the_file(self):
        folder = tempfile.mkdtemp(prefix="trantor-empty-")
        try:
            result = self.run_server(parameters(folder))
            self.assertEqual(result.returncode, 1)
            self.assertIn("no model.joblib in " + folder, result.stderr)
        finally:
            shutil.rmtree(folder)

    def test_unknown_method_exits_1_listing_the_methods(self):
        result = self.run_server(parameters("/tmp", "transform"))
        self.assertEqual(result.returncode, 1)
        self.assertIn("expected one of predict_proba, predict, decision_function, got 'transform'", result.stderr)


if __name__ == "__main__":
    unittest.main()
