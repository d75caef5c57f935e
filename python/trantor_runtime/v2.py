"""
The Open Inference Protocol (V2) face of a served component, with MLServer's conventions, since
Seldon serves ``protocol: v2`` deployments with MLServer:

- ``model_for(component)`` is the model: ``.name`` (``PREDICTIVE_UNIT_ID``, else the class
  name), ``.versions`` (empty, as MLServer's without a configured version), ``.ready()``,
  ``.metadata()`` and ``.infer(request)``; ``server_metadata()`` is the server's.
- ``infer`` takes and gives the REST JSON form as dicts, with each tensor's ``data`` a flat list
  (BYTES elements as ``bytes``). The one input is decoded to a numpy array of its datatype and
  shape, as MLServer's default ``np`` codec does; each output is encoded as that codec encodes an
  array (datatype from the dtype, a 1-D result of N gets shape [N, 1], content_type ``np``).
- SKLEARN_SERVER answers the outputs MLServer's sklearn runtime names (``predict`` by default,
  ``predict_proba``, ``transform`` when asked), XGBOOST_SERVER mlserver-xgboost's, MLFLOW_SERVER
  takes every input as mlserver-mlflow does; a user's class answers ``predict`` from its
  ``predict(X, names)``.

Bad requests raise :class:`MicroserviceError` (400, or 404 for an unknown version) whose message
names the field, e.g. ``inputs[0].shape: ...``.
"""

import uuid

import numpy as np

from . import __version__
from .errors import MicroserviceError, BAD_DATA, INTERNAL_ERROR

# datatype -> (numpy dtype, little-endian dtype for binary data, (least, most) for integers)
_INT_RANGES = {
    "INT8": (-(2 ** 7), 2 ** 7 - 1),
    "INT16": (-(2 ** 15), 2 ** 15 - 1),
    "INT32": (-(2 ** 31), 2 ** 31 - 1),
    "INT64": (-(2 ** 63), 2 ** 63 - 1),
    "UINT8": (0, 2 ** 8 - 1),
    "UINT16": (0, 2 ** 16 - 1),
    "UINT32": (0, 2 ** 32 - 1),
    "UINT64": (0, 2 ** 64 - 1),
}
NUMPY_DTYPES = {
    "BOOL": np.dtype(np.bool_),
    "INT8": np.dtype("<i1"),
    "INT16": np.dtype("<i2"),
    "INT32": np.dtype("<i4"),
    "INT64": np.dtype("<i8"),
    "UINT8": np.dtype("<u1"),
    "UINT16": np.dtype("<u2"),
    "UINT32": np.dtype("<u4"),
    "UINT64": np.dtype("<u8"),
    "FP16": np.dtype("<f2"),
    "FP32": np.dtype("<f4"),
    "FP64": np.dtype("<f8"),
    "BYTES": np.dtype(object),
}
DATATYPES = tuple(NUMPY_DTYPES)
_FLOATS = ("FP16", "FP32", "FP64")
_BY_KIND = {(v.kind, v.itemsize): k for k, v in NUMPY_DTYPES.items() if k != "BYTES"}

SERVER_NAME = "trantor"
EXTENSIONS = ["binary_tensor_data"]

# The outputs MLServer's sklearn runtime answers, and the one it answers when none is asked for.
SKLEARN_OUTPUTS = ("predict", "predict_proba", "transform")
DEFAULT_OUTPUT = "predict"


def bad(where, problem, status=400):
    return MicroserviceError(where + ": " + problem, status, BAD_DATA)


def describe(value):
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (int, float)):
        return repr(value)
    if isinstance(value, str):
        return "the string " + repr(value[:40])
    if isinstance(value, bytes):
        return "bytes"
    if isinstance(value, list):
        return "a list"
    if isinstance(value, dict):
        return "an object"
    return "a " + type(value).__name__


def server_metadata():
    """The V2 server metadata: name, version and extensions (binary tensor data)."""
    return {"name": SERVER_NAME, "version": __version__, "extensions": list(EXTENSIONS)}


# -- tensors in ------------------------------------------------------------------------------


def element_count(shape):
    count = 1
    for dim in shape:
        count *= dim
    return count


def check_shape(shape, where):
    if not isinstance(shape, list) or any(type(d) is not int or d < 0 for d in shape):
        raise bad(where, "expected a list of non-negative integers, got " + describe(shape))
    return shape


def flatten(data, where):
    """A flat list of the elements of ``data`` (flat or nested, row-major)."""
    if isinstance(data, np.ndarray):
        return data
    if not isinstance(data, list):
        raise bad(where, "expected an array (flat or nested, row-major), got " + describe(data))
    if not any(type(x) is list for x in data):
        return data
    flat = []

    def walk(items):
        for item in items:
            if type(item) is list:
                walk(item)
            else:
                flat.append(item)

    walk(data)
    return flat


def _first_bad(flat, ok):
    for i, x in enumerate(flat):
        if not ok(x):
            return i, x
    return None


def to_array(tensor, where):
    """The numpy array a request tensor's data gives, of its datatype and shape; checks every element."""
    if not isinstance(tensor, dict):
        raise bad(where, "expected an object with name, shape, datatype and data")
    name = tensor.get("name")
    if not isinstance(name, str):
        raise bad(where + ".name", "is required" if name is None else "expected a string, got " + describe(name))
    datatype = tensor.get("datatype")
    if datatype not in NUMPY_DTYPES:
        raise bad(
            where + ".datatype",
            "is required" if datatype is None else "expected one of " + ", ".join(DATATYPES) + ", got " + describe(datatype),
        )
    shape = check_shape(tensor.get("shape"), where + ".shape")
    if "data" not in tensor:
        raise bad(where + ".data", "is required")
    flat = flatten(tensor["data"], where + ".data")
    expected = element_count(shape)
    if len(flat) != expected:
        raise bad(where + ".data", "holds %d elements but shape %s needs %d" % (len(flat), shape, expected))
    dtype = NUMPY_DTYPES[datatype]
    if isinstance(flat, np.ndarray):  # already decoded from binary data
        return flat.reshape(shape)
    _check_elements(flat, datatype, where + ".data")
    if datatype == "BYTES":
        array = np.empty(len(flat), dtype=object)
        array[:] = [x.encode("utf-8") if isinstance(x, str) else x for x in flat]
        return array.reshape(shape)
    return np.array(flat, dtype=dtype).reshape(shape)


def _check_elements(flat, datatype, where):
    kinds = set(map(type, flat))
    if datatype in _FLOATS:
        allowed = {int, float}
        expected = "a number"
    elif datatype == "BOOL":
        allowed = {bool}
        expected = "true or false"
    elif datatype == "BYTES":
        allowed = {bytes, str}
        expected = "a string"
    else:
        allowed = {int}
        expected = "an integer"
    if not kinds <= allowed:
        i, x = _first_bad(flat, lambda v: type(v) in allowed)
        raise bad("%s[%d]" % (where, i), "expected %s for %s, got %s" % (expected, datatype, describe(x)))
    limits = _INT_RANGES.get(datatype)
    if limits is not None and flat:
        least, most = limits
        if min(flat) < least or max(flat) > most:
            i, x = _first_bad(flat, lambda v: least <= v <= most)
            raise bad("%s[%d]" % (where, i), "%d is out of range for %s (%d to %d)" % (x, datatype, least, most))


def decode_binary(datatype, raw, count, where):
    """The elements of a binary tensor: a numpy array (numbers) or a list of bytes (BYTES, each length-prefixed)."""
    if datatype == "BYTES":
        items = []
        at = 0
        size = len(raw)
        while at < size:
            if at + 4 > size:
                raise bad(where, "a BYTES element's 4-byte length is cut off at byte %d" % at)
            length = int.from_bytes(raw[at:at + 4], "little")
            at += 4
            if at + length > size:
                raise bad(where, "a BYTES element of %d bytes runs past the tensor's end" % length)
            items.append(bytes(raw[at:at + length]))
            at += length
        if len(items) != count:
            raise bad(where, "holds %d BYTES elements but the shape needs %d" % (len(items), count))
        array = np.empty(count, dtype=object)
        array[:] = items
        return array
    dtype = NUMPY_DTYPES[datatype]
    if len(raw) != count * dtype.itemsize:
        raise bad(where, "%d bytes, but %d %s elements take %d" % (len(raw), count, datatype, count * dtype.itemsize))
    array = np.frombuffer(raw, dtype=dtype)
    if datatype == "BOOL" and array.size and int(np.frombuffer(raw, dtype=np.uint8).max()) > 1:
        raise bad(where, "BOOL elements are bytes 0 or 1")
    return array


# -- tensors out -----------------------------------------------------------------------------


def datatype_of(array, where):
    """The V2 datatype for a numpy dtype, as MLServer's numpy codec chooses it (text is BYTES)."""
    dtype = array.dtype
    if dtype.kind in ("O", "U", "S"):
        return "BYTES"
    found = _BY_KIND.get((dtype.kind, dtype.itemsize))
    if found is None:
        raise MicroserviceError(
            where + ": the model answered an array of dtype " + str(dtype) + ", which V2 has no datatype for",
            500,
            INTERNAL_ERROR,
        )
    return found


def encode_output(name, value, where):
    """An output tensor for a model's answer, as MLServer's numpy codec writes it."""
    array = value if isinstance(value, np.ndarray) else np.asarray(value)
    datatype = datatype_of(array, where)
    shape = list(array.shape)
    if len(shape) <= 1:
        shape = shape + [1]  # MLServer: [N] means [N, 1]
    flat = array.reshape(-1)
    if datatype == "BYTES":
        data = []
        for i, x in enumerate(flat.tolist()):
            if isinstance(x, str):
                x = x.encode("utf-8")
            elif not isinstance(x, bytes):
                raise MicroserviceError(
                    "%s[%d]: the model answered %s in an array of text; V2 BYTES holds only strings and bytes"
                    % (where, i, describe(x)),
                    500,
                    INTERNAL_ERROR,
                )
            data.append(x)
    elif datatype in _FLOATS:
        # MLServer answers NaN as null (JSON has no NaN).
        data = [None if x != x else x for x in flat.tolist()]
    else:
        data = flat.tolist()
    return {"name": name, "shape": shape, "datatype": datatype, "parameters": {"content_type": "np"}, "data": data}


# -- the model -------------------------------------------------------------------------------


def _requested_outputs(request):
    outputs = request.get("outputs")
    if outputs is None:
        return []
    if not isinstance(outputs, list):
        raise bad("outputs", "expected an array of {name}")
    names = []
    for i, output in enumerate(outputs):
        name = output.get("name") if isinstance(output, dict) else None
        if not isinstance(name, str):
            raise bad("outputs[%d].name" % i, "expected a string, got " + describe(name))
        names.append(name)
    return names


class V2Model:
    """One served component as a V2 model."""

    def __init__(self, component, name, answer):
        self.component = component
        self.name = name
        self.versions = []
        self._answer = answer

    def ready(self):
        # The host listens only once the class is constructed and loaded.
        return True

    def metadata(self):
        inputs, outputs = [], []
        try:
            declared = self.component.metadata()
        except MicroserviceError:
            declared = {}
        if self._answer.user_class:
            inputs = _tensor_metadata(declared.get("inputs"))
            outputs = _tensor_metadata(declared.get("outputs"))
        return {
            "name": self.name,
            "versions": list(self.versions),
            "platform": "",
            "inputs": inputs,
            "outputs": outputs,
            "parameters": {},
        }

    def check_version(self, version):
        """404 unless ``version`` (from /versions/<v>) is one this model has."""
        if version is not None and version not in self.versions:
            raise MicroserviceError("Model %s with version %s not found" % (self.name, version), 404, "NOT_FOUND")

    def infer(self, request):
        if not isinstance(request, dict):
            raise bad("body", "expected an object with inputs")
        request_id = request.get("id")
        if request_id is not None and not isinstance(request_id, str):
            raise bad("id", "expected a string, got " + describe(request_id))
        parameters = request.get("parameters")
        if parameters is not None and not isinstance(parameters, dict):
            raise bad("parameters", "expected an object")
        inputs = request.get("inputs")
        if not isinstance(inputs, list):
            raise bad("inputs", "is required" if inputs is None else "expected an array of tensors")
        if getattr(self._answer, "takes_inputs", False):
            wanted = _requested_outputs(request)
            arrays = [(tensor.get("name"), to_array(tensor, "inputs[%d]" % i), "inputs[%d]" % i) for i, tensor in enumerate(inputs)]
            if not arrays:
                raise bad("inputs", "is empty; give at least one input tensor")
            answered = self._answer.inputs(arrays, wanted)
        else:
            if len(inputs) != 1:
                raise bad("inputs", "%s takes one input tensor (MLServer's np codec), got %d" % (self.name, len(inputs)))
            X = to_array(inputs[0], "inputs[0]")
            wanted = _requested_outputs(request)
            answered = self._answer(X, wanted, inputs[0])
        outputs = [encode_output(name, value, "outputs[%d]" % i) for i, (name, value) in enumerate(answered)]
        response = {"model_name": self.name}
        if self.versions:
            response["model_version"] = self.versions[0]
        response["id"] = request_id if request_id is not None else str(uuid.uuid4())
        response["parameters"] = {}
        response["outputs"] = outputs
        return response


def _tensor_metadata(entries):
    """A user's init_metadata inputs/outputs, when they are V2 tensor metadata (name, datatype, shape)."""
    if not isinstance(entries, list):
        return []
    if all(isinstance(e, dict) and isinstance(e.get("name"), str) and e.get("datatype") in NUMPY_DTYPES
           and isinstance(e.get("shape"), list) for e in entries):
        return entries
    return []


class _ServerAnswer:
    """
    A prepackaged server's outputs, as MLServer's runtime for it names them: ``predict`` by
    default, or those asked for among the class's ``V2_OUTPUTS`` (SKLEARN_SERVER's when it has
    none), each from its ``v2_output(name, X, where, shape)``.
    """

    user_class = False

    def __init__(self, server):
        self.server = server

    def __call__(self, X, wanted, tensor):
        names = wanted or [DEFAULT_OUTPUT]
        offered = getattr(self.server, "V2_OUTPUTS", SKLEARN_OUTPUTS)
        implementation = getattr(self.server, "IMPLEMENTATION", "SKLEARN_SERVER")
        for i, name in enumerate(names):
            if name not in offered:
                listed = ", ".join("'%s'" % o for o in offered[:-1]) + " and '%s'" % offered[-1]
                raise bad("outputs[%d].name" % i, "%s answers %s (MLServer's outputs), got %r" % (implementation, listed, name))
        return [(name, self.server.v2_output(name, X, "inputs[0]", tensor.get("shape"))) for name in names]


class _InputsAnswer:
    """A prepackaged server that takes every input tensor: its ``v2_outputs([(name, X, where)], wanted)``."""

    user_class = False
    takes_inputs = True

    def __init__(self, server):
        self.server = server

    def inputs(self, arrays, wanted):
        return self.server.v2_outputs(arrays, wanted)


class _ClassAnswer:
    """A user's class: ``predict(X, names)`` on the one input, answered as output ``predict``."""

    user_class = True

    def __init__(self, component):
        self.component = component

    def __call__(self, X, wanted, tensor):
        for i, name in enumerate(wanted):
            if name != DEFAULT_OUTPUT:
                raise bad("outputs[%d].name" % i, "%s answers only 'predict', got %r" % (self.component.name, name))
        call = self.component._predict
        if call is None:
            raise MicroserviceError(self.component.name + " has no predict method", 400, BAD_DATA)
        # The call turns the model's exceptions into MicroserviceErrors, as on Seldon's paths.
        return [(DEFAULT_OUTPUT, call((X, []), {"meta": {}}))]


def model_for(component):
    """The V2 model serving ``component`` (a :class:`trantor_runtime.component.Component`)."""
    name = component.unit_id or component.name
    model = component.model
    if callable(getattr(model, "v2_outputs", None)):
        answer = _InputsAnswer(model)
    elif callable(getattr(model, "v2_output", None)):
        answer = _ServerAnswer(model)
    else:
        answer = _ClassAnswer(component)
    return V2Model(component, name, answer)
