"""
The load-time half of serving a SKLEARN_SERVER model as ONNX (``trantor.io/sklearn-onnx``):
run once by the Node host's ``SklearnOnnxServer`` as a child process.

    python -m trantor_runtime.onnx_export MODEL_JOBLIB OUT_DIR [--rows N] [--seed S]

Loads the estimator, converts it with skl2onnx (``zipmap=False``, one float32 input ``X`` of
``n_features_in_`` columns) unless a ``model.onnx`` lies beside the joblib file, writes the ONNX
file into OUT_DIR (never beside the model: that folder may be read-only or a shared cache), draws
sample rows and answers, on stdout, one JSON object: the ONNX file, where it came from, the input's
name, the feature count, the rows and the estimator's own ``predict_proba`` / ``predict`` /
``decision_function`` on them, for the caller to compare with ONNX Runtime's.

Sample rows, seeded (``numpy.random.default_rng(seed)``) and rounded to float32 (what the ONNX
model sees) before the estimator answers them: from the model's own statistics when it has them
(a StandardScaler's ``mean_``/``scale_``, a MinMaxScaler's ``data_min_``/``data_max_``, a
GaussianNB's ``theta_``/``var_``, found on the estimator or a pipeline's steps), else uniform in
[-5, 5) per feature.

A failure prints one line on stderr saying why and exits with 2: the model cannot be loaded, has
no ``n_features_in_``, or skl2onnx cannot convert it (with skl2onnx's reason).
"""

import argparse
import hashlib
import json
import os
import sys
import tempfile

ONNX_FILE = "model.onnx"
INPUT_NAME = "X"
UNIFORM_RANGE = (-5.0, 5.0)
METHODS = ("predict_proba", "predict", "decision_function")


class Refusal(Exception):
    """A reason not to serve the model as ONNX, printed as it is."""


def _steps(model):
    """The estimator and, for a pipeline, each of its steps (nested pipelines too)."""
    found = [model]
    for _, step in getattr(model, "steps", []) or []:
        found.extend(_steps(step))
    return found


def sample_rows(model, n_features, rows, seed):
    """``rows`` seeded rows of ``n_features`` float32-representable values, and how they were drawn."""
    import numpy as np

    rng = np.random.default_rng(seed)
    for step in _steps(model):
        mean, scale = getattr(step, "mean_", None), getattr(step, "scale_", None)
        if mean is not None and scale is not None and np.shape(mean) == (n_features,):
            X = rng.normal(np.asarray(mean, float), np.abs(np.asarray(scale, float)) + 1e-12, size=(rows, n_features))
            return _float32(X), "normal around %s's mean_ and scale_, seed %d" % (type(step).__name__, seed)
        low, high = getattr(step, "data_min_", None), getattr(step, "data_max_", None)
        if low is not None and high is not None and np.shape(low) == (n_features,):
            X = rng.uniform(np.asarray(low, float), np.asarray(high, float), size=(rows, n_features))
            return _float32(X), "uniform in %s's data_min_..data_max_, seed %d" % (type(step).__name__, seed)
        theta, var = getattr(step, "theta_", None), getattr(step, "var_", None)
        if theta is not None and var is not None and np.ndim(theta) == 2 and np.shape(theta)[1] == n_features:
            theta, var = np.asarray(theta, float), np.asarray(var, float)
            spread = np.sqrt(var.mean(axis=0) + theta.var(axis=0)) + 1e-12
            X = rng.normal(theta.mean(axis=0), spread, size=(rows, n_features))
            return _float32(X), "normal around %s's theta_ and var_, seed %d" % (type(step).__name__, seed)
    X = rng.uniform(UNIFORM_RANGE[0], UNIFORM_RANGE[1], size=(rows, n_features))
    return _float32(X), "uniform in [%g, %g) per feature, seed %d" % (UNIFORM_RANGE[0], UNIFORM_RANGE[1], seed)


def _float32(X):
    import numpy as np

    return X.astype(np.float32).astype(np.float64)


def _convert(model, n_features, name):
    try:
        from skl2onnx import to_onnx
        from skl2onnx.common.data_types import FloatTensorType
        from sklearn.base import is_classifier
    except ImportError as exc:
        raise Refusal(
            "cannot import skl2onnx (%s); install it in the Python serving the model: python3 -m pip install skl2onnx" % exc
        ) from None
    options = None
    if is_classifier(model):
        # Probabilities as one float tensor, not a list of {class: probability} maps.
        options = {id(step): {"zipmap": False} for step in _steps(model) if is_classifier(step)}
    try:
        return to_onnx(model, initial_types=[(INPUT_NAME, FloatTensorType([None, n_features]))], options=options)
    except Exception as exc:  # noqa: BLE001 - any converter failure is the reason to refuse
        reason = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        raise Refusal("skl2onnx cannot convert the %s in %s: %s: %s" % (type(model).__name__, name, type(exc).__name__, reason)) from None


def _holds(path, data):
    """Whether ``path`` is a file with exactly ``data`` (a file of that name left by anyone else is replaced)."""
    try:
        with open(path, "rb") as f:
            return f.read() == data
    except OSError:
        return False


def export(model_path, out_dir, rows=32, seed=0):
    """Does the work described above; returns the JSON-ready answer or raises Refusal."""
    import joblib
    import numpy as np
    import sklearn

    try:
        model = joblib.load(model_path)
    except Exception as exc:  # noqa: BLE001 - any failure to unpickle stops the start
        raise Refusal("cannot load %s: %s: %s" % (model_path, type(exc).__name__, exc)) from None
    n_features = getattr(model, "n_features_in_", None)
    if not isinstance(n_features, (int, np.integer)):
        raise Refusal("the %s in %s has no n_features_in_ (is it fitted?)" % (type(model).__name__, model_path))
    n_features = int(n_features)
    beside = os.path.join(os.path.dirname(os.path.abspath(model_path)), ONNX_FILE)
    answer = {"estimator": type(model).__name__, "sklearn": sklearn.__version__, "n_features": n_features}
    if os.path.isfile(beside):
        answer.update(onnx=beside, source=beside, input=None)
    else:
        onx = _convert(model, n_features, model_path)
        import skl2onnx

        data = onx.SerializeToString()
        os.makedirs(out_dir, exist_ok=True)
        target = os.path.join(out_dir, hashlib.sha256(data).hexdigest()[:32] + ".onnx")
        if not _holds(target, data):
            # Written under another name, then renamed: a reader never sees half a file.
            fd, partial = tempfile.mkstemp(dir=out_dir, suffix=".partial")
            with os.fdopen(fd, "wb") as f:
                f.write(data)
            os.replace(partial, target)
        answer.update(onnx=target, source="skl2onnx " + skl2onnx.__version__, input=INPUT_NAME)
    X, drawn = sample_rows(model, n_features, rows, seed)
    answer["rows"] = X.tolist()
    answer["rows_from"] = drawn
    expected = {}
    for method in METHODS:
        call = getattr(model, method, None)
        if callable(call):
            try:
                expected[method] = np.asarray(call(X)).tolist()
            except Exception:  # noqa: BLE001 - a method the estimator exposes but cannot answer (e.g. SVC without probability)
                continue
    answer["expected"] = expected
    return answer


def main(argv=None):
    parser = argparse.ArgumentParser(prog="python -m trantor_runtime.onnx_export", description=__doc__.split("\n\n")[0])
    parser.add_argument("model", help="the model.joblib file")
    parser.add_argument("out_dir", help="the folder to write the converted ONNX file into")
    parser.add_argument("--rows", type=int, default=32, help="sample rows to draw (default 32)")
    parser.add_argument("--seed", type=int, default=0, help="the sample rows' seed (default 0)")
    args = parser.parse_args(argv)
    try:
        answer = export(args.model, args.out_dir, args.rows, args.seed)
    except Refusal as exc:
        sys.stderr.write(str(exc) + "\n")
        return 2
    sys.stdout.write(json.dumps(answer) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
