"""onnx_export: the load-time helper of trantor.io/sklearn-onnx (sample rows, model.onnx beside, refusals)."""

import importlib.util
import io
import json
import os
import shutil
import subprocess
import sys
import tempfile
import unittest
from contextlib import redirect_stderr, redirect_stdout

import joblib
import numpy as np
from sklearn.datasets import load_iris
from sklearn.linear_model import LogisticRegression
from sklearn.naive_bayes import GaussianNB
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import MinMaxScaler, StandardScaler

from trantor_runtime import onnx_export

HAS_SKL2ONNX = importlib.util.find_spec("skl2onnx") is not None
# The conversion runs in a Python with skl2onnx: this one, or TRANTOR_ONNX_PYTHON (.ci/run sets it).
ONNX_PYTHON = sys.executable if HAS_SKL2ONNX else os.environ.get("TRANTOR_ONNX_PYTHON", "")
IN_CI = os.environ.get("CI") == "true"


class SampleRowsTest(unittest.TestCase):
    def setUp(self):
        self.X, self.y = load_iris(return_X_y=True)

    def test_seeded_rows_are_the_same_each_time_and_float32(self):
        model = LogisticRegression(max_iter=1000).fit(self.X, self.y)
        a, drawn = onnx_export.sample_rows(model, 4, 16, 0)
        b, _ = onnx_export.sample_rows(model, 4, 16, 0)
        np.testing.assert_array_equal(a, b)
        self.assertEqual(a.shape, (16, 4))
        np.testing.assert_array_equal(a, a.astype(np.float32).astype(np.float64))
        self.assertEqual(drawn, "uniform in [-5, 5) per feature, seed 0")
        self.assertTrue(((a >= -5) & (a < 5)).all())
        c, _ = onnx_export.sample_rows(model, 4, 16, 1)
        self.assertFalse(np.array_equal(a, c))

    def test_rows_follow_the_models_own_statistics_when_it_has_them(self):
        scaled = make_pipeline(StandardScaler(), LogisticRegression(max_iter=1000)).fit(self.X, self.y)
        rows, drawn = onnx_export.sample_rows(scaled, 4, 2000, 0)
        self.assertIn("StandardScaler's mean_ and scale_", drawn)
        np.testing.assert_allclose(rows.mean(axis=0), self.X.mean(axis=0), atol=0.15)
        ranged = make_pipeline(MinMaxScaler(), LogisticRegression(max_iter=1000)).fit(self.X, self.y)
        rows, drawn = onnx_export.sample_rows(ranged, 4, 200, 0)
        self.assertIn("MinMaxScaler's data_min_..data_max_", drawn)
        self.assertTrue((rows >= self.X.min(axis=0) - 1e-5).all() and (rows <= self.X.max(axis=0) + 1e-5).all())
        _, drawn = onnx_export.sample_rows(GaussianNB().fit(self.X, self.y), 4, 10, 0)
        self.assertIn("GaussianNB's theta_ and var_", drawn)


class ExportTest(unittest.TestCase):
    def setUp(self):
        self.dir = tempfile.mkdtemp(prefix="trantor-onnx-export-")
        X, y = load_iris(return_X_y=True)
        self.model_dir = os.path.join(self.dir, "model")
        os.makedirs(self.model_dir)
        self.model_file = os.path.join(self.model_dir, "model.joblib")
        joblib.dump(LogisticRegression(max_iter=1000).fit(X, y), self.model_file)
        self.out = os.path.join(self.dir, "out")

    def tearDown(self):
        shutil.rmtree(self.dir, ignore_errors=True)

    def run_main(self, *args):
        out, err = io.StringIO(), io.StringIO()
        with redirect_stdout(out), redirect_stderr(err):
            code = onnx_export.main(list(args))
        return code, out.getvalue(), err.getvalue()

    def test_a_model_onnx_beside_is_used_and_the_estimators_answers_given(self):
        with open(os.path.join(self.model_dir, "model.onnx"), "wb") as f:
            f.write(b"not read by the helper")
        code, out, _ = self.run_main(self.model_file, self.out, "--rows", "5")
        self.assertEqual(code, 0)
        answer = json.loads(out)
        self.assertEqual(answer["onnx"], os.path.join(self.model_dir, "model.onnx"))
        self.assertEqual(answer["n_features"], 4)
        self.assertEqual(len(answer["rows"]), 5)
        model = joblib.load(self.model_file)
        np.testing.assert_allclose(answer["expected"]["predict_proba"], model.predict_proba(np.array(answer["rows"])))
        self.assertEqual(answer["expected"]["predict"], model.predict(np.array(answer["rows"])).tolist())
        self.assertFalse(os.path.exists(self.out))

    def test_an_unfitted_or_unloadable_model_is_refused_with_exit_2(self):
        joblib.dump(LogisticRegression(), self.model_file)
        code, _, err = self.run_main(self.model_file, self.out)
        self.assertEqual(code, 2)
        self.assertIn("has no n_features_in_ (is it fitted?)", err)
        with open(self.model_file, "wb") as f:
            f.write(b"not a pickle")
        code, _, err = self.run_main(self.model_file, self.out)
        self.assertEqual(code, 2)
        self.assertIn("cannot load " + self.model_file, err)

    @unittest.skipUnless(ONNX_PYTHON or IN_CI, "no Python with skl2onnx: set TRANTOR_ONNX_PYTHON")
    def test_conversion_writes_into_the_out_folder_only(self):
        self.assertTrue(ONNX_PYTHON, "no Python with skl2onnx: .ci/run sets TRANTOR_ONNX_PYTHON")
        before = sorted(os.listdir(self.model_dir))
        package = os.path.dirname(os.path.dirname(os.path.abspath(onnx_export.__file__)))
        result = subprocess.run(
            [ONNX_PYTHON, "-m", "trantor_runtime.onnx_export", self.model_file, self.out],
            capture_output=True, text=True, env={**os.environ, "PYTHONPATH": package}, check=False,
        )
        self.assertEqual(result.returncode, 0, result.stderr)
        answer = json.loads(result.stdout)
        self.assertTrue(answer["onnx"].startswith(self.out + os.sep))
        self.assertTrue(answer["source"].startswith("skl2onnx "))
        self.assertEqual(answer["input"], "X")
        self.assertEqual(sorted(os.listdir(self.model_dir)), before)
        self.assertEqual([f for f in os.listdir(self.out) if f.endswith(".partial")], [])


if __name__ == "__main__":
    unittest.main()
