"""
``python -m trantor_runtime.microservice <Interface> [REST] --service-type MODEL ...``: serves
a Python model class over HTTP with the command line and environment of Seldon's
``seldon-core-microservice``.

``<Interface>`` is ``MLScore`` (module MLScore in the working directory, class MLScore) or
``pkg.mod.Class``. Environment: ``PREDICTIVE_UNIT_HTTP_SERVICE_PORT`` (default 9000),
``PREDICTIVE_UNIT_PARAMETERS`` (constructor keyword arguments), ``PREDICTIVE_UNIT_ID``,
``PREDICTOR_ID``, ``SELDON_DEPLOYMENT_ID``; ``TRANTOR_BIND_HOST`` (default 127.0.0.1).
gRPC (grpc_server.py) is served too when ``--grpc-port`` or ``PREDICTIVE_UNIT_GRPC_SERVICE_PORT``
is given. Once listening, one line is printed to stdout:
``trantor_runtime: serving <Interface> on http://HOST:PORT``.
"""

import argparse
import asyncio
import gc
import importlib
import logging
import os
import shutil
import signal
import sys
import tempfile
import traceback

from . import metrics, workers
from .component import Component
from .errors import StartupError
from .http import MAX_BODY, Response, serve
from .parameters import parse_parameters
from .routes import Routes, error_response

log = logging.getLogger("trantor_runtime")

SERVICE_TYPES = ("MODEL", "ROUTER", "TRANSFORMER", "COMBINER", "OUTPUT_TRANSFORMER")
DEFAULT_PORT = 9000
METRICS_PATHS = ("/prometheus", "/metrics")
METRICS_FLUSH_SECONDS = 0.5
GRPC_GRACE_SECONDS = 2.0
GRPC_MISSING = "gRPC needs grpcio and protobuf: pip install grpcio protobuf"

# Seldon's options this host cannot honour: (the value that changes nothing, why any other is refused).
REFUSED_FLAGS = {
    "--tracing": ("0", "tracing is not supported by this host"),
    "--max-requests": ("0", "workers are not recycled after a number of requests by this host"),
    "--max-requests-jitter": ("0", "workers are not recycled after a number of requests by this host"),
    "--keepalive": (None, "this host keeps idle connections open until the client closes them; drop the flag"),
}


class WrapperOptions:
    """Seldon's server options as this host runs them."""

    def __init__(self, workers=1, metrics_port=None, metrics_required=False, pidfile=None, access_log=False,
                 metrics_endpoint=None, grpc=None):
        self.workers = workers
        # A GrpcSettings when gRPC is asked for (grpc_settings), else None.
        self.grpc = grpc
        self.metrics_port = metrics_port
        self.metrics_required = metrics_required
        self.pidfile = pidfile
        self.access_log = access_log
        self.metrics_paths = METRICS_PATHS + ((metrics_endpoint,) if metrics_endpoint and metrics_endpoint not in METRICS_PATHS else ())


def _count(text, where, least):
    try:
        value = int(text)
    except (TypeError, ValueError):
        raise StartupError(where + ": expected a whole number, got " + repr(text)) from None
    if value < least:
        raise StartupError(where + ": expected a number of at least " + str(least) + ", got " + str(value))
    return value


def _flag_port(text, where):
    port = _count(text, where, 0)
    if port > 65535:
        raise StartupError(where + ": expected a port number from 0 to 65535, got " + str(port))
    return port


def _truthy(text):
    return str(text).strip().lower() not in ("", "0", "false", "no", "off")


def wrapper_options(args, env):
    """Seldon's server flags (flag, then Seldon's environment variable) checked once; StartupError says why not."""
    for flag, (harmless, why) in REFUSED_FLAGS.items():
        value = getattr(args, flag[2:].replace("-", "_"))
        if value is not None and value != harmless:
            raise StartupError(flag + " " + value + ": " + why)
    workers_text, where = (args.workers, "--workers") if args.workers is not None else (env.get("GUNICORN_WORKERS"), "GUNICORN_WORKERS")
    workers = 1 if workers_text in (None, "") else _count(workers_text, where, 1)
    threads_text, where = (args.threads, "--threads") if args.threads is not None else (env.get("GUNICORN_THREADS"), "GUNICORN_THREADS")
    if threads_text not in (None, "") and _count(threads_text, where, 1) != 1:
        raise StartupError(
            where + " " + threads_text + ": each worker of this host answers one request at a time (an event loop, no threads); "
            "use --workers " + threads_text + " for requests in parallel"
        )
    if args.single_threaded is not None and args.single_threaded not in ("0", "1"):
        raise StartupError("--single-threaded: expected 0 or 1, got " + repr(args.single_threaded))
    if args.metrics_port is not None:
        metrics_port, required = _flag_port(args.metrics_port, "--metrics-port"), True
    else:
        text = env.get("PREDICTIVE_UNIT_METRICS_SERVICE_PORT", "").strip()
        metrics_port = _flag_port(text, "PREDICTIVE_UNIT_METRICS_SERVICE_PORT") if text else None
        required = False
    return WrapperOptions(
        workers=workers,
        metrics_port=metrics_port,
        metrics_required=required,
        pidfile=args.pidfile or None,
        access_log=args.access_log is not None and _truthy(args.access_log),
        metrics_endpoint=env.get("PREDICTIVE_UNIT_METRICS_ENDPOINT", "").strip() or None,
        grpc=grpc_settings(args, env),
    )


class GrpcSettings:
    """gRPC as asked for: port (0 picks one), ``required`` when the flag asked (not only the
    environment), processes, threads per process, and the message size limit in bytes."""

    def __init__(self, port, required, workers, threads, max_message_size):
        self.port = port
        self.required = required
        self.workers = workers
        self.threads = threads
        self.max_message_size = max_message_size


def _flag_or_env(args, name, env, variable):
    value = getattr(args, name.replace("-", "_"))
    if value is not None:
        return value, "--" + name
    text = env.get(variable, "").strip()
    return (text, variable) if text else (None, None)


def grpc_settings(args, env):
    """The gRPC server's settings, or None when no gRPC port is given (or --grpc-workers is 0)."""
    text, where = _flag_or_env(args, "grpc-port", env, "PREDICTIVE_UNIT_GRPC_SERVICE_PORT")
    if text is None:
        return None
    port = _flag_port(text, where)
    text, at = _flag_or_env(args, "grpc-workers", env, "GRPC_WORKERS")
    grpc_workers = 1 if text is None else _count(text, at, 0)
    if grpc_workers == 0:
        return None  # Seldon's wrapper serves no gRPC with --grpc-workers 0
    text, at = _flag_or_env(args, "grpc-threads", env, "GRPC_THREADS")
    threads = 1 if text is None else _count(text, at, 1)
    text, at = _flag_or_env(args, "grpc-max-message-size", env, "GRPC_MAX_MSG_SIZE")
    limit = MAX_BODY if text is None else _count(text, at, 1024)
    return GrpcSettings(port, where == "--grpc-port", grpc_workers, threads, limit)


def build_parser():
    parser = argparse.ArgumentParser(
        prog="seldon-core-microservice",
        description="Serve a Python model class with the Seldon component protocol over REST.",
    )
    parser.add_argument("interface_name", help="MLScore (module and class of that name) or pkg.module.Class")
    parser.add_argument("api_type", nargs="?", default="REST", help="REST (accepted for compatibility; REST is always served)")
    parser.add_argument("--service-type", default="MODEL", type=str.upper, choices=SERVICE_TYPES)
    parser.add_argument("--persistence", type=int, default=0, help="accepted for compatibility and ignored")
    parser.add_argument("--parameters", default=None, help="JSON list of {name, value, type}; overrides PREDICTIVE_UNIT_PARAMETERS")
    parser.add_argument("--http-port", type=int, default=None, help="overrides PREDICTIVE_UNIT_HTTP_SERVICE_PORT (default 9000)")
    parser.add_argument("--log-level", default=None, help="DEBUG, INFO, WARNING or ERROR (default INFO)")
    # Seldon's server options: honoured, or refused with the reason (see wrapper_options).
    parser.add_argument("--workers", default=None, help="processes answering on the port (default GUNICORN_WORKERS or 1)")
    parser.add_argument("--threads", default=None, help="1 only: each worker answers one request at a time")
    parser.add_argument("--single-threaded", default=None, help="0 or 1 (each worker is single-threaded either way)")
    parser.add_argument("--metrics-port", default=None, help="serve Prometheus metrics at /prometheus on this port")
    parser.add_argument("--pidfile", default=None, help="write the process id to this file")
    parser.add_argument("--access-log", nargs="?", const="1", default=None, help="log one line per request")
    parser.add_argument("--debug", nargs="?", const="1", default=None, help="log at DEBUG")
    parser.add_argument("--grpc-port", default=None, help="serve gRPC on this port (default PREDICTIVE_UNIT_GRPC_SERVICE_PORT; none)")
    parser.add_argument("--grpc-workers", default=None, help="processes answering gRPC (default GRPC_WORKERS or 1; 0 serves no gRPC)")
    parser.add_argument("--grpc-threads", default=None,
                        help="taken as Seldon's wrapper takes it (default GRPC_THREADS or 1); each process answers its gRPC calls one at a time "
                             "on an event loop, as it answers REST, so use --grpc-workers for calls in parallel")
    parser.add_argument("--grpc-max-message-size", default=None,
                        help="largest gRPC message in bytes, either way (default GRPC_MAX_MSG_SIZE or %d, REST's body limit)" % MAX_BODY)
    for flag in REFUSED_FLAGS:
        parser.add_argument(flag, nargs="?", const="1", default=None, help=argparse.SUPPRESS)
    return parser


def fail(text):
    sys.stderr.write("trantor_runtime: " + text + "\n")
    sys.stderr.flush()
    return 1


def load_class(interface):
    """The class ``interface`` names; StartupError says what could not be found."""
    if "." in interface:
        module_name, class_name = interface.rsplit(".", 1)
    else:
        module_name = class_name = interface
    if not module_name or not class_name:
        raise StartupError("interface " + repr(interface) + " is not a module and class name such as MLScore or pkg.mod.Class")
    try:
        module = importlib.import_module(module_name)
    except ModuleNotFoundError as exc:
        missing = exc.name or ""
        if module_name == missing or module_name.startswith(missing + "."):
            raise StartupError(
                "cannot find module " + module_name + " for interface " + interface
                + " (looked in " + os.getcwd() + " and on PYTHONPATH); run from the folder that holds "
                + module_name.replace(".", "/") + ".py, or set the container's workingDir"
            ) from None
        raise StartupError(
            "importing module " + module_name + " failed: " + _describe(exc) + "\n" + traceback.format_exc().rstrip()
        ) from None
    except Exception as exc:  # noqa: BLE001 - any error in the user's module stops the start
        raise StartupError(
            "importing module " + module_name + " failed: " + _describe(exc) + "\n" + traceback.format_exc().rstrip()
        ) from None
    cls = getattr(module, class_name, None)
    if cls is None:
        where = getattr(module, "__file__", None) or module_name
        raise StartupError("module " + module_name + " (" + where + ") has no class " + class_name)
    if not callable(cls):
        raise StartupError(module_name + "." + class_name + " is not a class")
    return cls


def _describe(exc):
    detail = str(exc)
    return type(exc).__name__ + (": " + detail if detail else "")


def create_model(cls, params, label):
    try:
        model = cls(**params)
    except StartupError:
        raise
    except TypeError as exc:
        if params and "argument" in str(exc):
            raise StartupError(
                label + " cannot take the parameters " + ", ".join(sorted(params)) + ": " + str(exc)
            ) from None
        raise StartupError(label + "() failed: " + _describe(exc) + "\n" + traceback.format_exc().rstrip()) from None
    except Exception as exc:  # noqa: BLE001
        raise StartupError(label + "() failed: " + _describe(exc) + "\n" + traceback.format_exc().rstrip()) from None
    load = getattr(model, "load", None)
    if callable(load):
        try:
            load()
        except StartupError:
            raise
        except Exception as exc:  # noqa: BLE001
            raise StartupError(label + ".load() failed: " + _describe(exc) + "\n" + traceback.format_exc().rstrip()) from None
    return model


def _image_version(image):
    if not image:
        return []
    tail = image.rsplit("/", 1)[-1]
    return [tail.split(":", 1)[1]] if ":" in tail else []


def metadata_defaults(class_name, env):
    unit_id = env.get("PREDICTIVE_UNIT_ID", "")
    custom = {}
    for key, variable in (
        ("predictive_unit_id", "PREDICTIVE_UNIT_ID"),
        ("predictor_id", "PREDICTOR_ID"),
        ("seldon_deployment_id", "SELDON_DEPLOYMENT_ID"),
    ):
        if env.get(variable):
            custom[key] = env[variable]
    return {
        "name": unit_id or class_name,
        "versions": _image_version(env.get("PREDICTIVE_UNIT_IMAGE", "")),
        "platform": "seldon",
        "inputs": [],
        "outputs": [],
        "custom": custom,
    }


def _port(args, env):
    if args.http_port is not None:
        port = args.http_port
        source = "--http-port"
    else:
        text = env.get("PREDICTIVE_UNIT_HTTP_SERVICE_PORT", "")
        if text.strip() == "":
            return DEFAULT_PORT
        source = "PREDICTIVE_UNIT_HTTP_SERVICE_PORT"
        try:
            port = int(text)
        except ValueError:
            raise StartupError(source + ": expected a port number, got " + repr(text)) from None
    if not 0 <= port <= 65535:
        raise StartupError(source + ": expected a port number from 0 to 65535, got " + str(port))
    return port


def _log_level(args, env):
    debug = args.debug is not None and _truthy(args.debug)
    text = (args.log_level or ("DEBUG" if debug else None) or env.get("SELDON_LOG_LEVEL") or env.get("LOG_LEVEL") or "INFO").upper()
    level = logging.getLevelName(text)
    if not isinstance(level, int):
        raise StartupError("--log-level: expected DEBUG, INFO, WARNING or ERROR, got " + repr(text))
    return level


class _BatchedStream:
    """Log lines written while serving, held and written out together every LOG_FLUSH_SECONDS.

    A per-request log line costs a write() call for each request otherwise, and the reader at the
    other end of the pipe pays per chunk too; batching keeps logging off the request's path.
    """

    def __init__(self, target):
        self._target = target
        self._pending = []

    def write(self, text):
        self._pending.append(text)

    def flush(self):
        if self._pending:
            text = "".join(self._pending)
            self._pending = []
            try:
                self._target.write(text)
                self._target.flush()
            except (OSError, ValueError):  # pragma: no cover - the reader is gone
                pass


LOG_FLUSH_SECONDS = 0.1


async def _flush_logs(stream, stop):
    while not stop.is_set():
        await asyncio.sleep(LOG_FLUSH_SECONDS)
        stream.flush()


def _batch_log_output():
    """Routes the root logger's stream handlers through one batched stream; returns it."""
    batched = _BatchedStream(sys.stderr)
    for handler in logging.getLogger().handlers:
        if isinstance(handler, logging.StreamHandler) and getattr(handler, "stream", None) is sys.stderr:
            handler.setStream(batched)
    return batched


async def _watch_parent(pid, stop):
    """Stops serving when the process that started us is gone, even by kill -9."""
    if pid <= 1:
        return
    while not stop.is_set():
        await asyncio.sleep(1.0)
        if os.getppid() != pid:
            log.info("stopping: the process that started this one (pid %d) is gone", pid)
            stop.set()


def _parent_pid(text):
    try:
        return int(text or "0")
    except ValueError:
        return 0


async def _watch_workers(children, stop, failed):
    """In the first process: a worker that dies on its own stops the whole host (exit 1)."""
    while not stop.is_set() and children:
        await asyncio.sleep(0.2)
        for pid, how in workers.reap(children):
            if not stop.is_set():
                log.error("stopping: worker %d %s", pid, how)
                failed.append(pid)
                stop.set()


async def _flush_metrics(recorder, folder, stop):
    pid = os.getpid()
    while not stop.is_set():
        await asyncio.sleep(METRICS_FLUSH_SECONDS)
        metrics.write_snapshot(recorder, folder, pid)


def _metrics_app(recorder, folder, labels, paths):
    def handle(request):
        if request.path not in paths:
            return error_response(404, "no such path: " + request.path + "; the metrics port serves " + ", ".join(paths))
        if request.method not in ("GET", "HEAD"):
            return error_response(405, request.method + " is not allowed on " + request.path + "; use GET")
        others = metrics.read_snapshots(folder, os.getpid()) if folder else {}
        others[str(os.getpid())] = recorder.data
        return Response(200, metrics.render(others, labels), metrics.CONTENT_TYPE)

    return handle


def _access_logged(handle):
    def logged(request):
        response = handle(request)
        log.info("%s %s %d", request.method, request.path, response.status)
        return response

    return logged


async def _serve(handle, sock, interface, host, run):
    """Serves on ``sock`` until a signal (or the parent's end); ``run`` says what this process also does."""
    loop = asyncio.get_running_loop()
    stop = asyncio.Event()
    for signum in (signal.SIGTERM, signal.SIGINT):
        try:
            loop.add_signal_handler(signum, stop.set)
        except (NotImplementedError, RuntimeError):  # pragma: no cover - platforms without signals
            pass
    server = await serve(handle, error_response, sock=sock)
    grpc_port = run.grpc.start(host, run.grpc_port) if run.grpc is not None else None
    metrics_server = None
    if run.metrics_sock is not None:
        metrics_server = await serve(
            run.metrics_app, error_response, sock=run.metrics_sock
        )
    if run.announce:
        bound = sock.getsockname()[1]
        shown = "[" + host + "]" if ":" in host else host
        if run.children:
            log.info("%d workers (pids %s) answer on port %d", len(run.children) + 1,
                     ", ".join(str(p) for p in [os.getpid()] + run.children), bound)
        if metrics_server is not None:
            log.info("metrics at http://%s:%d%s", shown, run.metrics_sock.getsockname()[1], METRICS_PATHS[0])
        if grpc_port is not None:
            log.info("gRPC at %s:%d (%s)", shown, grpc_port, ", ".join(run.grpc.services))
        sys.stdout.write("trantor_runtime: serving " + interface + " on http://" + shown + ":" + str(bound) + "\n")
        sys.stdout.flush()
    tasks = [asyncio.ensure_future(_watch_parent(run.parent_pid, stop))]
    failed = []
    if run.children:
        tasks.append(asyncio.ensure_future(_watch_workers(run.children, stop, failed)))
    if run.snapshot_folder is not None and run.recorder is not None and not run.announce:
        tasks.append(asyncio.ensure_future(_flush_metrics(run.recorder, run.snapshot_folder, stop)))
    batched = _batch_log_output()
    tasks.append(asyncio.ensure_future(_flush_logs(batched, stop)))
    try:
        await stop.wait()
    finally:
        for task in tasks:
            task.cancel()
        batched.flush()
    if not failed:
        if run.announce:
            log.info("stopping: signal received")
        else:
            log.debug("worker %d stopping", os.getpid())
    server.close()
    if metrics_server is not None:
        metrics_server.close()
    if run.grpc is not None:
        run.grpc.stop(GRPC_GRACE_SECONDS)
    return 1 if failed else 0


class _Run:
    """What one process of the host does besides answering requests."""

    def __init__(self, announce, parent_pid, children=None, recorder=None, metrics_sock=None, metrics_app=None,
                 snapshot_folder=None, grpc=None, grpc_port=None):
        self.announce = announce
        # The GrpcHost this process starts once it serves REST, on grpc_port.
        self.grpc = grpc
        self.grpc_port = grpc_port
        self.parent_pid = parent_pid
        self.children = children if children is not None else []
        self.recorder = recorder
        self.metrics_sock = metrics_sock
        self.metrics_app = metrics_app
        self.snapshot_folder = snapshot_folder


def _metrics_socket(options, host):
    if options.metrics_port is None:
        return None
    try:
        return workers.listening_sockets(host, options.metrics_port, 1)[0]
    except StartupError as exc:
        if options.metrics_required:
            raise StartupError("--metrics-port: " + str(exc)) from None
        log.warning("metrics are not served: %s (PREDICTIVE_UNIT_METRICS_SERVICE_PORT)", exc)
        return None


def _grpc_host(routes, options, host, port, processes):
    """The GrpcHost (built before the fork, started in each process), its port, and the socket
    holding that port, or (None, None, None).

    With several processes every one serves gRPC on one port (SO_REUSEPORT, as REST); a bound
    socket held here keeps the port, picked once when it is 0, for all of them.
    """
    settings = options.grpc
    if settings is None:
        return None, None, None
    from . import grpc_server

    if settings.port != 0 and settings.port == port:
        raise StartupError("the gRPC port " + str(port) + " is the HTTP port; give them different ports")
    reserved = grpc_server.reserve_port(host, settings.port) if processes > 1 else None
    grpc_port = reserved.getsockname()[1] if reserved is not None else settings.port
    grpc_host = grpc_server.GrpcHost(
        routes.component,
        grpc_server.GrpcOptions(grpc_port, settings.max_message_size, settings.threads, shared_port=processes > 1),
        recorder_of=lambda: routes.recorder,
    )
    return grpc_host, grpc_port, reserved


def _run_host(routes, host, port, interface, options, env):
    """Listens, forks the workers, serves; returns the exit code. StartupError before listening."""
    metrics_sock = _metrics_socket(options, host)
    recorder = metrics.Recorder() if metrics_sock is not None else None
    routes.recorder = recorder
    handle = _access_logged(routes.handle) if options.access_log else routes.handle
    processes = max(options.workers, options.grpc.workers) if options.grpc is not None else options.workers
    grpc_host, grpc_port, reserved = _grpc_host(routes, options, host, port, processes)
    if grpc_host is not None:
        from .grpc_server import locked

        handle = locked(handle, grpc_host.lock)
    socks = workers.listening_sockets(host, port, processes)
    folder = tempfile.mkdtemp(prefix="trantor-metrics-") if recorder is not None and processes > 1 else None
    first = os.getpid()
    children = []
    for sock in socks[1:]:
        sys.stdout.flush()
        sys.stderr.flush()
        pid = os.fork()
        if pid == 0:
            code = 1
            try:
                workers.die_with_parent(first)
                for other in socks:
                    if other is not sock:
                        other.close()
                if metrics_sock is not None:
                    metrics_sock.close()
                code = asyncio.run(_serve(handle, sock, interface, host, _Run(
                    False, first, recorder=recorder, snapshot_folder=folder, grpc=grpc_host, grpc_port=grpc_port)))
            except BaseException:  # noqa: BLE001 - a worker never returns into the parent's code
                log.exception("worker %d failed", os.getpid())
            finally:
                logging.shutdown()
                os._exit(code)
        children.append(pid)
        sock.close()
    if options.pidfile:
        with open(options.pidfile, "w", encoding="utf-8") as out:
            out.write(str(first) + "\n")
    app = _metrics_app(recorder, folder, metrics.default_labels(env), options.metrics_paths) if recorder is not None else None
    try:
        run = _Run(True, _parent_pid(env.get("TRANTOR_PARENT_PID")), children, recorder, metrics_sock, app, folder,
                   grpc=grpc_host, grpc_port=grpc_port)
        return asyncio.run(_serve(handle, socks[0], interface, host, run))
    finally:
        workers.stop_workers(children)
        if reserved is not None:
            reserved.close()
        if folder is not None:
            shutil.rmtree(folder, ignore_errors=True)
        if options.pidfile:
            try:
                os.unlink(options.pidfile)
            except OSError:
                pass


def _grpc_importable():
    try:
        from . import grpc_server  # noqa: F401 - imports grpcio and protobuf
    except ImportError:
        return False
    return True


def main(argv=None, env=None):
    env = os.environ if env is None else env
    args = build_parser().parse_args(argv)
    try:
        level = _log_level(args, env)
        options = wrapper_options(args, env)
    except StartupError as exc:
        return fail(str(exc))
    logging.basicConfig(stream=sys.stderr, level=level, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    if options.grpc is not None and not _grpc_importable():
        if options.grpc.required:
            return fail(GRPC_MISSING)
        log.warning("gRPC is not served (PREDICTIVE_UNIT_GRPC_SERVICE_PORT is set): %s", GRPC_MISSING)
        options.grpc = None
    try:
        # A model's print() should reach the log as it happens, not when a pipe buffer fills.
        sys.stdout.reconfigure(line_buffering=True)
    except (AttributeError, ValueError):  # pragma: no cover - replaced stdout
        pass
    cwd = os.getcwd()
    if cwd not in sys.path:
        sys.path.insert(0, cwd)
    interface = args.interface_name
    try:
        port = _port(args, env)
        if args.parameters is not None:
            params = parse_parameters(args.parameters, "--parameters")
        else:
            params = parse_parameters(env.get("PREDICTIVE_UNIT_PARAMETERS"), "PREDICTIVE_UNIT_PARAMETERS")
        cls = load_class(interface)
        label = getattr(cls, "__name__", interface)
        model = create_model(cls, params, label)
        component = Component(
            model,
            name=label,
            unit_id=env.get("PREDICTIVE_UNIT_ID", ""),
            metadata_defaults=metadata_defaults(label, env),
        )
        component.init_metadata()
    except StartupError as exc:
        return fail("cannot start " + interface + ": " + str(exc))
    host = env.get("TRANTOR_BIND_HOST") or "127.0.0.1"
    routes = Routes(component)
    # Everything loaded so far lives until exit: keep the collector from rescanning it (and,
    # with --workers, from touching the pages the workers share).
    gc.collect()
    if hasattr(gc, "freeze"):
        gc.freeze()
    try:
        return _run_host(routes, host, port, interface, options, env)
    except StartupError as exc:
        return fail("cannot start " + interface + ": " + str(exc))
    except KeyboardInterrupt:
        return 0


if __name__ == "__main__":
    sys.exit(main())
