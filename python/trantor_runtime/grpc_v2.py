"""
The Open Inference Protocol (V2) over gRPC: ``inference.GRPCInferenceService`` — ServerLive,
ServerReady, ModelReady, ServerMetadata, ModelMetadata, ModelInfer — over the host's V2 model
(``trantor_runtime.v2.model_for(component)``: ``.name``, ``.versions``, ``.ready()``,
``.metadata()``, ``.infer(request) -> response``, request and response in V2's REST JSON form with
``data`` flat, BYTES elements as bytes).

ModelInferRequest tensors arrive in typed ``contents`` or in ``raw_input_contents`` (one entry per
input, little-endian, BYTES as 4-byte length + bytes each); the answer comes back the same way
(raw when the request was raw, or when an output is FP16, which has no typed field), as Triton does.
"""

import logging
import struct

import numpy as np

import grpc

from . import grpc_inline
from .errors import MicroserviceError, from_model_exception

log = logging.getLogger("trantor_runtime")

SERVICE = "inference.GRPCInferenceService"

# datatype -> (the typed contents field, numpy's little-endian dtype)
DATATYPES = {
    "BOOL": ("bool_contents", np.dtype("?")),
    "UINT8": ("uint_contents", np.dtype("<u1")),
    "UINT16": ("uint_contents", np.dtype("<u2")),
    "UINT32": ("uint_contents", np.dtype("<u4")),
    "UINT64": ("uint64_contents", np.dtype("<u8")),
    "INT8": ("int_contents", np.dtype("<i1")),
    "INT16": ("int_contents", np.dtype("<i2")),
    "INT32": ("int_contents", np.dtype("<i4")),
    "INT64": ("int64_contents", np.dtype("<i8")),
    "FP16": (None, np.dtype("<f2")),
    "FP32": ("fp32_contents", np.dtype("<f4")),
    "FP64": ("fp64_contents", np.dtype("<f8")),
    "BYTES": ("bytes_contents", None),
}
_CONTENT_FIELDS = sorted({field for field, _ in DATATYPES.values() if field})
_INT64_MAX = (1 << 63) - 1
_LENGTH = struct.Struct("<I")


def _bad(info):
    return MicroserviceError(info, 400, "MICROSERVICE_BAD_DATA")


def _count(shape, at):
    count = 1
    for i, dim in enumerate(shape):
        if dim < 0:
            raise _bad(at + ".shape[" + str(i) + "]: expected a size of 0 or more, got " + str(dim))
        count *= dim
    return count


def _holds(shape, count, got, at):
    if got != count:
        raise _bad(at + ": shape [" + ",".join(str(d) for d in shape) + "] holds " + str(count) + " values, got " + str(got))


def _parameter_value(parameter):
    kind = parameter.WhichOneof("parameter_choice")
    return None if kind is None else getattr(parameter, kind)


def _parameters(mapping):
    return {key: _parameter_value(value) for key, value in mapping.items()}


def _set_parameters(target, values):
    for key, value in (values or {}).items():
        if key in ("binary_data", "binary_data_size"):
            continue  # REST's binary extension: gRPC tensors are binary already
        parameter = target[key]
        if isinstance(value, bool):
            parameter.bool_param = value
        elif isinstance(value, (int, np.integer)):
            value = int(value)
            if value > _INT64_MAX:
                parameter.uint64_param = value
            else:
                parameter.int64_param = value
        elif isinstance(value, (float, np.floating)):
            parameter.double_param = float(value)
        elif isinstance(value, str):
            parameter.string_param = value
        elif value is not None:
            parameter.string_param = str(value)


def split_bytes(raw, count, at):
    """BYTES elements from their wire form: each a 4-byte little-endian length, then the bytes."""
    out = []
    offset = 0
    view = memoryview(raw)
    while offset < len(raw):
        if offset + 4 > len(raw):
            raise _bad(at + ": " + str(len(raw) - offset) + " bytes left where a 4-byte length was expected (element " + str(len(out)) + ")")
        (length,) = _LENGTH.unpack_from(raw, offset)
        offset += 4
        if offset + length > len(raw):
            raise _bad(at + ": element " + str(len(out)) + " says " + str(length) + " bytes, " + str(len(raw) - offset) + " remain")
        out.append(bytes(view[offset:offset + length]))
        offset += length
    if len(out) != count:
        raise _bad(at + ": expected " + str(count) + " BYTES elements, got " + str(len(out)))
    return out


def join_bytes(values):
    return b"".join(_LENGTH.pack(len(v)) + v for v in values)


def _raw_values(raw, datatype, count, at):
    if datatype == "BYTES":
        return split_bytes(raw, count, at)
    dtype = DATATYPES[datatype][1]
    if len(raw) != count * dtype.itemsize:
        raise _bad(at + ": " + str(count) + " " + datatype + " values take " + str(count * dtype.itemsize) + " bytes, got " + str(len(raw)))
    return np.frombuffer(raw, dtype=dtype).tolist()


def _typed_values(contents, datatype, count, at):
    field, dtype = DATATYPES[datatype]
    others = [f for f in _CONTENT_FIELDS if f != field and len(getattr(contents, f))]
    if others:
        raise _bad(at + "." + others[0] + ": a " + datatype + " tensor's values go in " + (at + "." + field if field else "raw_input_contents"))
    if field is None:
        raise _bad(at + ": FP16 has no typed contents field; send FP16 tensors in raw_input_contents")
    values = list(getattr(contents, field))
    _holds_at = at + "." + field
    if len(values) != count:
        raise _bad(_holds_at + ": " + str(count) + " values expected for the tensor's shape, got " + str(len(values)))
    if field in ("int_contents", "uint_contents") and values:
        info = np.iinfo(dtype)
        low, high = min(values), max(values)
        if low < info.min or high > info.max:
            bad = next(i for i, v in enumerate(values) if v < info.min or v > info.max)
            raise _bad(_holds_at + "[" + str(bad) + "]: " + str(values[bad]) + " is out of range for " + datatype)
    return values


def request_dict(request):
    """The V2 REST JSON form (``data`` flat) of a ModelInferRequest; a 400 names the field."""
    raw = request.raw_input_contents
    if raw and len(raw) != len(request.inputs):
        raise _bad("raw_input_contents: " + str(len(raw)) + " entries for " + str(len(request.inputs)) + " inputs; send one per input, in order")
    inputs = []
    for i, tensor in enumerate(request.inputs):
        at = "inputs[" + str(i) + "]"
        datatype = tensor.datatype
        if datatype not in DATATYPES:
            raise _bad(at + ".datatype: " + repr(datatype) + " is not one of " + ", ".join(DATATYPES))
        shape = list(tensor.shape)
        count = _count(shape, at)
        if raw:
            if any(len(getattr(tensor.contents, f)) for f in _CONTENT_FIELDS):
                raise _bad(at + ".contents: give the values in contents or in raw_input_contents, not both")
            data = _raw_values(raw[i], datatype, count, "raw_input_contents[" + str(i) + "]")
        else:
            data = _typed_values(tensor.contents, datatype, count, at + ".contents")
        entry = {"name": tensor.name, "datatype": datatype, "shape": shape, "data": data}
        if tensor.parameters:
            entry["parameters"] = _parameters(tensor.parameters)
        inputs.append(entry)
    out = {"inputs": inputs}
    if request.id:
        out["id"] = request.id
    if request.parameters:
        out["parameters"] = _parameters(request.parameters)
    if request.outputs:
        outputs = []
        for wanted in request.outputs:
            entry = {"name": wanted.name}
            if wanted.parameters:
                entry["parameters"] = _parameters(wanted.parameters)
            outputs.append(entry)
        out["outputs"] = outputs
    return out


def _flat(data):
    if isinstance(data, np.ndarray):
        return data.ravel().tolist()
    if isinstance(data, (list, tuple)) and any(isinstance(v, (list, tuple, np.ndarray)) for v in data):
        out = []
        for value in data:
            out.extend(_flat(value) if isinstance(value, (list, tuple, np.ndarray)) else [value])
        return out
    return list(data)


def _as_bytes(value, at):
    if isinstance(value, (bytes, bytearray, memoryview)):
        return bytes(value)
    if isinstance(value, str):
        return value.encode("utf-8")
    if isinstance(value, np.bytes_):
        return bytes(value)
    raise MicroserviceError(at + ": a BYTES element must be bytes or str, got a " + type(value).__name__, 500, "MICROSERVICE_INTERNAL_ERROR")


def response_message(reply, cls, raw, model):
    """A ModelInferResponse from the model's V2 JSON reply; raw contents when ``raw`` (or an output is FP16)."""
    message = cls(
        model_name=str(reply.get("model_name") or model.name),
        model_version=str(reply.get("model_version") or ""),
        id=str(reply.get("id") or ""),
    )
    _set_parameters(message.parameters, reply.get("parameters"))
    outputs = reply.get("outputs") or []
    raw = raw or any(isinstance(o, dict) and o.get("datatype") == "FP16" for o in outputs)
    for j, output in enumerate(outputs):
        at = "outputs[" + str(j) + "]"
        datatype = output.get("datatype")
        if datatype not in DATATYPES:
            raise MicroserviceError("the model's reply " + at + ".datatype: " + repr(datatype) + " is not a V2 datatype", 500, "MICROSERVICE_INTERNAL_ERROR")
        shape = [int(d) for d in output.get("shape") or []]
        tensor = message.outputs.add(name=str(output.get("name", "")), datatype=datatype, shape=shape)
        _set_parameters(tensor.parameters, output.get("parameters"))
        data = _flat(output.get("data") or [])
        count = 1
        for dim in shape:
            count *= dim
        if len(data) != count:
            raise MicroserviceError(
                "the model's reply " + at + ": shape " + str(shape) + " holds " + str(count) + " values, got " + str(len(data)),
                500,
                "MICROSERVICE_INTERNAL_ERROR",
            )
        field, dtype = DATATYPES[datatype]
        if datatype == "BYTES":
            values = [_as_bytes(v, at + ".data[" + str(k) + "]") for k, v in enumerate(data)]
            if raw:
                message.raw_output_contents.append(join_bytes(values))
            else:
                tensor.contents.bytes_contents.extend(values)
            continue
        try:
            array = np.asarray(data, dtype=dtype)
        except (TypeError, ValueError, OverflowError) as exc:
            raise MicroserviceError(
                "the model's reply " + at + ".data: cannot be sent as " + datatype + " (" + type(exc).__name__ + ": " + str(exc) + ")",
                500,
                "MICROSERVICE_INTERNAL_ERROR",
            ) from None
        if raw:
            message.raw_output_contents.append(array.tobytes())
        else:
            getattr(tensor.contents, field).extend(array.tolist())
    return message


def _load_model(component):
    """The V2 model of ``component`` and the v2 module, or (None, why V2 is not served)."""
    try:
        from . import v2
    except ImportError as exc:
        return None, None, "V2 (the Open Inference Protocol) is not available in this host: " + str(exc)
    try:
        return v2.model_for(component), v2, None
    except MicroserviceError as exc:
        return None, v2, exc.message
    except Exception as exc:  # noqa: BLE001 - a model that cannot answer V2 still answers Seldon's protocol
        log.warning("V2 is not served: %s: %s", type(exc).__name__, exc)
        return None, v2, "V2 is not served by this component: " + type(exc).__name__ + ": " + str(exc)


class InferenceService:
    """``inference.GRPCInferenceService`` over one V2 model; ``model`` given, or from v2.model_for."""

    def __init__(self, component, lock, schema, model=None, server_metadata=None):
        self.lock = lock
        self.schema = schema
        self._server_metadata = server_metadata
        if model is None:
            model, module, self.unavailable = _load_model(component)
            if module is not None and server_metadata is None:
                self._server_metadata = getattr(module, "server_metadata", None)
        else:
            self.unavailable = None
        self.model = model

    def _message(self, name):
        return self.schema.message("inference." + name)

    def _abort(self, context, exc):
        from .grpc_server import status_code

        context.abort(status_code(exc.status_code), exc.message)

    def _model(self, context, name, version):
        model = self.model
        if model is None:
            context.abort(grpc.StatusCode.UNIMPLEMENTED, self.unavailable)
        if name != model.name:
            context.abort(grpc.StatusCode.NOT_FOUND, "model " + repr(name) + " is not served here; this server serves " + repr(model.name))
        versions = list(getattr(model, "versions", None) or [])
        if version and versions and version not in versions:
            context.abort(
                grpc.StatusCode.NOT_FOUND,
                "model " + repr(name) + " has no version " + repr(version) + "; it has " + ", ".join(repr(v) for v in versions),
            )
        return model

    def _guarded(self, context, fn, *args):
        """``fn(*args)`` holding the lock; a model error becomes its gRPC status."""
        try:
            with self.lock:
                return fn(*args)
        except MicroserviceError as exc:
            self._abort(context, exc)
        except Exception as exc:  # noqa: BLE001
            error = from_model_exception(exc, getattr(fn, "__qualname__", "the V2 model"))
            if error.status_code >= 500:
                log.error("V2 call failed", exc_info=True)
            self._abort(context, error)

    def server_live(self, request, context):
        return self._message("ServerLiveResponse")(live=True)

    def server_ready(self, request, context):
        ready = self.model is not None and bool(self._guarded(context, self.model.ready))
        return self._message("ServerReadyResponse")(ready=ready)

    def model_ready(self, request, context):
        model = self._model(context, request.name, request.version)
        return self._message("ModelReadyResponse")(ready=bool(self._guarded(context, model.ready)))

    def server_metadata(self, request, context):
        from . import __version__

        value = {"name": "trantor", "version": __version__, "extensions": []}
        if self._server_metadata is not None:
            value = self._guarded(context, self._server_metadata)
        return self._message("ServerMetadataResponse")(
            name=str(value.get("name", "")), version=str(value.get("version", "")), extensions=[str(e) for e in value.get("extensions") or []]
        )

    def model_metadata(self, request, context):
        model = self._model(context, request.name, request.version)
        value = self._guarded(context, model.metadata)
        cls = self._message("ModelMetadataResponse")
        reply = cls(
            name=str(value.get("name", model.name)), versions=[str(v) for v in value.get("versions") or []],
            platform=str(value.get("platform", "")),
        )
        for key in ("inputs", "outputs"):
            for tensor in value.get(key) or []:
                getattr(reply, key).add(
                    name=str(tensor.get("name", "")), datatype=str(tensor.get("datatype", "")), shape=[int(d) for d in tensor.get("shape") or []]
                )
        return reply

    def model_infer(self, request, context):
        model = self._model(context, request.model_name, request.model_version)
        try:
            body = request_dict(request)
        except MicroserviceError as exc:
            self._abort(context, exc)
        reply = self._guarded(context, model.infer, body)
        if request.id and not reply.get("id"):
            reply = dict(reply, id=request.id)
        try:
            return response_message(reply, self._message("ModelInferResponse"), bool(request.raw_input_contents), model)
        except MicroserviceError as exc:
            log.error("%s", exc.message)
            self._abort(context, exc)
        except (TypeError, ValueError, OverflowError) as exc:
            info = "the model's reply cannot be sent as a ModelInferResponse: " + type(exc).__name__ + ": " + str(exc)
            log.error("%s", info)
            context.abort(grpc.StatusCode.INTERNAL, info)

    def handler(self):
        methods = {
            "ServerLive": ("ServerLiveRequest", "ServerLiveResponse", self.server_live),
            "ServerReady": ("ServerReadyRequest", "ServerReadyResponse", self.server_ready),
            "ModelReady": ("ModelReadyRequest", "ModelReadyResponse", self.model_ready),
            "ServerMetadata": ("ServerMetadataRequest", "ServerMetadataResponse", self.server_metadata),
            "ModelMetadata": ("ModelMetadataRequest", "ModelMetadataResponse", self.model_metadata),
            "ModelInfer": ("ModelInferRequest", "ModelInferResponse", self.model_infer),
        }
        table = {}
        for method, (request_name, reply_name, fn) in methods.items():
            table[method] = grpc_inline.unary(
                fn,
                request_deserializer=self._message(request_name).FromString,
                response_serializer=self._message(reply_name).SerializeToString,
            )
        return grpc.method_handlers_generic_handler(SERVICE, table)
