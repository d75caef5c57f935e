"""
The user-class contract, as Seldon's Python wrapper defines it: a model object with some of
``predict``, ``predict_raw``, ``transform_input``, ``transform_output``, ``route``,
``aggregate``, ``send_feedback`` (and their ``_raw`` variants), ``class_names``, ``tags``,
``metrics``, ``health_status``, ``init_metadata`` and ``load``.

:class:`Component` looks the methods up once and turns a request message (a dict) into a
reply message (a dict). Model exceptions become :class:`MicroserviceError`.
"""

import inspect
import logging
import numbers

import numpy as np

from . import message
from .errors import MicroserviceError, BAD_DATA, INTERNAL_ERROR, bad_payload, from_model_exception

log = logging.getLogger("trantor_runtime")

_METRIC_TYPES = ("COUNTER", "GAUGE", "TIMER")


class NotImplementedByModel(MicroserviceError):
    """A method the class does not have: 400, as Seldon's wrapper answers (SeldonNotImplementedError)."""

    def __init__(self, info):
        super().__init__(info, 400, BAD_DATA)


class _Call:
    """How to call a model method: positional arguments it takes, and optional keywords."""

    __slots__ = ("fn", "positional", "keywords", "where", "raw")

    def __init__(self, fn, where, optional_keywords=()):
        self.fn = fn
        self.where = where
        self.raw = where.endswith("_raw")
        self.positional = None  # None: any number
        self.keywords = frozenset()
        try:
            signature = inspect.signature(fn)
        except (TypeError, ValueError):
            return
        count = 0
        var_positional = False
        var_keyword = False
        named = set()
        for p in signature.parameters.values():
            if p.kind in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD):
                count += 1
                named.add(p.name)
            elif p.kind == p.VAR_POSITIONAL:
                var_positional = True
            elif p.kind == p.VAR_KEYWORD:
                var_keyword = True
            else:
                named.add(p.name)
        self.positional = None if var_positional else count
        self.keywords = frozenset(k for k in optional_keywords if var_keyword or k in named)

    def __call__(self, args, keywords=None):
        if self.positional is not None and self.positional < len(args):
            args = args[: self.positional]
        try:
            if keywords and self.keywords:
                return self.fn(*args, **{k: v for k, v in keywords.items() if k in self.keywords})
            return self.fn(*args)
        except MicroserviceError:
            raise
        except NotImplementedError as exc:
            if self.raw:
                raise _RawNotImplemented() from None
            detail = str(exc)
            raise MicroserviceError(
                self.where + " is not implemented" + (": " + detail if detail else ""), 501, "NOT_IMPLEMENTED"
            ) from None
        except Exception as exc:  # noqa: BLE001 - model errors become replies, never crashes
            error = from_model_exception(exc, self.where)
            if error.status_code >= 500:
                log.error("%s raised", self.where, exc_info=True)
            raise error from exc


def _method(model, name, where, optional_keywords=()):
    fn = getattr(model, name, None)
    if fn is None or not callable(fn):
        return None
    return _Call(fn, where + "." + name, optional_keywords)


class Component:
    """A user model object behind the Seldon component paths."""

    def __init__(self, model, name=None, unit_id="", metadata_defaults=None):
        self.model = model
        self.name = name or type(model).__name__
        self.unit_id = unit_id
        n = self.name
        self._predict = _method(model, "predict", n, ("meta",))
        self._predict_raw = _method(model, "predict_raw", n)
        self._transform_input = _method(model, "transform_input", n, ("meta",))
        self._transform_input_raw = _method(model, "transform_input_raw", n)
        self._transform_output = _method(model, "transform_output", n, ("meta",))
        self._transform_output_raw = _method(model, "transform_output_raw", n)
        self._route = _method(model, "route", n, ("meta",))
        self._route_raw = _method(model, "route_raw", n)
        self._aggregate = _method(model, "aggregate", n, ("meta",))
        self._aggregate_raw = _method(model, "aggregate_raw", n)
        self._send_feedback = _method(model, "send_feedback", n, ("routing",))
        self._send_feedback_raw = _method(model, "send_feedback_raw", n)
        self._health_status = _method(model, "health_status", n)
        self._health_status_raw = _method(model, "health_status_raw", n)
        self._tags = _method(model, "tags", n)
        self._metrics = _method(model, "metrics", n)
        self._metadata_defaults = metadata_defaults or {}
        self._metadata = None
        self._metadata_error = None

    # -- metadata -------------------------------------------------------------------------

    def init_metadata(self):
        """Calls the model's init_metadata once (at start); a failure is answered on /metadata."""
        defaults = self._metadata_defaults
        fn = _method(self.model, "init_metadata", self.name)
        metadata = {}
        if fn is not None:
            try:
                metadata = fn(())
            except MicroserviceError as exc:
                self._metadata_error = exc
                log.error("%s.init_metadata failed: %s", self.name, exc.message)
                return
            if metadata is None:
                metadata = {}
            if not isinstance(metadata, dict):
                self._metadata_error = MicroserviceError(
                    self.name + ".init_metadata returned a " + type(metadata).__name__ + "; return a dict",
                    500,
                    INTERNAL_ERROR,
                )
                log.error("%s", self._metadata_error.message)
                return
            metadata = dict(metadata)
        for key in ("name", "versions", "platform", "inputs", "outputs"):
            if key not in metadata and key in defaults:
                metadata[key] = defaults[key]
        custom = defaults.get("custom")
        if custom:
            merged = dict(custom)
            user_custom = metadata.get("custom")
            if isinstance(user_custom, dict):
                merged.update(user_custom)
            metadata["custom"] = merged
        self._metadata = metadata

    def metadata(self):
        if self._metadata_error is not None:
            raise self._metadata_error
        if self._metadata is None:
            self.init_metadata()
            if self._metadata_error is not None:
                raise self._metadata_error
        return self._metadata

    # -- reply meta ------------------------------------------------------------------------

    def _class_names(self):
        names = getattr(self.model, "class_names", None)
        if names is None:
            return None
        if isinstance(names, np.ndarray):
            names = names.tolist()
        return list(names)

    def _meta(self, request_meta):
        meta = {}
        request_tags = None
        if request_meta and isinstance(request_meta, dict):
            puid = request_meta.get("puid")
            if puid:
                meta["puid"] = puid
            # Seldon's wrapper carries the request's tags on, under the model's own.
            request_tags = request_meta.get("tags")
            if request_tags and isinstance(request_tags, dict):
                meta["tags"] = dict(request_tags)
        if self._tags is not None:
            tags = self._tags(())
            if tags:
                if not isinstance(tags, dict):
                    raise MicroserviceError(
                        self.name + ".tags returned a " + type(tags).__name__ + "; return a dict", 500, INTERNAL_ERROR
                    )
                meta["tags"] = {**meta["tags"], **tags} if "tags" in meta else tags
        if self._metrics is not None:
            metrics = self._metrics(())
            if metrics:
                meta["metrics"] = self._check_metrics(metrics)
        return meta

    def _check_metrics(self, metrics):
        where = self.name + ".metrics"
        if not isinstance(metrics, (list, tuple)):
            raise MicroserviceError(where + " returned a " + type(metrics).__name__ + "; return a list", 500, INTERNAL_ERROR)
        for i, metric in enumerate(metrics):
            at = "%s()[%d]" % (where, i)
            if not isinstance(metric, dict):
                raise MicroserviceError(at + ": expected a dict with key, type and value", 500, INTERNAL_ERROR)
            if not isinstance(metric.get("key"), str) or not metric.get("key"):
                raise MicroserviceError(at + ".key: expected a non-empty string", 500, INTERNAL_ERROR)
            if metric.get("type") not in _METRIC_TYPES:
                raise MicroserviceError(
                    at + ".type: expected COUNTER, GAUGE or TIMER, got " + repr(metric.get("type")), 500, INTERNAL_ERROR
                )
            value = metric.get("value")
            if isinstance(value, bool) or not isinstance(value, numbers.Real):
                raise MicroserviceError(at + ".value: expected a number, got " + repr(value), 500, INTERNAL_ERROR)
            tags = metric.get("tags")
            if tags is not None and not isinstance(tags, dict):
                raise MicroserviceError(at + ".tags: expected a dict of strings", 500, INTERNAL_ERROR)
        return list(metrics)

    def _reply(self, output, kind, request_meta, where):
        reply = message.encode(output, kind, self._class_names(), where)
        reply["meta"] = self._meta(request_meta)
        return reply

    # -- the paths -------------------------------------------------------------------------

    def predict(self, msg):
        if self._predict_raw is not None:
            try:
                return self._raw(self._predict_raw, msg)
            except _RawNotImplemented:
                pass
        if self._predict is None:
            raise NotImplementedByModel(self.name + " has no predict method (nor predict_raw)")
        return self._call_on_features(self._predict, msg)

    def transform_input(self, msg):
        return self._transform(self._transform_input_raw, self._transform_input, msg)

    def transform_output(self, msg):
        return self._transform(self._transform_output_raw, self._transform_output, msg)

    def _transform(self, raw, call, msg):
        if raw is not None:
            try:
                return self._raw(raw, msg)
            except _RawNotImplemented:
                pass
        if call is None:
            payload = message.decode(msg)
            return self._reply(payload.X, payload.kind, msg.get("meta"), self.name)
        return self._call_on_features(call, msg)

    def route(self, msg):
        if self._route_raw is not None:
            try:
                return self._raw(self._route_raw, msg)
            except _RawNotImplemented:
                pass
        if self._route is None:
            raise NotImplementedByModel(self.name + " has no route method (nor route_raw)")
        payload = message.decode(msg)
        message.set_payload_field(payload.field)
        meta = msg.get("meta")
        child = self._route((payload.X, payload.names), {"meta": meta or {}})
        if isinstance(child, np.integer):
            child = int(child)
        if not isinstance(child, int) or isinstance(child, bool):
            raise MicroserviceError(
                self._route.where + " returned " + repr(child) + "; return an int (a child index, -1 for all, -2 to stop)",
                500,
                INTERNAL_ERROR,
            )
        reply = {"data": {"names": ["t:0"], "ndarray": [[child]]}}
        reply["meta"] = self._meta(meta)
        return reply

    def aggregate(self, body):
        if self._aggregate_raw is not None:
            try:
                return self._raw(self._aggregate_raw, body)
            except _RawNotImplemented:
                pass
        if isinstance(body, dict) and "seldonMessages" in body:
            messages, where = body["seldonMessages"], "seldonMessages"
        else:
            messages, where = body, ""
        if not isinstance(messages, list) or not messages:
            raise bad_payload(
                (where or "body") + ": expected a non-empty array of Seldon messages (or {\"seldonMessages\": [...]})"
            )
        if self._aggregate is None:
            raise NotImplementedByModel(self.name + " has no aggregate method (nor aggregate_raw)")
        payloads = [message.decode(m, "%s[%d]" % (where, i)) for i, m in enumerate(messages)]
        message.set_payload_field(payloads[0].field)
        output = self._aggregate(([p.X for p in payloads], [p.names for p in payloads]))
        first = messages[0]
        return self._reply(output, payloads[0].kind, first.get("meta"), self._aggregate.where)

    def send_feedback(self, body):
        if not isinstance(body, dict):
            raise bad_payload("body: expected a feedback object with request, response, reward and truth")
        if self._send_feedback_raw is not None:
            try:
                return self._raw(self._send_feedback_raw, body)
            except _RawNotImplemented:
                pass
        request = body.get("request")
        X, names, kind = None, [], message.NDARRAY
        if isinstance(request, dict) and any(k in request for k in ("data", "binData", "strData", "jsonData")):
            payload = message.decode(request, "request")
            X, names, kind = payload.X, payload.names, payload.kind
            message.set_payload_field(payload.field)
        elif request is not None and not isinstance(request, dict):
            raise bad_payload("request: expected a Seldon message object")
        truth = body.get("truth")
        truth_value = None
        if isinstance(truth, dict) and any(k in truth for k in ("data", "binData", "strData", "jsonData")):
            truth_value = message.decode(truth, "truth").X
        elif truth is not None and not isinstance(truth, dict):
            raise bad_payload("truth: expected a Seldon message object")
        reward = body.get("reward")
        if reward is not None and (isinstance(reward, bool) or not isinstance(reward, numbers.Real)):
            raise bad_payload("reward: expected a number, got " + repr(reward))
        routing = None
        response = body.get("response")
        if isinstance(response, dict):
            meta = response.get("meta")
            if isinstance(meta, dict) and isinstance(meta.get("routing"), dict):
                routing = meta["routing"].get(self.unit_id)
        output = None
        if self._send_feedback is not None:
            output = self._send_feedback((X, names, reward, truth_value), {"routing": routing})
        if output is None:
            output = np.array([])
        request_meta = request.get("meta") if isinstance(request, dict) else None
        reply = self._reply(output, kind, request_meta, self.name + ".send_feedback")
        # Seldon's wrapper answers feedback through its protobuf message, which leaves empty names out.
        data = reply.get("data")
        if isinstance(data, dict) and data.get("names") == []:
            del data["names"]
        return reply

    def health_status(self):
        if self._health_status_raw is not None:
            try:
                reply = self._health_status_raw(())
            except _RawNotImplemented:
                reply = None
            else:
                if reply is None:
                    raise MicroserviceError(
                        self._health_status_raw.where + " returned None; return a Seldon message dict", 500, INTERNAL_ERROR
                    )
                return reply
        # Seldon's wrapper: no health_status method means "healthy".
        output = "healthy" if self._health_status is None else self._health_status(())
        return self._reply(output, message.NDARRAY, None, self.name + ".health_status")

    # -- helpers ---------------------------------------------------------------------------

    def _call_on_features(self, call, msg):
        payload = message.decode(msg)
        message.set_payload_field(payload.field)
        meta = msg.get("meta")
        output = call((payload.X, payload.names), {"meta": meta if meta is not None else {}})
        return self._reply(output, payload.kind, meta, call.where)

    def _raw(self, call, msg):
        reply = call((msg,))
        if reply is None:
            raise MicroserviceError(call.where + " returned None; return a Seldon message dict", 500, INTERNAL_ERROR)
        return reply


class _RawNotImplemented(Exception):
    """A ``*_raw`` method raised NotImplementedError: fall back to the plain method, as Seldon does."""
