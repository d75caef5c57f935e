"""
MLFLOW_SERVER: an MLflow pyfunc model (scikit-learn flavour) saved by mlflow here answers what the
pyfunc model's own ``predict`` gives — on Seldon's protocol with ``xtype`` ndarray and DataFrame,
and on V2 (mlserver-mlflow's output names).

mlflow lives in its own virtualenv (``.ci/run`` makes ``~/.cache/trantor-ci/mlflow-venv``;
``TRANTOR_MLFLOW_PYTHON`` names its python). The server and the model's own answers run in that
Python. Without it the tests are skipped saying so, except in CI (``CI=true``) where they fail.
"""

import json
import os
import shutil
import subprocess
import tempfile
import unittest

import numpy as np

from .support import FIXTURES, Server, child_env

SERVER = "trantor_runtime.servers.mlflow.MLFlowServer"
DEFAULT_PYTHON = os.path.expanduser("~/.cache/trantor-ci/mlflow-venv/bin/python")
MLFLOW_PYTHON = os.environ.get("TRANTOR_MLFLOW_PYTHON") or DEFAULT_PYTHON
IN_CI = os.environ.get("CI", "") not in ("", "false")
ROWS = [[5.1, 3.5, 1.4, 0.2], [6.7, 3.0, 5.2, 2.3], [5.9, 3.0, 4.2, 1.5]]
COLUMNS = ["sepal_length", "sepal_width", "petal_length", "petal_width"]

# Run in the mlflow Python: saves two pyfunc models (one with a column signature) and prints
# what each answers for ROWS.
TRAIN = """
import json, sys
import numpy as np, pandas as pd
import mlflow.pyfunc, mlflow.sklearn
from mlflow.models import infer_signature
from sklearn.datasets import load_iris
from sklearn.linear_model import LogisticRegression
folder, rows, columns = sys.argv[1], json.loads(sys.argv[2]), json.loads(sys.argv[3])
X, y = load_iris(return_X_y=True)
model = LogisticRegression(max_iter=1000, random_state=0).fit(X, y)
mlflow.sklearn.save_model(model, folder + "/plain", serialization_format="cloudpickle")
frame = pd.DataFrame(X, columns=columns)
named = LogisticRegression(max_iter=1000, random_state=0).fit(frame, y)
mlflow.sklearn.save_model(named, folder + "/named", serialization_format="cloudpickle",
                          signature=infer_signature(frame, named.predict(frame)))
plain = mlflow.pyfunc.load_model(folder + "/plain")
signed = mlflow.pyfunc.load_model(folder + "/named")
print(json.dumps({
    "plain": plain.predict(np.array(rows)).tolist(),
    "frame": plain.predict(pd.DataFrame(np.array(rows))).tolist(),
    "named": signed.predict(pd.DataFrame(np.array(rows), columns=columns)).tolist(),
}))
"""


def has_mlflow():
    if not os.path.exists(MLFLOW_PYTHON):
        return False
    return subprocess.run([MLFLOW_PYTHON, "-c", "import mlflow.pyfunc, sklearn"], capture_output=True).returncode == 0


AVAILABLE = has_mlflow()


def parameters(model_uri, **others):
    entries = [{"name": "model_uri", "value": model_uri, "type": "STRING"}]
    entries += [{"name": k, "value": v, "type": "STRING"} for k, v in others.items()]
    return {"PREDICTIVE_UNIT_PARAMETERS": json.dumps(entries), "PREDICTIVE_UNIT_ID": "wines"}


def command():
    return [MLFLOW_PYTHON, "-m", "trantor_runtime.microservice", SERVER, "REST", "--service-type", "MODEL", "--persistence", "0"]


def needs_mlflow(test_class):
    if not AVAILABLE and not IN_CI:
        return unittest.skip("no mlflow Python at %s (TRANTOR_MLFLOW_PYTHON; .ci/run makes it)" % MLFLOW_PYTHON)(test_class)
    return test_class


def close(test, actual, expected):
    actual, expected = np.asarray(actual, dtype=float), np.asarray(expected, dtype=float)
    test.assertEqual(actual.shape, expected.shape)
    test.assertTrue(np.allclose(actual, expected, rtol=0, atol=1e-6), "%s vs %s" % (actual, expected))


@needs_mlflow
class MLFlowServerTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        if not AVAILABLE:
            raise AssertionError("no mlflow Python at %s in CI: .ci/run makes it" % MLFLOW_PYTHON)
        cls.folder = tempfile.mkdtemp(prefix="trantor-mlflow-")
        trained = subprocess.run(
            [MLFLOW_PYTHON, "-c", TRAIN, cls.folder, json.dumps(ROWS), json.dumps(COLUMNS)],
            capture_output=True, text=True, env=child_env(), timeout=120,
        )
        if trained.returncode != 0:
            raise AssertionError("training failed:\n" + trained.stderr)
        cls.expected = json.loads(trained.stdout.strip().splitlines()[-1])
        plain = os.path.join(cls.folder, "plain")
        named = os.path.join(cls.folder, "named")
        cls.ndarray = Server(SERVER, cwd=FIXTURES, command=command(), env=parameters(plain))
        cls.frame = Server(SERVER, cwd=FIXTURES, command=command(), env=parameters("file://" + plain, xtype="DataFrame"))
        cls.named = Server(SERVER, cwd=FIXTURES, command=command(), env=parameters(os.path.join(named, "MLmodel"), xtype="DataFrame"))

    @classmethod
    def tearDownClass(cls):
        for server in (cls.ndarray, cls.frame, cls.named):
            server.stop()
        shutil.rmtree(cls.folder, ignore_errors=True)

    def test_ndarray_xtype_answers_the_pyfunc_predict_of_the_array(self):
        status, reply = self.ndarray.post_json("/api/v1.0/predictions", {"data": {"ndarray": ROWS}})
        self.assertEqual(status, 200, reply)
        close(self, reply["data"]["ndarray"], self.expected["plain"])

    def test_dataframe_xtype_without_names_has_numbered_columns(self):
        status, reply = self.frame.post_json("/predict", {"data": {"tensor": {"shape": [3, 4], "values": sum(ROWS, [])}}})
        self.assertEqual(status, 200, reply)
        close(self, reply["data"]["tensor"]["values"], self.expected["frame"])

    def test_dataframe_xtype_names_are_the_columns_the_signature_checks(self):
        status, reply = self.named.post_json("/predict", {"data": {"names": COLUMNS, "ndarray": ROWS}})
        self.assertEqual(status, 200, reply)
        close(self, reply["data"]["ndarray"], self.expected["named"])
        wrong = ["a", "b", "c", "d"]
        status, reply = self.named.post_json("/predict", {"data": {"names": wrong, "ndarray": ROWS}})
        self.assertEqual(status, 400, reply)
        self.assertIn("data.ndarray: the model's signature rejected the input", reply["status"]["info"])
        status, reply = self.named.post_json("/predict", {"data": {"names": COLUMNS[:3], "ndarray": ROWS}})
        self.assertEqual(status, 400, reply)
        self.assertIn("data.names: 3 names for rows of 4 values", reply["status"]["info"])

    def test_v2_one_input_answers_output_1(self):
        body = {"inputs": [{"name": "input-0", "datatype": "FP64", "shape": [3, 4], "data": sum(ROWS, [])}]}
        status, reply = self.ndarray.post_json("/v2/models/wines/infer", body)
        self.assertEqual(status, 200, reply)
        [output] = reply["outputs"]
        self.assertEqual((output["name"], output["shape"]), ("output-1", [3, 1]))
        close(self, output["data"], self.expected["plain"])

    def test_v2_inputs_are_the_columns_of_a_signed_model(self):
        inputs = [{"name": c, "datatype": "FP64", "shape": [3], "data": [r[i] for r in ROWS]} for i, c in enumerate(COLUMNS)]
        status, reply = self.named.post_json("/v2/models/wines/infer", {"inputs": inputs})
        self.assertEqual(status, 200, reply)
        close(self, reply["outputs"][0]["data"], self.expected["named"])
        status, reply = self.named.post_json("/v2/models/wines/infer", {"inputs": inputs, "outputs": [{"name": "predict_proba"}]})
        self.assertEqual(status, 400, reply)
        self.assertIn("outputs[0].name: the model answers 'output-1', not 'predict_proba'", reply["error"])
        inputs[1] = dict(inputs[1], shape=[2], data=[1.0, 2.0])
        status, reply = self.named.post_json("/v2/models/wines/infer", {"inputs": inputs})
        self.assertEqual(status, 400, reply)
        self.assertIn("inputs[1]: 2 rows, the inputs before it have 3", reply["error"])


@needs_mlflow
class MLFlowStartupTest(unittest.TestCase):
    def run_server(self, env):
        return subprocess.run(command(), cwd=FIXTURES, env=child_env(env), capture_output=True, text=True, timeout=120)

    def test_a_folder_without_mlmodel_fails_saying_what_it_needs(self):
        folder = tempfile.mkdtemp(prefix="trantor-mlflow-empty-")
        try:
            open(os.path.join(folder, "model.pkl"), "wb").close()
            result = self.run_server(parameters(folder))
            self.assertEqual(result.returncode, 1)
            self.assertIn("no MLmodel in " + folder + " (found: model.pkl)", result.stderr)
        finally:
            shutil.rmtree(folder)

    def test_a_model_whose_flavour_is_not_installed_fails_saying_to_install_it(self):
        folder = tempfile.mkdtemp(prefix="trantor-mlflow-flavour-")
        try:
            with open(os.path.join(folder, "MLmodel"), "w") as f:
                f.write("flavors:\n  python_function:\n    loader_module: trantor_no_such_flavour\n    model_path: model.bin\n")
            result = self.run_server(parameters(folder))
            self.assertEqual(result.returncode, 1)
            self.assertIn("cannot load the model in " + folder + ": ModuleNotFoundError", result.stderr)
            self.assertIn("install the model's flavour in the Python serving it", result.stderr)
        finally:
            shutil.rmtree(folder)

    def test_an_unknown_xtype_is_refused_listing_both(self):
        result = self.run_server(parameters("/tmp", xtype="list"))
        self.assertEqual(result.returncode, 1)
        self.assertIn("parameter xtype: expected one of ndarray, DataFrame, got 'list'", result.stderr)
