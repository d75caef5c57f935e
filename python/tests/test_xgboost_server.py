"""
XGBOOST_SERVER: a model trained by xgboost here answers, on Seldon's protocol, what the booster's
own ``predict`` gives on a DMatrix of the rows, and on V2 what xgboost's scikit-learn interface
gives (mlserver-xgboost's outputs). xgboost comes from Debian (python3-xgboost, ``.ci/run``);
without it the tests are skipped saying so, except in CI (``CI=true``) where they fail.
"""

import json
import os
import shutil
import tempfile
import unittest

import numpy as np
from sklearn.datasets import load_iris

from .support import FIXTURES, Server, microservice_command, run_to_exit

try:
    import xgboost
except ImportError:  # pragma: no cover - depends on the machine
    xgboost = None

SERVER = "trantor_runtime.servers.xgboost.XGBoostServer"
IN_CI = os.environ.get("CI", "") not in ("", "false")
ROWS = [[5.1, 3.5, 1.4, 0.2], [6.7, 3.0, 5.2, 2.3], [5.9, 3.0, 4.2, 1.5]]


def parameters(model_uri, **others):
    entries = [{"name": "model_uri", "value": model_uri, "type": "STRING"}]
    entries += [{"name": k, "value": v, "type": "STRING"} for k, v in others.items()]
    return {"PREDICTIVE_UNIT_PARAMETERS": json.dumps(entries), "PREDICTIVE_UNIT_ID": "xgb"}


def close(test, actual, expected):
    actual, expected = np.asarray(actual, dtype=float), np.asarray(expected, dtype=float)
    test.assertEqual(actual.shape, expected.shape)
    test.assertTrue(np.allclose(actual, expected, rtol=0, atol=1e-6), "%s vs %s" % (actual, expected))


def needs_xgboost(test_class):
    if xgboost is None and not IN_CI:
        return unittest.skip("xgboost is not installed in this Python (apt-get install python3-xgboost)")(test_class)
    return test_class


@needs_xgboost
class XGBoostServerTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        if xgboost is None:
            raise AssertionError("xgboost is missing in CI: .ci/run installs python3-xgboost")
        cls.folder = tempfile.mkdtemp(prefix="trantor-xgb-")
        X, y = load_iris(return_X_y=True)
        # A classifier saved by the scikit-learn interface, as model.json.
        cls.classifier = xgboost.XGBClassifier(n_estimators=8, max_depth=2, random_state=0, n_jobs=1).fit(X, y)
        os.mkdir(os.path.join(cls.folder, "classifier"))
        cls.classifier.save_model(os.path.join(cls.folder, "classifier", "model.json"))
        # A raw booster of a binary task, in the old binary format (model.bst), as Seldon documents.
        booster = xgboost.train(
            {"objective": "binary:logistic", "max_depth": 2, "nthread": 1, "seed": 0},
            xgboost.DMatrix(X, label=(y == 2).astype(int)),
            num_boost_round=6,
        )
        os.mkdir(os.path.join(cls.folder, "booster"))
        booster.save_model(os.path.join(cls.folder, "booster", "model.bst"))
        cls.booster = xgboost.Booster(model_file=os.path.join(cls.folder, "booster", "model.bst"))
        cls.own = xgboost.Booster(model_file=os.path.join(cls.folder, "classifier", "model.json"))
        cls.multi = Server(SERVER, cwd=cls.folder, env=parameters(os.path.join(cls.folder, "classifier")))
        cls.binary = Server(SERVER, cwd=cls.folder, env=parameters("file://" + os.path.join(cls.folder, "booster")))

    @classmethod
    def tearDownClass(cls):
        cls.multi.stop()
        cls.binary.stop()
        shutil.rmtree(cls.folder, ignore_errors=True)

    def test_seldon_protocol_answers_the_boosters_predict_on_a_dmatrix(self):
        status, reply = self.multi.post_json("/api/v1.0/predictions", {"data": {"ndarray": ROWS}})
        self.assertEqual(status, 200, reply)
        self.assertEqual(reply["data"]["names"], ["t:0", "t:1", "t:2"])
        close(self, reply["data"]["ndarray"], self.own.predict(xgboost.DMatrix(np.array(ROWS))))

    def test_a_binary_booster_answers_the_probability_of_one(self):
        status, reply = self.binary.post_json("/predict", {"data": {"tensor": {"shape": [3, 4], "values": sum(ROWS, [])}}})
        self.assertEqual(status, 200, reply)
        self.assertEqual(reply["data"]["tensor"]["shape"], [3])
        close(self, reply["data"]["tensor"]["values"], self.booster.predict(xgboost.DMatrix(np.array(ROWS))))

    def test_five_features_is_a_400_saying_four_were_expected(self):
        status, reply = self.multi.post_json("/predict", {"data": {"ndarray": [[1, 2, 3, 4, 5]]}})
        self.assertEqual(status, 400)
        self.assertEqual(reply["status"]["info"], "expected 4 features per row, got 5 (data.ndarray has rows of 5)")

    def test_strings_are_a_400_naming_the_field(self):
        status, reply = self.multi.post_json("/predict", {"data": {"ndarray": [["a", "b", "c", "d"]]}})
        self.assertEqual(status, 400)
        self.assertIn("data.ndarray: expected numbers", reply["status"]["info"])

    def test_v2_predict_is_the_classifiers_predict_by_default(self):
        body = {"inputs": [{"name": "input-0", "datatype": "FP32", "shape": [3, 4], "data": sum(ROWS, [])}]}
        status, reply = self.multi.post_json("/v2/models/xgb/infer", body)
        self.assertEqual(status, 200, reply)
        [output] = reply["outputs"]
        self.assertEqual(output["name"], "predict")
        expected = self.classifier.predict(np.array(ROWS, dtype=np.float32))
        self.assertEqual(output["shape"], [3, 1])
        self.assertEqual(output["data"], expected.tolist())

    def test_v2_predict_proba_when_asked(self):
        body = {
            "inputs": [{"name": "input-0", "datatype": "FP64", "shape": [3, 4], "data": sum(ROWS, [])}],
            "outputs": [{"name": "predict_proba"}, {"name": "predict"}],
        }
        status, reply = self.multi.post_json("/v2/models/xgb/infer", body)
        self.assertEqual(status, 200, reply)
        self.assertEqual([o["name"] for o in reply["outputs"]], ["predict_proba", "predict"])
        proba = reply["outputs"][0]
        self.assertEqual(proba["shape"], [3, 3])
        close(self, np.reshape(proba["data"], (3, 3)), self.classifier.predict_proba(np.array(ROWS)))

    def test_v2_a_booster_is_a_regressor_without_predict_proba(self):
        body = {"inputs": [{"name": "x", "datatype": "FP64", "shape": [3, 4], "data": sum(ROWS, [])}], "outputs": [{"name": "predict_proba"}]}
        status, reply = self.binary.post_json("/v2/models/xgb/infer", body)
        self.assertEqual(status, 400)
        self.assertIn("XGBRegressor models do not support 'predict_proba'", reply["error"])
        body["outputs"] = [{"name": "predict"}]
        status, reply = self.binary.post_json("/v2/models/xgb/infer", body)
        self.assertEqual(status, 200, reply)
        close(self, reply["outputs"][0]["data"], self.booster.predict(xgboost.DMatrix(np.array(ROWS))))

    def test_v2_other_outputs_are_a_400_listing_the_two(self):
        body = {"inputs": [{"name": "x", "datatype": "FP64", "shape": [1, 4], "data": ROWS[0]}], "outputs": [{"name": "transform"}]}
        status, reply = self.multi.post_json("/v2/models/xgb/infer", body)
        self.assertEqual(status, 400)
        self.assertIn("outputs[0].name: XGBOOST_SERVER answers 'predict' and 'predict_proba'", reply["error"])


@needs_xgboost
class XGBoostStartupTest(unittest.TestCase):
    def test_a_folder_without_a_model_file_names_the_three_it_looked_for(self):
        folder = tempfile.mkdtemp(prefix="trantor-xgb-empty-")
        try:
            open(os.path.join(folder, "model.joblib"), "wb").close()
            result = run_to_exit(microservice_command(SERVER), cwd=FIXTURES, env=parameters(folder))
            self.assertEqual(result.returncode, 1)
            self.assertIn("no model.bst, model.json or model.ubj in " + folder + " (found: model.joblib)", result.stderr)
        finally:
            shutil.rmtree(folder)

    def test_a_file_that_is_not_a_model_fails_naming_it(self):
        folder = tempfile.mkdtemp(prefix="trantor-xgb-bad-")
        try:
            with open(os.path.join(folder, "model.json"), "w") as f:
                f.write("not json")
            result = run_to_exit(microservice_command(SERVER), cwd=FIXTURES, env=parameters(folder))
            self.assertEqual(result.returncode, 1)
            self.assertIn("cannot load " + os.path.join(folder, "model.json") + " with xgboost", result.stderr)
        finally:
            shutil.rmtree(folder)

    def test_an_unknown_parameter_is_refused(self):
        result = run_to_exit(microservice_command(SERVER), cwd=FIXTURES, env=parameters("/tmp", method="predict"))
        self.assertEqual(result.returncode, 1)
        self.assertIn("method", result.stderr)
