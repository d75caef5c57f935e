"""
The Seldon message on the wire, and the values a model sees.

Decoding: ``data.ndarray`` becomes a numpy array (object dtype when it holds strings or is
ragged), ``data.tensor`` a float64 array of its ``shape``, ``data.tftensor`` an array of its
TensorFlow dtype (see tftensor.py), ``strData`` a str, ``binData`` bytes, ``jsonData`` the JSON
value; ``data.names`` the feature names.

Encoding: a model's output goes back in the request's own encoding (a tensor stays a
tensor, a tftensor a tftensor of the output's dtype); names are the model's ``class_names``
when it has them, else ``t:0…`` for output with two or more dimensions, else none.
"""

import base64
import binascii
import json

import numpy as np

from . import tftensor
from .errors import MicroserviceError, bad_payload, INTERNAL_ERROR

NDARRAY = "ndarray"
TENSOR = "tensor"
TFTENSOR = "tftensor"
STR_DATA = "strData"
BIN_DATA = "binData"
JSON_DATA = "jsonData"

_PAYLOAD_KEYS = ("data", "binData", "strData", "jsonData")
_DATA_KINDS = ("ndarray", "tensor", "tftensor")
_TENSOR_REPLY_KINDS = (TENSOR, STR_DATA, BIN_DATA, JSON_DATA)
_NUMERIC_KINDS = frozenset("biuf")

# The field the request being served took its features from ("data.ndarray", "data.tensor",
# "strData", ...). The server is single-threaded, so one module-level value is exact.
_current_field = ["data.ndarray"]


def payload_field():
    """Where the features of the request being served came from, e.g. ``"data.tensor"``."""
    return _current_field[0]


class Payload:
    """A decoded message: the model's input ``X``, feature ``names``, and the ``kind`` of encoding."""

    __slots__ = ("X", "names", "kind", "field")

    def __init__(self, X, names, kind, field):
        self.X = X
        self.names = names
        self.kind = kind
        self.field = field


def _at(where, field):
    return where + "." + field if where else field


def ndarray_from_json(value):
    """``np.array(value)``, keeping strings, mixed and ragged values as Python objects."""
    try:
        array = np.array(value)
    except ValueError:
        return np.array(value, dtype=object) if isinstance(value, list) else _object_array(value)
    if array.dtype.kind in "US":
        return np.array(value, dtype=object)
    return array


def _object_array(value):
    array = np.empty(1, dtype=object)
    array[0] = value
    return array


def decode(message, where=""):
    """The Payload of a Seldon message dict; a 400 MicroserviceError names the bad field."""
    if not isinstance(message, dict):
        raise bad_payload(
            (where or "body") + ": expected a JSON object with one of data, binData, strData or jsonData, got "
            + _json_type(message)
        )
    present = [k for k in _PAYLOAD_KEYS if k in message]
    if len(present) != 1:
        if not present:
            raise bad_payload((where or "body") + ": the message has none of data, binData, strData or jsonData")
        raise bad_payload(
            (where or "body") + ": only one of data, binData, strData, jsonData may be given, got " + ", ".join(present)
        )
    key = present[0]
    if key == "data":
        data = message["data"]
        at = _at(where, "data")
        if not isinstance(data, dict):
            raise bad_payload(at + ": expected an object with ndarray, tensor or tftensor")
        names = data.get("names")
        if names is None:
            names = []
        elif not isinstance(names, list):
            raise bad_payload(at + ".names: expected an array of strings")
        if "ndarray" in data:
            value = data["ndarray"]
            if "tensor" in data or "tftensor" in data:
                raise bad_payload(at + ": only one of ndarray, tensor, tftensor may be given")
            if not isinstance(value, list):
                raise bad_payload(at + ".ndarray: expected an array, got " + _json_type(value))
            try:
                array = ndarray_from_json(value)
            except (ValueError, TypeError, RecursionError) as exc:
                raise bad_payload(at + ".ndarray: cannot be read as an array (" + str(exc) + ")") from None
            return Payload(array, names, NDARRAY, at + ".ndarray")
        if "tensor" in data:
            if "tftensor" in data:
                raise bad_payload(at + ": only one of ndarray, tensor, tftensor may be given")
            return Payload(_tensor(data["tensor"], at + ".tensor"), names, TENSOR, at + ".tensor")
        if "tftensor" in data:
            return Payload(tftensor.read(data["tftensor"], at + ".tftensor"), names, TFTENSOR, at + ".tftensor")
        raise bad_payload(at + ": expected one of ndarray, tensor or tftensor")
    if key == "strData":
        value = message["strData"]
        if not isinstance(value, str):
            raise bad_payload(_at(where, "strData") + ": expected a string, got " + _json_type(value))
        return Payload(value, [], STR_DATA, _at(where, "strData"))
    if key == "binData":
        value = message["binData"]
        field = _at(where, "binData")
        if not isinstance(value, str):
            raise bad_payload(field + ": expected a base64 string, got " + _json_type(value))
        try:
            raw = base64.b64decode(value, validate=True)
        except (binascii.Error, ValueError) as exc:
            raise bad_payload(field + ": not valid base64 (" + str(exc) + ")") from None
        return Payload(raw, [], BIN_DATA, field)
    return Payload(message["jsonData"], [], JSON_DATA, _at(where, "jsonData"))


def _tensor(tensor, at):
    if not isinstance(tensor, dict):
        raise bad_payload(at + ": expected an object with shape and values")
    shape = tensor.get("shape")
    values = tensor.get("values")
    if not isinstance(shape, list) or not all(
        isinstance(d, int) and not isinstance(d, bool) and d >= 0 for d in shape
    ):
        raise bad_payload(at + ".shape: expected an array of non-negative integers")
    if not isinstance(values, list):
        raise bad_payload(at + ".values: expected an array of numbers")
    size = 1
    for d in shape:
        size *= d
    if size != len(values):
        raise bad_payload(
            at + ": shape [" + ",".join(str(d) for d in shape) + "] holds " + str(size)
            + " values, got " + str(len(values))
        )
    try:
        array = np.array(values, dtype=np.float64)
    except (TypeError, ValueError):
        raise bad_payload(at + ".values: expected an array of numbers") from None
    if array.ndim != 1:
        raise bad_payload(at + ".values: expected a flat array of numbers")
    return array.reshape(shape)


def _json_type(value):
    if isinstance(value, dict):
        return "an object"
    if isinstance(value, list):
        return "an array"
    if isinstance(value, str):
        return "a string"
    if isinstance(value, bool):
        return "a boolean"
    if value is None:
        return "null"
    return "a number"


def output_names(class_names, array):
    if class_names:
        return list(class_names)
    if array.ndim >= 2:
        return ["t:%d" % i for i in range(array.shape[1])]
    return []


def encode(output, kind, class_names, where):
    """The reply message (without meta) for a model's output, in the request's encoding ``kind``."""
    if isinstance(output, np.ndarray):
        return {"data": _data(output, kind, class_names)}
    if isinstance(output, str):
        return {"strData": output}
    if isinstance(output, (bytes, bytearray, memoryview)):
        return {"binData": base64.b64encode(bytes(output)).decode("ascii")}
    if isinstance(output, dict):
        return {"jsonData": output}
    if output is None:
        raise MicroserviceError(
            where + " returned None; return an array, a list, a str, bytes or a dict", 500, INTERNAL_ERROR
        )
    if kind == JSON_DATA and isinstance(output, (int, float, bool)):
        return {"jsonData": output}
    if isinstance(output, (list, tuple)):
        return {"data": _data(ndarray_from_json(list(output)), kind, class_names)}
    if isinstance(output, (int, float, bool, np.generic)):
        return {"data": {"names": list(class_names or []), "ndarray": output.item() if isinstance(output, np.generic) else output}}
    try:
        array = np.asarray(output)
    except Exception:  # noqa: BLE001 - any failure means the value cannot be sent
        array = None
    if array is None or array.dtype == object and array.ndim == 0:
        raise MicroserviceError(
            where + " returned a " + type(output).__name__
            + ", which cannot be sent as a Seldon message; return an array, a list, a str, bytes or a dict",
            500,
            INTERNAL_ERROR,
        )
    return {"data": _data(array, kind, class_names)}


def _data(array, kind, class_names):
    names = output_names(class_names, array)
    # Seldon's rule: a tensor stays a tensor, and numbers answering a strData, binData or jsonData
    # request (which has no data encoding of its own) come back as a tensor too.
    if kind in _TENSOR_REPLY_KINDS and array.dtype.kind in _NUMERIC_KINDS:
        return {
            "names": names,
            "tensor": {"shape": list(array.shape), "values": array.astype(np.float64, copy=False).ravel().tolist()},
        }
    if kind == TFTENSOR:
        written = tftensor.write(array)
        if written is not None:
            return {"names": names, "tftensor": written}
    return {"names": names, "ndarray": array.tolist()}


def _json_default(value):
    if isinstance(value, np.ndarray):
        return value.tolist()
    if isinstance(value, np.generic):
        return value.item()
    if isinstance(value, (bytes, bytearray, memoryview)):
        return base64.b64encode(bytes(value)).decode("ascii")
    if isinstance(value, (set, frozenset, tuple)):
        return list(value)
    raise TypeError("a " + type(value).__name__ + " cannot be written as JSON")


# NaN and Infinity are written as Python's json (and Seldon's wrapper) writes them, since Python
# clients send and read them; the gateway reads them back.
_encoder = json.JSONEncoder(separators=(",", ":"), default=_json_default, allow_nan=True)
_encode_json = _encoder.encode


def to_json_bytes(value):
    """Compact JSON as bytes; numpy values are converted, NaN and infinity written as Python writes them."""
    return _encode_json(value).encode("utf-8")


def set_payload_field(field):
    _current_field[0] = field
