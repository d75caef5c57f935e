"""
TensorFlow's TensorProto as Seldon carries it in ``data.tftensor``, in its proto3 JSON form, read
into a numpy array of its dtype and written back, without TensorFlow.

Reading follows protobuf's ParseDict (both ``tensorShape``/``floatVal`` and ``tensor_shape``/
``float_val``; int64 as strings or numbers; bytes and ``tensor_content`` as base64) and TensorFlow's
make_ndarray (values from the dtype's ``*_val`` field or from little-endian ``tensor_content``; no
values give zeros, fewer than the shape holds are padded with the last one). Writing follows
make_tensor_proto and MessageToJson, as Seldon's wrapper answers: the array's own dtype, two or
more numbers as ``tensorContent``, else the ``*_val`` field, camelCase names.
"""

import base64
import binascii
import re

import numpy as np

from .errors import bad_payload

# dtype name: (enum number, value field, numpy dtype)
DTYPES = {
    "DT_FLOAT": (1, "floatVal", np.float32),
    "DT_DOUBLE": (2, "doubleVal", np.float64),
    "DT_INT32": (3, "intVal", np.int32),
    "DT_UINT8": (4, "intVal", np.uint8),
    "DT_INT16": (5, "intVal", np.int16),
    "DT_INT8": (6, "intVal", np.int8),
    "DT_STRING": (7, "stringVal", object),
    "DT_INT64": (9, "int64Val", np.int64),
    "DT_BOOL": (10, "boolVal", np.bool_),
    "DT_UINT16": (17, "intVal", np.uint16),
    "DT_HALF": (19, "halfVal", np.float16),
    "DT_UINT32": (22, "uint32Val", np.uint32),
    "DT_UINT64": (23, "uint64Val", np.uint64),
}
_BY_NUMBER = {number: name for name, (number, _, _) in DTYPES.items()}
_VALUE_FIELDS = (
    "halfVal", "floatVal", "doubleVal", "intVal", "stringVal", "int64Val", "boolVal", "uint32Val", "uint64Val",
    "scomplexVal", "dcomplexVal", "resourceHandleVal", "variantVal", "float8Val",
)
_OTHER_FIELDS = ("dtype", "tensorShape", "versionNumber", "tensorContent")


def _proto_name(camel):
    return re.sub(r"[A-Z]", lambda m: "_" + m.group(0).lower(), camel)


_PROTO_NAMES = {name: _proto_name(name) for name in _VALUE_FIELDS + _OTHER_FIELDS}
_KNOWN = set(_PROTO_NAMES) | set(_PROTO_NAMES.values())
# make_tensor_proto writes DT_UINT16 in int_val, as DT_STRING and DT_BOOL in their fields.
_CONTENT_DTYPES = {name for name in DTYPES if name not in ("DT_STRING", "DT_BOOL", "DT_UINT16")}
_SPECIAL_FLOATS = {"NaN": float("nan"), "Infinity": float("inf"), "-Infinity": float("-inf")}
_FLOAT_TEXT = re.compile(r"^-?(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?$")
_INT_TEXT = re.compile(r"^-?\d+$")
_FLOAT32_MAX = float(np.finfo(np.float32).max)
# A few values repeated to fill a shape must not build an unbounded array.
MAX_PADDED = 1 << 22


def _field(tensor, camel, where):
    """A field given in either spelling, and its path as the sender spelt it."""
    proto = _PROTO_NAMES[camel]
    if camel in tensor and proto in tensor and camel != proto:
        raise bad_payload(where + ": " + camel + " and " + proto + " are the same field; give one")
    if camel in tensor:
        return tensor[camel], where + "." + camel
    return tensor.get(proto), where + "." + proto


def _describe(value):
    if isinstance(value, str):
        return '"' + value + '"'
    if isinstance(value, bool):
        return "true" if value else "false"
    return repr(value)


def _integer(value, at):
    if isinstance(value, int) and not isinstance(value, bool):
        return value
    if isinstance(value, float) and value.is_integer():
        return int(value)
    if isinstance(value, str) and _INT_TEXT.match(value):
        return int(value)
    raise bad_payload(at + ": expected an integer, got " + _describe(value))


def _float(value, at):
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return float(value)
    if isinstance(value, str):
        if value in _SPECIAL_FLOATS:
            return _SPECIAL_FLOATS[value]
        if _FLOAT_TEXT.match(value):
            return float(value)
    raise bad_payload(at + ": expected a number, got " + _describe(value))


def _base64(value, at):
    if not isinstance(value, str):
        raise bad_payload(at + ": expected base64 bytes, got " + _describe(value))
    try:
        return base64.b64decode(value.replace("-", "+").replace("_", "/") + "=" * (-len(value) % 4), validate=True)
    except (binascii.Error, ValueError):
        raise bad_payload(at + ": expected base64 bytes, got " + _describe(value)) from None


def _shape(value, at):
    if value is None:
        return []
    if not isinstance(value, dict):
        raise bad_payload(at + ": expected an object with dim")
    if value.get("unknownRank") is True or value.get("unknown_rank") is True:
        raise bad_payload(at + ": a tensor value needs a known rank, got unknown_rank")
    dims = value.get("dim")
    if dims is None:
        return []
    if not isinstance(dims, list):
        raise bad_payload(at + '.dim: expected an array of {"size": …}')
    shape = []
    for i, dim in enumerate(dims):
        where = "%s.dim[%d]" % (at, i)
        if not isinstance(dim, dict):
            raise bad_payload(where + ": expected an object with size")
        size = _integer(dim.get("size", 0), where + ".size")
        if size < 0:
            raise bad_payload("%s.size: expected a size of 0 or more, got %d" % (where, size))
        shape.append(size)
    return shape


def _element(dtype, numpy_dtype, value, at):
    if dtype == "DT_BOOL":
        if not isinstance(value, bool):
            raise bad_payload(at + ": expected true or false, got " + _describe(value))
        return value
    if dtype == "DT_STRING":
        return _base64(value, at)
    if dtype in ("DT_FLOAT", "DT_DOUBLE"):
        number = _float(value, at)
        if dtype == "DT_FLOAT" and abs(number) != float("inf") and abs(number) > _FLOAT32_MAX:
            raise bad_payload(at + ": " + _describe(value) + " is beyond the range of a DT_FLOAT")
        return number
    integer = _integer(value, at)
    # DT_HALF's half_val holds the half's 16 bits in an int32.
    info = np.iinfo(np.uint16 if dtype == "DT_HALF" else numpy_dtype)
    if integer < info.min or integer > info.max:
        raise bad_payload("%s: %d is out of range for %s (%d to %d)" % (at, integer, dtype, info.min, info.max))
    return integer


def read(tensor, where="data.tftensor"):
    """A TensorProto's JSON form as a numpy array of its dtype; a 400 names the bad field."""
    if not isinstance(tensor, dict):
        raise bad_payload(where + ": expected a TensorProto object with dtype, tensorShape and values")
    for key in tensor:
        if key not in _KNOWN:
            raise bad_payload(where + "." + key + ": is not a field of TensorProto")
    dtype_value, dtype_at = _field(tensor, "dtype", where)
    if dtype_value is None:
        raise bad_payload(dtype_at + ": is required (one of " + ", ".join(DTYPES) + ")")
    dtype = _BY_NUMBER.get(dtype_value) if isinstance(dtype_value, int) and not isinstance(dtype_value, bool) else dtype_value
    if not isinstance(dtype, str) or dtype not in DTYPES:
        raise bad_payload(dtype_at + ": " + _describe(dtype_value) + " is not a dtype Trantor reads; use one of " + ", ".join(DTYPES))
    _, value_field, numpy_dtype = DTYPES[dtype]
    shape_value, shape_at = _field(tensor, "tensorShape", where)
    shape = _shape(shape_value, shape_at)
    count = 1
    for size in shape:
        count *= size
    for name in _VALUE_FIELDS:
        if name == value_field:
            continue
        other, other_at = _field(tensor, name, where)
        if other is not None and other != []:
            raise bad_payload(other_at + ": a " + dtype + " tensor's values go in " + _PROTO_NAMES[value_field] + " (or tensor_content)")
    content, content_at = _field(tensor, "tensorContent", where)
    given, given_at = _field(tensor, value_field, where)
    if given is None:
        given = []
    elif not isinstance(given, list):
        raise bad_payload(given_at + ": expected an array")
    if content not in (None, ""):
        if given:
            raise bad_payload(
                where + ": give the values in one of " + content_at[len(where) + 1:] + " or " + given_at[len(where) + 1:] + ", not both"
            )
        if dtype == "DT_STRING":
            raise bad_payload(content_at + ": a DT_STRING tensor's values go in string_val")
        raw = _base64(content, content_at)
        itemsize = np.dtype(numpy_dtype).itemsize
        if len(raw) != count * itemsize:
            raise bad_payload(
                "%s: %d bytes of data, but %d %s elements take %d" % (content_at, len(raw), count, dtype, count * itemsize)
            )
        return np.frombuffer(raw, dtype=np.dtype(numpy_dtype).newbyteorder("<")).astype(numpy_dtype).reshape(shape)
    if len(given) > count:
        raise bad_payload(
            "%s: %d values, but shape [%s] holds %d" % (given_at, len(given), ",".join(str(d) for d in shape), count)
        )
    elements = [_element(dtype, numpy_dtype, value, "%s[%d]" % (given_at, i)) for i, value in enumerate(given)]
    if len(elements) < count:
        # TensorFlow's rule for a short *_val: none gives zeros, else the last value repeats.
        if count > MAX_PADDED:
            raise bad_payload(
                "%s: %d values would fill shape [%s] of %d elements, more than the %d Trantor repeats a value to; send them all, or in tensor_content"
                % (given_at, len(given), ",".join(str(d) for d in shape), count, MAX_PADDED)
            )
        fill = elements[-1] if elements else (b"" if dtype == "DT_STRING" else 0)
        elements.extend([fill] * (count - len(elements)))
    if dtype == "DT_HALF":
        return np.array(elements, dtype=np.uint16).view(np.float16).reshape(shape)
    if dtype == "DT_STRING":
        array = np.empty(count, dtype=object)
        array[:] = elements
        return array.reshape(shape)
    return np.array(elements, dtype=numpy_dtype).reshape(shape)


def _dtype_of(array):
    if array.dtype == object or array.dtype.kind in "US":
        return "DT_STRING"
    for name, (_, _, numpy_dtype) in DTYPES.items():
        if numpy_dtype is not object and array.dtype == np.dtype(numpy_dtype):
            return name
    return None


def _string_bytes(value):
    if isinstance(value, (bytes, bytearray, memoryview)):
        return bytes(value)
    if isinstance(value, str):
        return value.encode("utf-8")
    return None


def write(array):
    """The JSON form of ``array`` as make_tensor_proto and MessageToJson write it, or None when no dtype fits."""
    array = np.asarray(array)
    dtype = _dtype_of(array)
    if dtype is None:
        return None
    _, value_field, _ = DTYPES[dtype]
    dims = [{"size": str(size)} if size else {} for size in array.shape]
    out = {"dtype": dtype, "tensorShape": {"dim": dims} if dims else {}}
    flat = array.ravel()
    if dtype == "DT_STRING":
        strings = [_string_bytes(value) for value in flat]
        if any(value is None for value in strings):
            return None
        if strings:
            out[value_field] = [base64.b64encode(value).decode("ascii") for value in strings]
        return out
    if flat.size == 0:
        return out
    if dtype in _CONTENT_DTYPES and flat.size > 1:
        little = flat.astype(flat.dtype.newbyteorder("<"), copy=False)
        out["tensorContent"] = base64.b64encode(little.tobytes()).decode("ascii")
    elif dtype == "DT_HALF":
        out[value_field] = flat.view(np.uint16).tolist()
    elif dtype in ("DT_INT64", "DT_UINT64"):
        out[value_field] = [str(value) for value in flat.tolist()]
    elif dtype in ("DT_FLOAT", "DT_DOUBLE"):
        out[value_field] = [value if value == value and abs(value) != float("inf") else _name_of_special(value) for value in flat.tolist()]
    else:
        out[value_field] = flat.tolist()
    return out


def _name_of_special(value):
    if value != value:
        return "NaN"
    return "Infinity" if value > 0 else "-Infinity"
