"""
Parity with MLServer: the same V2 requests sent to MLServer's sklearn runtime (the server Seldon
runs for a ``protocol: v2`` SKLEARN_SERVER) and to this host's SKLEARN_SERVER, serving the same
iris model file, answer field for field alike — but for the ``id`` MLServer generates (a fresh
UUID on both) and the differences listed in ``DIFFERENCES``, where MLServer answers a 500 with a
traceback or FastAPI's 422 and this host a 400 naming the field.

MLServer lives in its own virtualenv (``.ci/run`` makes it; ``TRANTOR_MLSERVER_PYTHON`` names its
python). Without it the test is skipped, saying why — except in CI (``CI=true``), where it fails.
"""

import http.client
import json
import os
import shutil
import subprocess
import tempfile
import time
import unittest

import joblib
from sklearn.datasets import load_iris
from sklearn.linear_model import LogisticRegression

from .support import Server, free_port

SKLEARN = "trantor_runtime.servers.sklearn.SKLearnServer"
DEFAULT_PYTHON = os.path.expanduser("~/.cache/trantor-ci/mlserver-venv/bin/python")
MLSERVER_PYTHON = os.environ.get("TRANTOR_MLSERVER_PYTHON") or DEFAULT_PYTHON
IN_CI = os.environ.get("CI", "") not in ("", "false")
START_TIMEOUT = 90
UUID = r"^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$"

ROW = [5.1, 3.5, 1.4, 0.2]


def tensor(datatype, shape, data):
    return {"name": "input-0", "datatype": datatype, "shape": shape, "data": data}


INFER = "/v2/models/iris/infer"

# (label, method, path, body): answered alike by both.
SAME = [
    ("server live", "GET", "/v2/health/live", None),
    ("server ready", "GET", "/v2/health/ready", None),
    ("model ready", "GET", "/v2/models/iris/ready", None),
    ("model metadata", "GET", "/v2/models/iris", None),
    ("unknown version", "GET", "/v2/models/iris/versions/3", None),
    ("unknown version ready", "GET", "/v2/models/iris/versions/3/ready", None),
    ("predict FP32", "POST", INFER, {"inputs": [tensor("FP32", [2, 4], [1, 2, 3, 4] + ROW)]}),
    ("predict FP64 nested", "POST", INFER, {"inputs": [tensor("FP64", [2, 4], [[6.7, 3.0, 5.2, 2.3], ROW])]}),
    ("predict INT64", "POST", INFER, {"inputs": [tensor("INT64", [1, 4], [6, 3, 5, 2])]}),
    ("predict INT32", "POST", INFER, {"inputs": [tensor("INT32", [1, 4], [1, 2, 3, 4])]}),
    ("predict FP16", "POST", INFER, {"inputs": [tensor("FP16", [1, 4], [5.9, 3.0, 5.1, 1.8])]}),
    ("predict UINT8", "POST", INFER, {"inputs": [tensor("UINT8", [1, 4], [6, 3, 5, 2])]}),
    ("predict with id", "POST", INFER, {"id": "request-7", "inputs": [tensor("FP32", [1, 4], ROW)]}),
    ("predict_proba FP64", "POST", INFER,
     {"id": "p", "inputs": [tensor("FP64", [3, 4], [1, 2, 3, 4] + ROW + [6.7, 3.0, 5.2, 2.3])], "outputs": [{"name": "predict_proba"}]}),
    ("predict_proba FP32", "POST", INFER, {"inputs": [tensor("FP32", [1, 4], ROW)], "outputs": [{"name": "predict_proba"}]}),
    ("both outputs INT64", "POST", INFER,
     {"inputs": [tensor("INT64", [1, 4], [1, 2, 3, 4])], "outputs": [{"name": "predict_proba"}, {"name": "predict"}]}),
    ("GET infer", "GET", INFER, None),
]

# (label, method, path, body, MLServer's status): same outcome, different words.
SAME_STATUS = [
    ("unknown model", "GET", "/v2/models/nope", None, 404),
    ("unknown model infer", "POST", "/v2/models/nope/infer", {"inputs": [tensor("FP32", [1, 4], ROW)]}, 404),
    ("unknown output", "POST", INFER, {"inputs": [tensor("FP32", [1, 4], ROW)], "outputs": [{"name": "foo"}]}, 400),
    ("no inputs", "POST", INFER, {"inputs": []}, 400),
    ("two inputs", "POST", INFER, {"inputs": [tensor("FP32", [1, 4], ROW), tensor("FP32", [1, 4], ROW)]}, 400),
]

# (label, method, path, body, MLServer's status, why): where this host answers 400 naming the field.
DIFFERENCES = [
    ("data shorter than shape", "POST", INFER, {"inputs": [tensor("FP32", [2, 4], [1, 2, 3, 4, 5, 6, 7])]}, 500,
     "MLServer: numpy's reshape ValueError as a traceback"),
    ("five features", "POST", INFER, {"inputs": [tensor("FP32", [1, 5], [1, 2, 3, 4, 5])]}, 500,
     "MLServer: scikit-learn's ValueError as a traceback"),
    ("one-dimensional shape", "POST", INFER, {"inputs": [tensor("FP32", [4], [1, 2, 3, 4])]}, 500,
     "MLServer: scikit-learn's 'Expected 2D array' as a traceback"),
    ("text in FP32", "POST", INFER, {"inputs": [tensor("FP32", [1, 4], ["a", 2, 3, 4])]}, 500,
     "MLServer: numpy's conversion ValueError as a traceback"),
    ("BYTES input", "POST", INFER, {"inputs": [tensor("BYTES", [1, 4], ["a", "b", "c", "d"])]}, 500,
     "MLServer: scikit-learn's dtype ValueError as a traceback"),
    ("zero rows", "POST", INFER, {"inputs": [tensor("FP32", [0, 4], [])]}, 500,
     "MLServer: a bare 500 from scikit-learn's 'Found array with 0 sample(s)'"),
    ("unknown datatype", "POST", INFER, {"inputs": [tensor("FP33", [1, 4], [1, 2, 3, 4])]}, 422,
     "MLServer: FastAPI's validation 422"),
    ("no inputs field", "POST", INFER, {}, 422, "MLServer: FastAPI's validation 422"),
    ("not JSON", "POST", INFER, b'{"inputs":[', 422, "MLServer: FastAPI's validation 422"),
]


def _request(port, method, path, body):
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    try:
        headers = {}
        if body is not None:
            headers["Content-Type"] = "application/json"
            if not isinstance(body, bytes):
                body = json.dumps(body)
        conn.request(method, path, body=body, headers=headers)
        response = conn.getresponse()
        return response.status, response.read()
    finally:
        conn.close()


def _parsed(data):
    try:
        return json.loads(data) if data else data
    except ValueError:
        return data


def _rounded(answer):
    """Probabilities to 12 significant digits: MLServer's venv has its own scikit-learn and numpy,
    whose arithmetic differs from the system's in the last bits (test_v2.py checks ours exactly)."""
    status, body = answer
    if isinstance(body, dict):
        for output in body.get("outputs", []):
            if output.get("datatype") == "FP64":
                output["data"] = [float("%.12g" % x) for x in output["data"]]
    return status, body


class MLServerPeer:
    """MLServer serving ``folder``'s model-settings.json on free ports."""

    def __init__(self, folder):
        self.port = free_port()
        settings = {
            "host": "127.0.0.1", "http_port": self.port, "grpc_port": free_port(), "metrics_port": free_port(),
            "parallel_workers": 0, "debug": False,
        }
        with open(os.path.join(folder, "settings.json"), "w", encoding="utf-8") as out:
            json.dump(settings, out)
        self.log = tempfile.TemporaryFile()
        self.process = subprocess.Popen(
            [MLSERVER_PYTHON, "-c", "import sys; from mlserver.cli import main; sys.argv[0] = 'mlserver'; sys.exit(main())", "start", folder],
            cwd=folder, stdout=self.log, stderr=subprocess.STDOUT,
        )
        deadline = time.monotonic() + START_TIMEOUT
        while True:
            if self.process.poll() is not None:
                raise AssertionError("MLServer exited with %s:\n%s" % (self.process.returncode, self.output()))
            try:
                if _request(self.port, "GET", "/v2/models/iris/ready", None)[0] == 200:
                    return
            except OSError:
                pass
            if time.monotonic() > deadline:
                self.stop()
                raise AssertionError("MLServer did not get ready in %d s:\n%s" % (START_TIMEOUT, self.output()))
            try:
                self.process.wait(timeout=0.2)  # returns early only if it exits
            except subprocess.TimeoutExpired:
                pass

    def output(self):
        self.log.seek(0)
        return self.log.read().decode("utf-8", "replace")[-4000:]

    def stop(self):
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        self.log.close()


@unittest.skipUnless(
    IN_CI or os.path.exists(MLSERVER_PYTHON),
    "MLServer is not installed at %s (set TRANTOR_MLSERVER_PYTHON; .ci/run installs it)" % MLSERVER_PYTHON,
)
class MLServerParityTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        if not os.path.exists(MLSERVER_PYTHON):
            raise AssertionError("CI needs MLServer at " + MLSERVER_PYTHON + " (TRANTOR_MLSERVER_PYTHON)")
        cls.folder = tempfile.mkdtemp(prefix="trantor-mlserver-")
        model_folder = os.path.join(cls.folder, "iris")
        os.mkdir(model_folder)
        X, y = load_iris(return_X_y=True)
        joblib.dump(LogisticRegression(max_iter=1000, random_state=0).fit(X, y), os.path.join(model_folder, "model.joblib"))
        with open(os.path.join(model_folder, "model-settings.json"), "w", encoding="utf-8") as out:
            json.dump({"name": "iris", "implementation": "mlserver_sklearn.SKLearnModel", "parameters": {"uri": "./model.joblib"}}, out)
        cls.ours = None
        cls.theirs = MLServerPeer(cls.folder)
        try:
            parameters = json.dumps([{"name": "model_uri", "value": model_folder, "type": "STRING"}])
            cls.ours = Server(SKLEARN, cwd=model_folder, env={"PREDICTIVE_UNIT_PARAMETERS": parameters, "PREDICTIVE_UNIT_ID": "iris"})
        except BaseException:
            cls.theirs.stop()
            raise

    @classmethod
    def tearDownClass(cls):
        cls.theirs.stop()
        if cls.ours is not None:
            cls.ours.stop()
        shutil.rmtree(cls.folder, ignore_errors=True)

    def both(self, method, path, body):
        ours = _request(self.ours.port, method, path, body)
        theirs = _request(self.theirs.port, method, path, body)
        return (ours[0], _parsed(ours[1])), (theirs[0], _parsed(theirs[1]))

    def test_same_answers_field_for_field(self):
        for label, method, path, body in SAME:
            with self.subTest(label):
                ours, theirs = self.both(method, path, body)
                if isinstance(ours[1], dict) and isinstance(theirs[1], dict) and "id" in ours[1] and not (body or {}).get("id"):
                    # Both generate a fresh UUID when the request has no id.
                    self.assertRegex(ours[1]["id"], UUID)
                    self.assertRegex(theirs[1]["id"], UUID)
                    ours[1]["id"] = theirs[1]["id"] = "generated"
                if label == "GET infer":
                    # FastAPI's own 405 body; ours says what to use. Both allow POST only.
                    self.assertEqual((ours[0], theirs[0]), (405, 405))
                    continue
                self.assertEqual(_rounded(ours), _rounded(theirs))

    def test_same_status_for_these_errors(self):
        for label, method, path, body, status in SAME_STATUS:
            with self.subTest(label):
                ours, theirs = self.both(method, path, body)
                self.assertEqual(theirs[0], status, theirs[1])
                self.assertEqual(ours[0], status, ours[1])
                self.assertEqual(sorted(ours[1]), ["error"])
                if status == 404:
                    self.assertTrue(ours[1]["error"].startswith(theirs[1]["error"]), (ours[1], theirs[1]))

    def test_clearer_400_where_mlserver_answers_500_or_422(self):
        for label, method, path, body, status, why in DIFFERENCES:
            with self.subTest(label, why=why):
                ours, theirs = self.both(method, path, body)
                self.assertEqual(theirs[0], status, theirs[1])
                self.assertEqual(ours[0], 400, ours[1])
                self.assertEqual(sorted(ours[1]), ["error"])
                self.assertRegex(ours[1]["error"], r"^(inputs|body)")

    def test_server_metadata_has_the_same_fields(self):
        ours, theirs = self.both("GET", "/v2", None)
        self.assertEqual((ours[0], theirs[0]), (200, 200))
        self.assertEqual(sorted(ours[1]), sorted(theirs[1]))
        self.assertEqual(theirs[1]["name"], "mlserver")


if __name__ == "__main__":
    unittest.main()
