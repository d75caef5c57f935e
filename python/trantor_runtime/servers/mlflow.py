"""
MLFLOW_SERVER: serves an MLflow model through its ``python_function`` (pyfunc) flavour.

``MLFlowServer(model_uri, xtype="ndarray")``: ``model_uri`` is a local folder holding an
``MLmodel`` file (a ``file://`` URI to one, or the ``MLmodel`` file itself), loaded with
``mlflow.pyfunc.load_model``. The Python running it needs mlflow (``mlflow-skinny`` is enough) and
the model's own flavour (scikit-learn for ``mlflow.sklearn`` models...): unlike Seldon's server,
nothing is installed from the model's ``conda.yaml``.

- Seldon's protocol, as Seldon's MLflow server: with ``xtype`` ``ndarray`` (the default) the
  model's ``predict`` gets the request's array; with ``DataFrame`` it gets a pandas DataFrame of
  the rows whose columns are the request's ``names`` (0, 1, ... without names).
- V2, as MLServer's mlserver-mlflow where it makes sense here: several inputs, or a model whose
  signature names columns, are a DataFrame with a column per input (named by the input); one
  input is otherwise the array itself. An array result is the output ``output-1``; a DataFrame's
  columns and a dict's entries are one output each, named by the column or key.
"""

import logging
import os

import numpy as np

from ..errors import MicroserviceError, StartupError, BAD_DATA
from ..message import payload_field
from .files import find_model_file

log = logging.getLogger("MLFlowServer")
MLMODEL_FILE = "MLmodel"
XTYPES = ("ndarray", "DataFrame")
ARRAY_OUTPUT = "output-1"  # MLServer's name for an array result


class MLFlowServer:
    """A Seldon model class around an MLflow pyfunc model."""

    IMPLEMENTATION = "MLFLOW_SERVER"

    def __init__(self, model_uri=None, xtype="ndarray"):
        if xtype not in XTYPES:
            raise StartupError("parameter xtype: expected one of " + ", ".join(XTYPES) + ", got " + repr(xtype))
        self.model_uri = model_uri
        self.xtype = xtype
        found = find_model_file(
            model_uri, (MLMODEL_FILE,), "save the model with mlflow.<flavour>.save_model(model, path) and give that folder", (MLMODEL_FILE,)
        )
        self.model_folder = os.path.dirname(found)
        self.model = None
        self._columns = None

    def load(self):
        # mlflow 3 reports usage to its makers from a background thread unless told not to; a
        # model server has no business calling out. Set MLFLOW_DISABLE_TELEMETRY=false to allow it.
        os.environ.setdefault("MLFLOW_DISABLE_TELEMETRY", "true")
        import mlflow
        import mlflow.pyfunc

        try:
            model = mlflow.pyfunc.load_model(self.model_folder)
        except Exception as exc:  # noqa: BLE001 - a missing flavour, a bad pickle...: the start fails saying which
            detail = str(exc).strip().splitlines()[0] if str(exc).strip() else ""
            hint = ""
            if isinstance(exc, ImportError):
                hint = "; install the model's flavour in the Python serving it (see the model's requirements.txt)"
            raise StartupError(
                "modelUri " + str(self.model_uri) + ": mlflow " + mlflow.__version__ + " cannot load the model in "
                + self.model_folder + ": " + type(exc).__name__ + ": " + detail + hint
            ) from None
        self.model = model
        self._version = mlflow.__version__
        schema = model.metadata.get_input_schema()
        if schema is not None and not schema.is_tensor_spec() and schema.has_input_names():
            self._columns = schema.input_names()

    def _call(self, data, where):
        from mlflow.exceptions import MlflowException

        log.info("Calling predict")
        try:
            return self.model.predict(data)
        except MlflowException as exc:
            # Schema enforcement: a missing column, a wrong type.
            raise MicroserviceError(where + ": the model's signature rejected the input: " + exc.message, 400, BAD_DATA) from None
        except (ValueError, TypeError, KeyError) as exc:
            raise MicroserviceError(where + ": the model rejected the input: " + type(exc).__name__ + ": " + str(exc), 400, BAD_DATA) from None

    def predict(self, X, features_names=None, **kwargs):
        if self.xtype == "DataFrame":
            import pandas as pd

            rows = np.asarray(X)
            if rows.ndim == 1:
                rows = rows.reshape(1, -1)
            names = list(features_names) if features_names else None
            if names is not None and rows.ndim == 2 and len(names) != rows.shape[1]:
                raise MicroserviceError(
                    "data.names: %d names for rows of %d values" % (len(names), rows.shape[1]), 400, BAD_DATA
                )
            X = pd.DataFrame(data=rows, columns=names)
        return _plain(self._call(X, payload_field()))

    def v2_outputs(self, inputs, wanted):
        """The V2 outputs for ``inputs`` (``[(name, array, where)]``) and the ``wanted`` output names."""
        import pandas as pd

        if len(inputs) > 1 or (self._columns is not None and len(inputs) == 1 and inputs[0][1].ndim == 1):
            columns = {}
            rows = None
            for name, array, where in inputs:
                if array.ndim == 2 and array.shape[1] == 1:
                    array = array[:, 0]
                if array.ndim != 1:
                    raise MicroserviceError(
                        "%s.shape: a column of the DataFrame needs shape [rows] or [rows, 1], got %s" % (where, list(array.shape)),
                        400,
                        BAD_DATA,
                    )
                if rows is not None and len(array) != rows:
                    raise MicroserviceError("%s: %d rows, the inputs before it have %d" % (where, len(array), rows), 400, BAD_DATA)
                rows = len(array)
                columns[name] = array
            data = pd.DataFrame(columns)
        else:
            name, data, where = inputs[0]
            if self._columns is not None and data.ndim == 2 and data.shape[1] == len(self._columns):
                data = pd.DataFrame(data, columns=self._columns)
        result = self._call(data, "inputs")
        outputs = _named_outputs(result)
        names = wanted or list(outputs)
        for i, name in enumerate(names):
            if name not in outputs:
                raise MicroserviceError(
                    "outputs[%d].name: the model answers %s, not %r" % (i, ", ".join(repr(n) for n in outputs), name), 400, BAD_DATA
                )
        return [(name, outputs[name]) for name in names]

    def init_metadata(self):
        return {"versions": ["mlflow-" + getattr(self, "_version", "")], "platform": "mlflow"}


def _plain(result):
    """A pandas result as the numpy array the Seldon protocol sends."""
    to_numpy = getattr(result, "to_numpy", None)
    return to_numpy() if callable(to_numpy) else result


def _named_outputs(result):
    if isinstance(result, dict):
        return {str(k): np.asarray(v) for k, v in result.items()}
    columns = getattr(result, "columns", None)
    if columns is not None:
        return {str(c): result[c].to_numpy() for c in columns}
    return {ARRAY_OUTPUT: np.asarray(_plain(result))}
