"""
The component's HTTP paths, as Seldon's Python wrapper serves them:

    POST|GET /predict  /api/v1.0/predictions  /api/v0.1/predictions
    POST|GET /transform-input  /transform-output  /route  /aggregate  /send-feedback
             /api/v1.0/feedback  /api/v0.1/feedback
    GET      /health/ping  /health/status  /api/v1.0/health/status  /metadata  /api/v1.0/metadata
             /live  /ready  (Trantor's own: "live" and "ready"; Seldon's wrapper has neither)
    GET|POST /v2/...  the Open Inference Protocol (v2_rest.py)

Bodies are JSON, or a form whose ``json`` field holds the JSON text, or (as Seldon's wrapper
takes it) a multipart form with a field per message key; a GET carries ``json=`` in its query string.
"""

import base64
import json
import logging
from email.parser import BytesParser
from email.policy import HTTP
from urllib.parse import parse_qs

from . import message
from .errors import MicroserviceError, BAD_DATA, INTERNAL_ERROR, failure_body
from .http import Response
from .v2_rest import V2Routes

log = logging.getLogger("trantor_runtime")

_JSON = b"application/json"
_TEXT = b"text/plain; charset=utf-8"


def error_response(status, info, reason=None):
    if reason is None:
        reason = {
            400: BAD_DATA,
            404: "NOT_FOUND",
            405: "METHOD_NOT_ALLOWED",
            413: "PAYLOAD_TOO_LARGE",
            415: "UNSUPPORTED_MEDIA_TYPE",
            431: BAD_DATA,
            501: "NOT_IMPLEMENTED",
            505: BAD_DATA,
        }.get(status, "INTERNAL_ERROR" if status >= 500 else BAD_DATA)
    return Response(status, message.to_json_bytes(failure_body(status, info, reason)))


def _json_error(exc, where):
    # json.JSONDecodeError and UnicodeDecodeError are both ValueErrors with a useful text.
    return MicroserviceError(where + ": not valid JSON (" + str(exc) + ")", 400, BAD_DATA)


def _parse_json(data, where):
    try:
        return json.loads(data)
    except ValueError as exc:
        raise _json_error(exc, where) from None
    except RecursionError:
        raise MicroserviceError(where + ": not valid JSON here (nested too deeply)", 400, BAD_DATA) from None


def _form_field(text, where):
    fields = parse_qs(text, keep_blank_values=True)
    values = fields.get("json")
    if not values:
        raise MicroserviceError(where + ": no json= field; send json=<Seldon message>", 400, BAD_DATA)
    return _parse_json(values[0], where + " field json")


def request_value(request):
    """The JSON value a request carries (body, form field json=, or query json=)."""
    body = request.body
    if not body:
        if request.query and b"json=" in request.query:
            return _form_field(request.query.decode("utf-8", "replace"), "query string")
        raise MicroserviceError(
            "body: empty; send a JSON Seldon message such as {\"data\":{\"ndarray\":[[1,2]]}}"
            + (" (for GET, pass it as ?json=...)" if request.method == "GET" else ""),
            400,
            BAD_DATA,
        )
    content_type = request.headers.get(b"content-type", b"")
    if content_type[:16] == _JSON:
        return _parse_json(body, "body")
    media = content_type.split(b";", 1)[0].strip().lower()
    if media == b"application/x-www-form-urlencoded":
        return _form_field(body.decode("utf-8", "replace"), "form")
    if media == b"multipart/form-data":
        return _multipart(content_type, body)
    if media in (b"", b"application/json", b"text/plain") or media.endswith(b"+json"):
        return _parse_json(body, "body")
    raise MicroserviceError(
        "Content-Type " + media.decode("latin-1") + " is not supported; send application/json, or a form with a json= field",
        415,
        "UNSUPPORTED_MEDIA_TYPE",
    )


def _multipart(content_type, body):
    """Seldon's multipart form: each field is a message key (JSON text; ``strData`` as text), and
    a file field ``binData`` carries raw bytes (base64-encoded here), any other file text."""
    parsed = BytesParser(policy=HTTP).parsebytes(b"Content-Type: " + content_type + b"\r\n\r\n" + body)
    if not parsed.is_multipart():
        raise MicroserviceError("multipart form: no parts (is the boundary in Content-Type right?)", 400, BAD_DATA)
    value = {}
    for part in parsed.iter_parts():
        name = part.get_param("name", header="content-disposition")
        if not name:
            raise MicroserviceError("multipart form: a part has no name", 400, BAD_DATA)
        data = part.get_payload(decode=True) or b""
        where = "multipart field " + name
        if part.get_filename() is not None:
            value[name] = base64.b64encode(data).decode("ascii") if name == "binData" else data.decode("utf-8", "replace")
        elif name == "strData":
            value[name] = data.decode("utf-8", "replace")
        else:
            value[name] = _parse_json(data, where)
    return value


class Routes:
    """Maps a Request to a Response for one Component."""

    def __init__(self, component, recorder=None):
        self.component = component
        # A metrics.Recorder when the metrics port is served; None keeps the request path bare.
        self.recorder = recorder
        c = component
        message_paths = {
            "/predict": c.predict,
            "/api/v1.0/predictions": c.predict,
            "/api/v0.1/predictions": c.predict,
            "/transform-input": c.transform_input,
            "/transform-output": c.transform_output,
            "/route": c.route,
            "/aggregate": c.aggregate,
            "/send-feedback": c.send_feedback,
            "/api/v1.0/feedback": c.send_feedback,
            "/api/v0.1/feedback": c.send_feedback,
        }
        self._message_paths = message_paths
        self._get_paths = {
            "/health/ping": self._ping,
            "/health/status": self._health_status,
            "/api/v1.0/health/status": self._health_status,
            "/metadata": self._metadata,
            "/api/v1.0/metadata": self._metadata,
            "/live": self._live,
            "/ready": self._ready,
        }
        self._known = sorted(list(message_paths) + list(self._get_paths)) + ["/v2/..."]
        self._v2 = V2Routes(component)

    def handle(self, request):
        path = request.path
        method = request.method
        if path[:4] == "/v2/" or path == "/v2":
            response = self._v2.handle(request)
            if self.recorder is not None:
                self.recorder.request("/v2/infer" if path.endswith("/infer") else "/v2", response.status)
            return response
        call = self._message_paths.get(path)
        if call is not None:
            if method != "POST" and method != "GET":
                return self._method_not_allowed(request, b"GET, POST")
            value = reply = None
            try:
                value = request_value(request)
                reply = call(value)
            except MicroserviceError as exc:
                response = error_response(exc.status_code, exc.message, exc.reason)
            except Exception as exc:  # noqa: BLE001 - a runtime bug answers 500 and serving goes on
                log.exception("unexpected error while serving %s", path)
                response = error_response(500, "unexpected error while serving " + path + ": " + type(exc).__name__ + ": " + str(exc))
            else:
                response = self._json_reply(reply, path)
            if self.recorder is not None:
                self._observe(path, response.status, value, reply)
            return response
        handler = self._get_paths.get(path)
        if handler is not None:
            if method != "GET" and method != "HEAD" and method != "POST":
                return self._method_not_allowed(request, b"GET")
            try:
                return handler()
            except MicroserviceError as exc:
                return error_response(exc.status_code, exc.message, exc.reason)
        if len(path) > 1 and path.endswith("/"):
            retry = path.rstrip("/")
            if retry in self._message_paths or retry in self._get_paths:
                request.path = retry
                return self.handle(request)
        return error_response(404, "no such path: " + path + "; this component serves " + ", ".join(self._known))

    def _observe(self, path, status, value, reply):
        self.recorder.exchange(path, status, value, reply, self._message_paths[path] == self.component.send_feedback)

    @staticmethod
    def _method_not_allowed(request, allow):
        response = error_response(405, request.method + " is not allowed on " + request.path + "; use " + allow.decode())
        response.headers = b"Allow: " + allow + b"\r\n"
        return response

    def _json_reply(self, reply, where):
        try:
            return Response(200, message.to_json_bytes(reply))
        except ValueError as exc:
            info = "the reply to " + where + " cannot be written as JSON: " + str(exc)
            if "Out of range float" in str(exc):
                info = "the reply to " + where + " contains NaN or infinity, which JSON cannot carry"
        except (TypeError, RecursionError) as exc:
            info = "the reply to " + where + " cannot be written as JSON: " + str(exc)
        log.error("%s", info)
        return error_response(500, info, INTERNAL_ERROR)

    @staticmethod
    def _ping():
        return Response(200, b"pong", _TEXT)

    @staticmethod
    def _live():
        return Response(200, b"live", _TEXT)

    @staticmethod
    def _ready():
        return Response(200, b"ready", _TEXT)

    def _health_status(self):
        return self._json_reply(self.component.health_status(), "/health/status")

    def _metadata(self):
        return self._json_reply(self.component.metadata(), "/metadata")
