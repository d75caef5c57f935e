"""
The V2 (Open Inference Protocol) REST paths of the host:

    GET      /v2                      server metadata
    GET      /v2/health/live  /v2/health/ready
    GET      /v2/models/<m>[/versions/<v>]           model metadata
    GET      /v2/models/<m>[/versions/<v>]/ready
    POST     /v2/models/<m>[/versions/<v>]/infer

Bodies are JSON; with ``Inference-Header-Content-Length`` a body is that many bytes of JSON
followed by the raw bytes of each input whose parameters give ``binary_data_size`` (Triton's
binary tensor data extension). Outputs asked for with ``parameters.binary_data`` (or every
output, with the request's ``parameters.binary_data_output``) are answered the same way.
Errors are ``{"error": "..."}`` with 400, 404 (an unknown model or version) or 405.
"""

import json
import logging
from urllib.parse import unquote

import numpy as np

from . import v2
from .errors import MicroserviceError
from .http import Response

log = logging.getLogger("trantor_runtime")

_JSON = b"application/json"
_OCTETS = b"application/octet-stream"
_EMPTY = b"text/plain; charset=utf-8"
HEADER_LENGTH = b"inference-header-content-length"


def error(status, text):
    return Response(status, json.dumps({"error": text}, separators=(",", ":")).encode("utf-8"))


def _json(value):
    return Response(200, json.dumps(value, separators=(",", ":")).encode("utf-8"))


def _method_not_allowed(request, allow):
    response = error(405, request.method + " is not allowed on " + request.path + "; use " + allow)
    response.headers = b"Allow: " + allow.encode("ascii") + b"\r\n"
    return response


# -- bodies ----------------------------------------------------------------------------------


def _header_length(request):
    value = request.headers.get(HEADER_LENGTH)
    if value is None:
        return None
    text = value.strip()
    if not text.isdigit() or len(text) > 15:
        raise v2.bad("Inference-Header-Content-Length", "expected a byte count, got " + repr(value.decode("latin-1")))
    length = int(text)
    if length > len(request.body):
        raise v2.bad("Inference-Header-Content-Length", "%d is longer than the %d-byte body" % (length, len(request.body)))
    return length


def _binary_size(tensor, where):
    parameters = tensor.get("parameters") if isinstance(tensor, dict) else None
    if not isinstance(parameters, dict) or "binary_data_size" not in parameters:
        return None
    size = parameters["binary_data_size"]
    if type(size) is not int or size < 0:
        raise v2.bad(where + ".parameters.binary_data_size", "expected a byte count (an integer >= 0), got " + v2.describe(size))
    return size


def parse_infer_request(request):
    """The request dict of a POST .../infer, binary inputs read into their tensors' data."""
    body = request.body
    length = _header_length(request)
    header = body if length is None else body[:length]
    if not header.strip():
        raise v2.bad("body", "empty; send a V2 inference request such as {\"inputs\":[{\"name\":\"x\",\"datatype\":\"FP32\",\"shape\":[1,4],\"data\":[1,2,3,4]}]}")
    try:
        value = json.loads(header)
    except (ValueError, RecursionError) as exc:
        raise v2.bad("body", "not valid JSON (" + str(exc) + ")") from None
    if not isinstance(value, dict):
        raise v2.bad("body", "expected an object with inputs")
    inputs = value.get("inputs")
    if not isinstance(inputs, list):
        return value  # infer names the problem
    at = len(header)
    for i, tensor in enumerate(inputs):
        where = "inputs[%d]" % i
        size = _binary_size(tensor, where)
        if size is None:
            data = tensor.get("data") if isinstance(tensor, dict) else None
            if isinstance(data, list) and tensor.get("datatype") == "BYTES":
                tensor["data"] = [x.encode("utf-8") if isinstance(x, str) else x for x in v2.flatten(data, where + ".data")]
            continue
        if length is None:
            raise v2.bad(where + ".parameters.binary_data_size", "binary data needs the Inference-Header-Content-Length header")
        if "data" in tensor:
            raise v2.bad(where + ".data", "must be absent when parameters.binary_data_size is given")
        if at + size > len(body):
            raise v2.bad(where + ".parameters.binary_data_size", "%d bytes, but only %d remain in the body" % (size, len(body) - at))
        datatype = tensor.get("datatype")
        if datatype not in v2.NUMPY_DTYPES:
            raise v2.bad(where + ".datatype", "expected one of " + ", ".join(v2.DATATYPES) + ", got " + v2.describe(datatype))
        shape = v2.check_shape(tensor.get("shape"), where + ".shape")
        tensor["data"] = v2.decode_binary(datatype, body[at:at + size], v2.element_count(shape), where)
        at += size
        parameters = {k: x for k, x in tensor["parameters"].items() if k != "binary_data_size"}
        tensor["parameters"] = parameters
    if length is not None and at != len(body):
        raise v2.bad("body", "%d bytes after the last binary tensor belong to none" % (len(body) - at))
    return value


def _binary_wanted(request_value):
    parameters = request_value.get("parameters")
    every = isinstance(parameters, dict) and parameters.get("binary_data_output") is True
    own = {}
    outputs = request_value.get("outputs")
    for output in outputs if isinstance(outputs, list) else []:
        if isinstance(output, dict) and isinstance(output.get("parameters"), dict):
            flag = output["parameters"].get("binary_data")
            if isinstance(flag, bool):
                own[output.get("name")] = flag
    return lambda name: own.get(name, every)


def _raw(output):
    datatype = output["datatype"]
    data = output["data"]
    if datatype == "BYTES":
        return b"".join(len(x).to_bytes(4, "little") + x for x in data)
    return np.asarray([np.nan if x is None else x for x in data], dtype=v2.NUMPY_DTYPES[datatype]).tobytes()


def _json_data(output, where):
    if output["datatype"] != "BYTES":
        return output["data"]
    texts = []
    for i, x in enumerate(output["data"]):
        try:
            texts.append(x.decode("utf-8"))
        except UnicodeDecodeError:
            raise MicroserviceError(
                "%s.data[%d]: bytes that are not UTF-8 text cannot be written as JSON; ask for this output with parameters.binary_data"
                % (where, i),
                500,
                "INTERNAL_ERROR",
            ) from None
    return texts


def infer_response(response, binary_wanted):
    """The HTTP answer for an infer response dict: JSON, or JSON header plus binary outputs."""
    raws = []
    listed = []
    for i, output in enumerate(response["outputs"]):
        if binary_wanted(output["name"]):
            raw = _raw(output)
            raws.append(raw)
            entry = {k: x for k, x in output.items() if k != "data"}
            entry["parameters"] = dict(output.get("parameters") or {}, binary_data_size=len(raw))
        else:
            entry = dict(output, data=_json_data(output, "outputs[%d]" % i))
        listed.append(entry)
    try:
        header = json.dumps(dict(response, outputs=listed), separators=(",", ":"), allow_nan=False).encode("utf-8")
    except ValueError:
        raise MicroserviceError(
            "the model answered infinity, which JSON cannot carry; ask for the output with parameters.binary_data",
            500,
            "INTERNAL_ERROR",
        ) from None
    if not raws:
        return Response(200, header)
    return Response(
        200,
        header + b"".join(raws),
        _OCTETS,
        b"Inference-Header-Content-Length: " + str(len(header)).encode("ascii") + b"\r\n",
    )


# -- routing ---------------------------------------------------------------------------------


class V2Routes:
    """Answers the /v2 paths for one model."""

    def __init__(self, component):
        self.model = v2.model_for(component)

    def handle(self, request):
        path = request.path.rstrip("/") if len(request.path) > 1 else request.path
        method = request.method
        parts = [unquote(p) for p in path.split("/")[2:]]
        try:
            if not parts:
                return self._get(request, lambda: _json(v2.server_metadata()))
            if parts[0] == "health" and len(parts) == 2 and parts[1] in ("live", "ready"):
                return self._get(request, lambda: Response(200, b"", _EMPTY))
            if parts[0] == "models" and len(parts) >= 2:
                return self._model_path(request, method, parts[1], parts[2:])
        except MicroserviceError as exc:
            return error(exc.status_code, exc.message)
        except Exception as exc:  # noqa: BLE001 - a bug answers 500 and serving goes on
            log.exception("unexpected error while serving %s", request.path)
            return error(500, "unexpected error while serving " + request.path + ": " + type(exc).__name__ + ": " + str(exc))
        return error(404, "no such path: " + request.path + "; V2 paths are /v2, /v2/health/live|ready, /v2/models/"
                     + self.model.name + "[/versions/<v>][/ready|/infer]")

    @staticmethod
    def _get(request, answer):
        if request.method not in ("GET", "HEAD"):
            return _method_not_allowed(request, "GET")
        return answer()

    def _model_path(self, request, method, name, rest):
        version = None
        if len(rest) >= 2 and rest[0] == "versions":
            version = rest[1]
            rest = rest[2:]
        if len(rest) > 1 or (rest and rest[0] not in ("ready", "infer")):
            return error(404, "no such path: " + request.path)
        model = self.model
        if name != model.name:
            return error(404, "Model %s not found; this host serves %s" % (name, model.name))
        model.check_version(version)
        if not rest:
            return self._get(request, lambda: _json(model.metadata()))
        if rest[0] == "ready":
            return self._get(request, lambda: Response(200 if model.ready() else 400, b"", _EMPTY))
        if method != "POST":
            return _method_not_allowed(request, "POST")
        value = parse_infer_request(request)
        return infer_response(model.infer(value), _binary_wanted(value))
