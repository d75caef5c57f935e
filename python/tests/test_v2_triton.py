"""
Triton's own Python client (``tritonclient.http``) straight at the host: readiness, metadata,
FP32 iris inference with JSON and binary tensors, BYTES, and an error's status and message.

The client lives in its own virtualenv (``.ci/run`` makes it; ``TRANTOR_TRITON_PYTHON`` names
its python). Without it the test is skipped, saying why — except in CI (``CI=true``), where it fails.
"""

import json
import os
import shutil
import subprocess
import tempfile
import unittest

import joblib
import numpy as np
from sklearn.datasets import load_iris
from sklearn.linear_model import LogisticRegression

from .support import FIXTURES, Server

DEFAULT_PYTHON = os.path.expanduser("~/.cache/trantor-ci/triton-venv/bin/python")
TRITON_PYTHON = os.environ.get("TRANTOR_TRITON_PYTHON") or DEFAULT_PYTHON
IN_CI = os.environ.get("CI", "") not in ("", "false")
ROWS = [[5.1, 3.5, 1.4, 0.2], [6.7, 3.0, 5.2, 2.3]]

# Runs in the client's virtualenv: argv is the iris port and the Echo port; prints one JSON object.
CLIENT = r"""
import json, sys
import numpy as np
import tritonclient.http as http
from tritonclient.utils import InferenceServerException

iris = http.InferenceServerClient("127.0.0.1:" + sys.argv[1])
echo = http.InferenceServerClient("127.0.0.1:" + sys.argv[2])
out = {
    "live": iris.is_server_live(), "ready": iris.is_server_ready(),
    "model_ready": iris.is_model_ready("iris"), "unknown_ready": iris.is_model_ready("nope"),
    "metadata": iris.get_model_metadata("iris"), "server": iris.get_server_metadata(),
}
rows = np.array(ROWS, dtype=np.float32)
for binary in (True, False):
    x = http.InferInput("x", [2, 4], "FP32")
    x.set_data_from_numpy(rows, binary_data=binary)
    wanted = [http.InferRequestedOutput(n, binary_data=binary) for n in ("predict_proba", "predict")]
    r = iris.infer("iris", [x], outputs=wanted, request_id="r-%s" % binary)
    out["iris_%s" % binary] = {
        "predict_proba": r.as_numpy("predict_proba").tolist(), "predict": r.as_numpy("predict").tolist(),
        "response": r.get_response(),
    }
text = np.array([b"\x00\xffraw", "héllo".encode(), b""], dtype=np.object_)
for binary in (True, False):
    if not binary:
        text = text[1:]
    x = http.InferInput("x", [len(text)], "BYTES")
    x.set_data_from_numpy(text, binary_data=binary)
    r = echo.infer("Echo", [x], outputs=[http.InferRequestedOutput("predict", binary_data=binary)])
    out["bytes_%s" % binary] = [v.hex() if isinstance(v, bytes) else v.encode().hex() for v in r.as_numpy("predict").ravel()]
x = http.InferInput("x", [1, 5], "FP32")
x.set_data_from_numpy(np.ones((1, 5), dtype=np.float32))
try:
    iris.infer("iris", [x])
except InferenceServerException as exc:
    out["error"] = {"status": exc.status(), "message": exc.message()}
print(json.dumps(out))
""".replace("ROWS", repr(ROWS))


@unittest.skipUnless(
    IN_CI or os.path.exists(TRITON_PYTHON),
    "tritonclient is not installed at %s (set TRANTOR_TRITON_PYTHON; .ci/run installs it)" % TRITON_PYTHON,
)
class TritonClientTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        if not os.path.exists(TRITON_PYTHON):
            raise AssertionError("CI needs tritonclient at " + TRITON_PYTHON + " (TRANTOR_TRITON_PYTHON)")
        cls.folder = tempfile.mkdtemp(prefix="trantor-triton-")
        X, y = load_iris(return_X_y=True)
        cls.model = LogisticRegression(max_iter=1000, random_state=0).fit(X, y)
        joblib.dump(cls.model, os.path.join(cls.folder, "model.joblib"))
        parameters = json.dumps([{"name": "model_uri", "value": cls.folder, "type": "STRING"}])
        cls.iris = Server("trantor_runtime.servers.sklearn.SKLearnServer", cwd=cls.folder,
                          env={"PREDICTIVE_UNIT_PARAMETERS": parameters, "PREDICTIVE_UNIT_ID": "iris"})
        cls.echo = Server("contract_models.Echo", cwd=FIXTURES)
        run = subprocess.run([TRITON_PYTHON, "-c", CLIENT, str(cls.iris.port), str(cls.echo.port)],
                             stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, timeout=120)
        if run.returncode != 0:
            cls.tearDownClass()
            raise AssertionError("the tritonclient script failed:\n" + run.stderr)
        cls.out = json.loads(run.stdout)

    @classmethod
    def tearDownClass(cls):
        cls.iris.stop()
        cls.echo.stop()
        shutil.rmtree(cls.folder, ignore_errors=True)

    def test_readiness_and_metadata(self):
        out = self.out
        self.assertEqual((out["live"], out["ready"], out["model_ready"], out["unknown_ready"]), (True, True, True, False))
        self.assertEqual(out["metadata"], {"name": "iris", "versions": [], "platform": "", "inputs": [], "outputs": [], "parameters": {}})
        self.assertEqual(out["server"]["extensions"], ["binary_tensor_data"])

    def test_fp32_iris_with_binary_and_json_tensors(self):
        rows = np.array(ROWS, dtype=np.float32)
        for binary in ("True", "False"):
            result = self.out["iris_" + binary]
            self.assertEqual(result["predict_proba"], self.model.predict_proba(rows).tolist())
            self.assertEqual(result["predict"], self.model.predict(rows).reshape(2, 1).tolist())
            self.assertEqual(result["response"]["id"], "r-" + binary)
            proba = result["response"]["outputs"][0]
            self.assertEqual((proba["datatype"], proba["shape"]), ("FP64", [2, 3]))
            self.assertEqual("binary_data_size" in proba["parameters"], binary == "True")

    def test_bytes_round_trip(self):
        self.assertEqual(self.out["bytes_True"], [b"\x00\xffraw".hex(), "héllo".encode().hex(), ""])
        self.assertEqual(self.out["bytes_False"], ["héllo".encode().hex(), ""])

    def test_an_error_reaches_the_client_with_status_and_message(self):
        self.assertEqual(self.out["error"], {
            "status": "400", "message": "inputs[0].shape: expected [rows, 4] (rows of 4 features), got [1, 5]",
        })


if __name__ == "__main__":
    unittest.main()
