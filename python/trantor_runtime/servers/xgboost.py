"""
XGBOOST_SERVER: serves an XGBoost model saved with ``save_model``.

``XGBoostServer(model_uri)``: ``model_uri`` is a local folder holding ``model.bst``, ``model.json``
or ``model.ubj`` (looked for in that order), a ``file://`` URI to one, or the path of such a file.
It takes no other parameter, as Seldon's XGBoost server.

- Seldon's protocol: the request's rows go into a ``DMatrix`` and the answer is the booster's own
  ``predict`` — class probabilities for ``multi:softprob``, the probability of 1 for
  ``binary:logistic``, values for regressions — as Seldon's server answers.
- V2: MLServer's mlserver-xgboost outputs: ``predict`` (the default) and ``predict_proba`` from
  xgboost's scikit-learn interface, loaded as MLServer loads it (a regressor, unless the file was
  saved by an ``XGBClassifier``); a regressor has no ``predict_proba``.
"""

import logging

from ..errors import MicroserviceError, StartupError, BAD_DATA
from ..message import payload_field
from .files import find_model_file
from .sklearn import check_rows, check_v2_rows

log = logging.getLogger("XGBoostServer")
MODEL_FILES = ("model.bst", "model.json", "model.ubj")
V2_OUTPUTS = ("predict", "predict_proba")


def _check_numbers(X, where):
    if X.dtype == object or X.dtype.kind in "SUM":
        raise MicroserviceError(where + ": expected numbers, got " + str(X.dtype) + " values", 400, BAD_DATA)


class XGBoostServer:
    """A Seldon model class around a saved XGBoost booster."""

    IMPLEMENTATION = "XGBOOST_SERVER"
    V2_OUTPUTS = V2_OUTPUTS

    def __init__(self, model_uri=None):
        self.model_uri = model_uri
        self.model_path = find_model_file(
            model_uri, MODEL_FILES, "save the model with booster.save_model(\"model.json\")", (".bst", ".json", ".ubj")
        )
        self.model = None
        self._booster = None
        self._n_features = None

    def load(self):
        import xgboost

        try:
            try:
                model = xgboost.XGBRegressor()
                model.load_model(self.model_path)
            except TypeError:
                # xgboost refuses to load a classifier's file into a regressor: it was an XGBClassifier.
                model = xgboost.XGBClassifier()
                model.load_model(self.model_path)
        except Exception as exc:  # noqa: BLE001 - any failure to read the file stops the start
            raise StartupError(
                "modelUri " + str(self.model_uri) + ": cannot load " + self.model_path + " with xgboost "
                + xgboost.__version__ + ": " + type(exc).__name__ + ": " + str(exc).strip().splitlines()[0]
            ) from None
        self.model = model
        self._booster = model.get_booster()
        self._n_features = int(self._booster.num_features()) or None
        self._version = xgboost.__version__

    def _dmatrix(self, X, where):
        import xgboost

        _check_numbers(X, where)
        try:
            # A booster trained on a DataFrame checks column names: the request's rows are in its order.
            return xgboost.DMatrix(X, feature_names=self._booster.feature_names)
        except (ValueError, TypeError) as exc:
            raise MicroserviceError(where + ": cannot make a DMatrix of the input: " + str(exc), 400, BAD_DATA) from None

    def predict(self, X, features_names=None, **kwargs):
        X = check_rows(X, self._n_features)
        log.info("Calling predict on a DMatrix")
        dmatrix = self._dmatrix(X, payload_field())
        try:
            return self._booster.predict(dmatrix)
        except Exception as exc:  # noqa: BLE001 - xgboost reports bad input as XGBoostError
            raise MicroserviceError(payload_field() + ": xgboost rejected the input: " + str(exc), 400, BAD_DATA) from None

    def v2_output(self, name, X, where, shape):
        """One V2 output, as mlserver-xgboost computes it: the scikit-learn interface's ``name``(X)."""
        import xgboost

        if name == "predict_proba" and isinstance(self.model, xgboost.XGBRegressor):
            raise MicroserviceError("outputs: XGBRegressor models do not support 'predict_proba'", 400, BAD_DATA)
        check_v2_rows(X, self._n_features, where, shape)
        _check_numbers(X, where)
        log.info("Calling %s", name)
        try:
            return getattr(self.model, name)(X)
        except Exception as exc:  # noqa: BLE001
            raise MicroserviceError(where + ": " + name + " rejected the input: " + str(exc), 400, BAD_DATA) from None

    def init_metadata(self):
        n = self._n_features
        return {
            "versions": [type(self.model).__name__ + "/xgboost-" + getattr(self, "_version", "")],
            "platform": "xgboost",
            "inputs": [{"name": "input", "datatype": "FP32", "shape": [-1, n if n is not None else -1]}],
            "outputs": [{"name": "predict", "datatype": "FP32", "shape": [-1, -1]}],
        }

