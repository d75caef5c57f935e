"""
SKLEARN_SERVER: serves a scikit-learn estimator saved with joblib.

``SKLearnServer(model_uri, method="predict_proba")``: ``model_uri`` is a local folder holding
``model.joblib`` (or a ``file://`` URI to one, or the path of a ``.joblib``/``.pkl`` file);
``method`` is ``predict_proba``, ``predict`` or ``decision_function``. Each request's rows
are checked against the estimator's ``n_features_in_`` before scikit-learn sees them, so a
wrong feature count is answered with a 400 that says what was expected.
"""

import logging

import numpy as np

from ..errors import MicroserviceError, StartupError, BAD_DATA
from ..message import payload_field
from .files import find_model_file

METHODS = ("predict_proba", "predict", "decision_function")
log = logging.getLogger("SKLearnServer")
MODEL_FILE = "model.joblib"


def resolve_model_path(model_uri):
    """The local file to load for ``model_uri``; StartupError says what is missing."""
    return find_model_file(
        model_uri, (MODEL_FILE,), "save the estimator with joblib.dump(model, \"" + MODEL_FILE + "\")", (".joblib", ".pkl", ".pickle")
    )


def check_rows(X, n):
    """``X`` as rows of ``n`` features (2 dimensions; one row of ``n`` becomes [1, n]), or a 400 naming the field."""
    if not isinstance(X, np.ndarray):
        if isinstance(X, (str, bytes, dict)) or X is None:
            raise MicroserviceError(
                payload_field() + ": expected rows of numbers in data.ndarray or data.tensor", 400, BAD_DATA
            )
        X = np.asarray(X)
    ndim = X.ndim
    if ndim == 2:
        if n is not None and X.shape[1] != n:
            raise MicroserviceError(
                "expected %d features per row, got %d (%s has rows of %d)" % (n, X.shape[1], payload_field(), X.shape[1]),
                400,
                BAD_DATA,
            )
        return X
    if ndim == 1:
        if X.dtype == object and len(X) and isinstance(X[0], list):
            lengths = sorted({len(row) if isinstance(row, list) else 1 for row in X})
            raise MicroserviceError(
                "%s: rows have different lengths (%s); every row needs %s features"
                % (payload_field(), ", ".join(str(x) for x in lengths), n if n is not None else "the same number of"),
                400,
                BAD_DATA,
            )
        if n is not None and X.shape[0] != n:
            raise MicroserviceError(
                "expected %d features per row, got %d (%s is a single row of %d)" % (n, X.shape[0], payload_field(), X.shape[0]),
                400,
                BAD_DATA,
            )
        return X.reshape(1, -1)
    if ndim == 0:
        raise MicroserviceError(
            "%s: expected rows of %s features, got a single value" % (payload_field(), n if n is not None else "several"),
            400,
            BAD_DATA,
        )
    raise MicroserviceError(
        "%s: expected rows of %s features (2 dimensions), got an array of shape %s"
        % (payload_field(), n if n is not None else "several", list(X.shape)),
        400,
        BAD_DATA,
    )


def check_v2_rows(X, n, where, shape):
    """A 400 naming ``where``.shape unless the V2 input ``X`` is rows of ``n`` features."""
    if X.ndim != 2 or (n is not None and X.shape[1] != n):
        raise MicroserviceError(
            "%s.shape: expected [rows, %s] (rows of %s features), got %s"
            % (where, n if n is not None else "features", n if n is not None else "the model's", shape),
            400,
            BAD_DATA,
        )


class SKLearnServer:
    """A Seldon model class around a joblib-saved scikit-learn estimator."""

    def __init__(self, model_uri=None, method="predict_proba"):
        if method not in METHODS:
            raise StartupError(
                "parameter method: expected one of " + ", ".join(METHODS) + ", got " + repr(method)
            )
        self.model_uri = model_uri
        self.method = method
        self.model_path = resolve_model_path(model_uri)
        self.model = None
        self._call = None
        self._n_features = None

    def load(self):
        import joblib
        import sklearn

        try:
            model = joblib.load(self.model_path)
        except Exception as exc:  # noqa: BLE001 - any failure to unpickle stops the start
            raise StartupError(
                "modelUri " + str(self.model_uri) + ": cannot load " + self.model_path + ": "
                + type(exc).__name__ + ": " + str(exc)
            ) from None
        call = getattr(model, self.method, None)
        if call is None or not callable(call):
            raise StartupError(
                "the model in " + self.model_path + " (a " + type(model).__name__ + ") has no "
                + self.method + " method; set the parameter method to one it has ("
                + ", ".join(m for m in METHODS if callable(getattr(model, m, None))) + ")"
            )
        n_features = getattr(model, "n_features_in_", None)
        self.model = model
        self._call = call
        self._n_features = int(n_features) if isinstance(n_features, (int, np.integer)) else None
        self._sklearn_version = sklearn.__version__

    def predict(self, X, features_names=None, **kwargs):
        X = check_rows(X, self._n_features)
        # One line per request, as Seldon's server logs it, so `trantor logs` shows traffic.
        log.info("Calling %s", self.method)
        try:
            return self._call(X)
        except ValueError as exc:
            # scikit-learn reports bad input (strings, NaN, wrong dtype) as ValueError.
            raise MicroserviceError(
                payload_field() + ": " + self.method + " rejected the input: " + str(exc), 400, BAD_DATA
            ) from None

    def v2_output(self, name, X, where, shape):
        """One V2 output, as MLServer's sklearn runtime computes it: ``getattr(model, name)(X)`` on
        the input as decoded (rows of features, so 2 dimensions); a wrong shape is a 400 naming it."""
        call = getattr(self.model, name, None)
        if call is None or not callable(call):
            estimator = self.model.steps[-1][-1] if hasattr(self.model, "steps") else self.model
            raise MicroserviceError(
                "outputs: %s models do not support '%s'" % (type(estimator).__name__, name), 400, BAD_DATA
            )
        check_v2_rows(X, self._n_features, where, shape)
        log.info("Calling %s", name)
        try:
            return call(X)
        except ValueError as exc:
            raise MicroserviceError(where + ": " + name + " rejected the input: " + str(exc), 400, BAD_DATA) from None

    def init_metadata(self):
        n = self._n_features
        shape = [-1, n] if n is not None else [-1, -1]
        return {
            "versions": [type(self.model).__name__ + "/sklearn-" + getattr(self, "_sklearn_version", "")],
            "platform": "sklearn",
            "inputs": [{"name": "input", "datatype": "FP64", "shape": shape}],
            "outputs": [{"name": self.method, "datatype": "FP64", "shape": [-1, -1] if self.method != "predict" else [-1]}],
        }
