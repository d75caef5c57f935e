"""
The host's gRPC server (grpc.aio, on an event loop in a thread of its own): Seldon's component
services — ``seldon.protos`` ``Model``,
``Router``, ``Transformer``, ``OutputTransformer``, ``Combiner``, ``Generic`` and ``Seldon``, as
Seldon's wrapper registers them all on one server — the Open Inference Protocol's
``inference.GRPCInferenceService`` (grpc_v2.py), ``grpc.health.v1.Health`` and server reflection
(grpc_reflection.py).

Each Seldon method converts the request to the dict REST's route gets and calls the same
Component method, so answers equal REST's; an error becomes a gRPC status carrying REST's message.
Calls into the model hold ``lock``, which the REST handler holds too: the component is written
for one request at a time (see message.payload_field), and so are most model classes. The unary
methods run on the loop itself (grpc_inline.py says why), so one process answers one call at a
time, as its REST server does.
"""

import asyncio
import contextlib
import logging
import threading
from concurrent import futures

import grpc
from google.protobuf import json_format

from . import grpc_inline, grpc_reflection, grpc_v2
from .component import NotImplementedByModel
from .errors import MicroserviceError, StartupError
from .grpc_schema import from_dict, schema, to_dict

log = logging.getLogger("trantor_runtime")

SELDON_PACKAGE = "seldon.protos"
HEALTH_SERVICE = "grpc.health.v1.Health"
# At most this many long-lived streams (health Watch, reflection) are open at once; the next is
# RESOURCE_EXHAUSTED. They wait on the server's event loop, where the unary calls run too
# (grpc_inline.py), so open streams never hold up a call.
MAX_STREAMS = 4

# Service -> {method: the Component method REST calls for it}.
SELDON_METHODS = {
    "Generic": {
        "TransformInput": "transform_input",
        "TransformOutput": "transform_output",
        "Route": "route",
        "Aggregate": "aggregate",
        "SendFeedback": "send_feedback",
    },
    "Model": {"Predict": "predict", "SendFeedback": "send_feedback", "Metadata": "metadata"},
    "Router": {"Route": "route", "SendFeedback": "send_feedback"},
    "Transformer": {"TransformInput": "transform_input"},
    "OutputTransformer": {"TransformOutput": "transform_output"},
    "Combiner": {"Aggregate": "aggregate"},
    "Seldon": {"Predict": "predict", "SendFeedback": "send_feedback", "ModelMetadata": "metadata", "GraphMetadata": None},
}

_CODES = {
    400: grpc.StatusCode.INVALID_ARGUMENT,
    401: grpc.StatusCode.UNAUTHENTICATED,
    403: grpc.StatusCode.PERMISSION_DENIED,
    404: grpc.StatusCode.NOT_FOUND,
    409: grpc.StatusCode.ALREADY_EXISTS,
    413: grpc.StatusCode.RESOURCE_EXHAUSTED,
    429: grpc.StatusCode.RESOURCE_EXHAUSTED,
    499: grpc.StatusCode.CANCELLED,
    500: grpc.StatusCode.INTERNAL,
    501: grpc.StatusCode.UNIMPLEMENTED,
    503: grpc.StatusCode.UNAVAILABLE,
    504: grpc.StatusCode.DEADLINE_EXCEEDED,
}


def status_code(http_status):
    """The gRPC status for an HTTP status REST would answer with."""
    code = _CODES.get(http_status)
    if code is not None:
        return code
    return grpc.StatusCode.INTERNAL if http_status >= 500 else grpc.StatusCode.INVALID_ARGUMENT


class GrpcOptions:
    """How the gRPC server runs: port (0 picks one), message size limit, threads (Seldon's
    GRPC_THREADS, taken but not needed: calls run one at a time on the server's event loop), and
    whether other processes share the port (SO_REUSEPORT: only the host's own workers should)."""

    def __init__(self, port, max_message_size, threads=1, shared_port=False):
        self.port = port
        self.max_message_size = max_message_size
        self.threads = threads
        self.shared_port = shared_port


def _reply_dict(reply):
    """A reply as REST writes it: numpy values and tuples become JSON's, as message.to_json_bytes makes them."""
    import json

    from .message import to_json_bytes

    return json.loads(to_json_bytes(reply))


class GrpcHost:
    """The gRPC face of one Component (and its V2 model); ``start`` after any fork."""

    def __init__(self, component, options, lock=None, recorder_of=None, v2_model=None):
        self.component = component
        self.options = options
        self.lock = lock if lock is not None else threading.Lock()
        # A callable giving the metrics Recorder (or None), read per call: it is set after start.
        self._recorder_of = recorder_of or (lambda: None)
        self.schema = schema()
        self.serving = True
        self.streams = threading.BoundedSemaphore(MAX_STREAMS)
        self.server = None
        self.port = None
        self.v2 = grpc_v2.InferenceService(component, self.lock, self.schema, model=v2_model)
        self.services = [SELDON_PACKAGE + "." + name for name in SELDON_METHODS] + [
            grpc_v2.SERVICE,
            HEALTH_SERVICE,
            grpc_reflection.SERVICE,
            grpc_reflection.SERVICE_V1,
        ]

    # -- Seldon's services -----------------------------------------------------------------

    def _seldon_handler(self, service, method, call_name):
        descriptor = self.schema.service(SELDON_PACKAGE + "." + service).methods_by_name[method]
        request_cls = self.schema.message(descriptor.input_type.full_name)
        reply_cls = self.schema.message(descriptor.output_type.full_name)
        where = "/" + SELDON_PACKAGE + "." + service + "/" + method
        if call_name is None:
            def unimplemented(request, context):
                context.abort(grpc.StatusCode.UNIMPLEMENTED, method + " belongs to the graph's executor; a component has no graph")

            handle = unimplemented
        elif call_name == "metadata":
            def metadata(request, context):
                try:
                    with self.lock:
                        value = self.component.metadata()
                    return json_format.ParseDict(_reply_dict(value), reply_cls(), ignore_unknown_fields=True)
                except MicroserviceError as exc:
                    context.abort(status_code(exc.status_code), exc.message)
                except (json_format.ParseError, TypeError, ValueError) as exc:
                    context.abort(grpc.StatusCode.INTERNAL, "the metadata cannot be sent as " + reply_cls.DESCRIPTOR.name + ": " + str(exc))

            handle = metadata
        else:
            call = getattr(self.component, call_name)

            def handle(request, context):
                return self._call_seldon(call, where, request, reply_cls, context)

        return grpc_inline.unary(handle, request_deserializer=request_cls.FromString, response_serializer=reply_cls.SerializeToString)

    def _call_seldon(self, call, where, request, reply_cls, context):
        value = reply = None
        status = 200
        try:
            value = to_dict(request)
            with self.lock:
                reply = call(value)
            try:
                return from_dict(reply, reply_cls)
            except (json_format.ParseError, TypeError, ValueError, AttributeError):
                # numpy scalars and the like: write the reply as REST would, then read it.
                return from_dict(_reply_dict(reply), reply_cls)
        except NotImplementedByModel as exc:
            # REST answers 400 here, as Seldon's wrapper does; gRPC has a code for it.
            status = exc.status_code
            context.abort(grpc.StatusCode.UNIMPLEMENTED, exc.message)
        except MicroserviceError as exc:
            status = exc.status_code
            context.abort(status_code(status), exc.message)
        except (json_format.ParseError, TypeError, ValueError, RecursionError) as exc:
            status = 500
            info = "the reply to " + where + " cannot be sent as a " + reply_cls.DESCRIPTOR.name + ": " + str(exc)
            log.error("%s", info)
            context.abort(grpc.StatusCode.INTERNAL, info)
        except Exception as exc:  # noqa: BLE001 - a runtime bug answers INTERNAL and serving goes on
            status = 500
            log.exception("unexpected error while serving %s", where)
            context.abort(grpc.StatusCode.INTERNAL, "unexpected error while serving " + where + ": " + type(exc).__name__ + ": " + str(exc))
        finally:
            self._observe(where, status, value, reply)

    def _observe(self, where, status, value, reply):
        recorder = self._recorder_of()
        if recorder is not None:
            recorder.exchange(where, status, value, reply, where.endswith("/SendFeedback"))

    # -- health ----------------------------------------------------------------------------

    def _health_handler(self):
        request_cls = self.schema.message("grpc.health.v1.HealthCheckRequest")
        reply_cls = self.schema.message("grpc.health.v1.HealthCheckResponse")
        served = set(self.services) | {""}

        def status():
            return reply_cls(status=reply_cls.SERVING if self.serving else reply_cls.NOT_SERVING)

        def check(request, context):
            if request.service not in served:
                context.abort(grpc.StatusCode.NOT_FOUND, "unknown service " + repr(request.service) + "; this server serves " + ", ".join(self.services))
            return status()

        async def watch(request, context):
            # The status now, then NOT_SERVING when the server stops; the stream ends with the call.
            if request.service not in served:
                yield reply_cls(status=reply_cls.SERVICE_UNKNOWN)
                return
            async with self.stream(context):
                yield status()
                await self._stopped.wait()
                yield status()

        return grpc.method_handlers_generic_handler(HEALTH_SERVICE, {
            "Check": grpc_inline.unary(check, request_deserializer=request_cls.FromString, response_serializer=reply_cls.SerializeToString),
            "Watch": grpc.unary_stream_rpc_method_handler(
                watch, request_deserializer=request_cls.FromString, response_serializer=reply_cls.SerializeToString
            ),
        })

    @contextlib.asynccontextmanager
    async def stream(self, context):
        """Holds one of the stream places for a long-lived stream; RESOURCE_EXHAUSTED when all are taken."""
        if not self.streams.acquire(blocking=False):
            await context.abort(grpc.StatusCode.RESOURCE_EXHAUSTED, str(MAX_STREAMS) + " streams (health Watch, reflection) are open already; close one")
        try:
            yield
        finally:
            self.streams.release()

    # -- the server ------------------------------------------------------------------------

    def handlers(self):
        out = []
        for service, methods in SELDON_METHODS.items():
            table = {method: self._seldon_handler(service, method, call) for method, call in methods.items()}
            out.append(grpc.method_handlers_generic_handler(SELDON_PACKAGE + "." + service, table))
        out.append(self.v2.handler())
        out.append(self._health_handler())
        out.extend(grpc_reflection.handlers(self.schema, self.services, self.stream))
        return out

    def start(self, host, port=None):
        """Listens on host:port (with SO_REUSEPORT when the port is shared by the host's workers) and
        serves from a thread of its own, running the server's event loop; returns the port."""
        limit = self.options.max_message_size
        address = ("[" + host + "]" if ":" in host else host) + ":" + str(self.options.port if port is None else port)
        loop = asyncio.new_event_loop()
        opened = futures.Future()

        async def open_server():
            self._stopped = asyncio.Event()
            server = grpc.aio.server(
                handlers=self.handlers(),
                options=[
                    ("grpc.so_reuseport", 1 if self.options.shared_port else 0),
                    ("grpc.max_send_message_length", limit),
                    ("grpc.max_receive_message_length", limit),
                ],
            )
            try:
                bound = server.add_insecure_port(address)
            except RuntimeError:
                bound = 0
            if not bound:
                raise StartupError("cannot serve gRPC on " + address + ": the address is in use or cannot be bound")
            await server.start()
            return server, bound

        def serve():
            asyncio.set_event_loop(loop)
            try:
                opened.set_result(loop.run_until_complete(open_server()))
            except BaseException as exc:  # noqa: BLE001 - handed to start's caller
                opened.set_exception(exc)
                loop.close()
                return
            loop.run_forever()
            loop.close()

        thread = threading.Thread(target=serve, name="grpc-loop", daemon=True)
        thread.start()
        try:
            server, bound = opened.result()
        except BaseException:
            thread.join()
            raise
        self.server = server
        self._loop = loop
        self._thread = thread
        self.port = bound
        return bound

    def stop(self, grace=5.0):
        """Health answers NOT_SERVING, calls in flight get ``grace`` seconds, then the server stops."""
        self.serving = False
        if self.server is not None:
            # Health watchers hear NOT_SERVING, and their streams end, before the server stops.
            self._loop.call_soon_threadsafe(self._stopped.set)
            asyncio.run_coroutine_threadsafe(self.server.stop(grace), self._loop).result()
            self._loop.call_soon_threadsafe(self._loop.stop)
            self._thread.join()
            self.server = None


def reserve_port(host, port):
    """A socket bound (not listening) to host:port with SO_REUSEPORT: it holds the port — the one
    picked, when ``port`` is 0 — while every process's server binds it too. StartupError if taken."""
    import socket

    try:
        family, kind, proto, _, address = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM, flags=socket.AI_PASSIVE)[0]
    except socket.gaierror as exc:
        raise StartupError("cannot serve gRPC on " + host + ":" + str(port) + ": " + str(exc)) from None
    sock = socket.socket(family, kind, proto)
    try:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEPORT, 1)
        sock.bind(address)
    except OSError as exc:
        sock.close()
        raise StartupError("cannot serve gRPC on " + host + ":" + str(port) + ": " + (exc.strerror or str(exc))) from None
    return sock


def locked(handle, lock):
    """REST's handler holding the lock the gRPC calls hold."""

    def handle_locked(request):
        with lock:
            return handle(request)

    return handle_locked

