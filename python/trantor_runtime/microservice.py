"""
``python -m trantor_runtime.microservice <Interface> [REST] --service-type MODEL ...``: serves
a Python model class over HTTP with the command line and environment of Seldon's
``seldon-core-microservice``.

``<Interface>`` is ``MLScore`` (module MLScore in the working directory, class MLScore) or
``pkg.mod.Class``. Environment: ``PREDICTIVE_UNIT_HTTP_SERVICE_PORT`` (default 9000),
``PREDICTIVE_UNIT_PARAMETERS`` (constructor keyword arguments), ``PREDICTIVE_UNIT_ID``,
``PREDICTOR_ID``, ``SELDON_DEPLOYMENT_ID``; ``TRANTOR_BIND_HOST`` (default 127.0.0.1).
Once listening, one line is printed to stdout:
``trantor_runtime: serving <Interface> on http://HOST:PORT``.
"""

import argparse
import asyncio
import gc
import importlib
import logging
import os
import signal
import sys
import traceback

from .component import Component
from .errors import StartupError
from .http import serve
from .parameters import parse_parameters
from .routes import Routes, error_response

log = logging.getLogger("trantor_runtime")

SERVICE_TYPES = ("MODEL", "ROUTER", "TRANSFORMER", "COMBINER", "OUTPUT_TRANSFORMER")
DEFAULT_PORT = 9000


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
    # Options of Seldon's command that have no meaning here: accepted so the same command runs.
    for flag in ("--grpc-port", "--metrics-port", "--workers", "--threads", "--max-requests",
                 "--max-requests-jitter", "--keepalive", "--access-log", "--tracing", "--debug",
                 "--single-threaded", "--pidfile", "--grpc-workers", "--grpc-threads"):
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
    text = (args.log_level or env.get("SELDON_LOG_LEVEL") or env.get("LOG_LEVEL") or "INFO").upper()
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


async def _watch_parent(parent_pid, stop):
    """Stops serving when the process that started us (TRANTOR_PARENT_PID) is gone, even by kill -9."""
    try:
        pid = int(parent_pid or "0")
    except ValueError:
        return
    if pid <= 1:
        return
    while not stop.is_set():
        await asyncio.sleep(1.0)
        if os.getppid() != pid:
            log.info("stopping: the control plane (pid %d) is gone", pid)
            stop.set()


async def _serve(routes, host, port, interface):
    loop = asyncio.get_running_loop()
    stop = asyncio.Event()
    for signum in (signal.SIGTERM, signal.SIGINT):
        try:
            loop.add_signal_handler(signum, stop.set)
        except (NotImplementedError, RuntimeError):  # pragma: no cover - platforms without signals
            pass
    try:
        server = await serve(routes.handle, error_response, host, port)
    except OSError as exc:
        reason = exc.strerror or str(exc)
        raise StartupError("cannot listen on " + host + ":" + str(port) + ": " + reason) from None
    bound = server.sockets[0].getsockname()[1]
    shown = "[" + host + "]" if ":" in host else host
    sys.stdout.write("trantor_runtime: serving " + interface + " on http://" + shown + ":" + str(bound) + "\n")
    sys.stdout.flush()
    watch = asyncio.ensure_future(_watch_parent(os.environ.get("TRANTOR_PARENT_PID"), stop))
    batched = _batch_log_output()
    flusher = asyncio.ensure_future(_flush_logs(batched, stop))
    try:
        await stop.wait()
    finally:
        watch.cancel()
        flusher.cancel()
        batched.flush()
    log.info("stopping: signal received")
    server.close()


def main(argv=None, env=None):
    env = os.environ if env is None else env
    args = build_parser().parse_args(argv)
    try:
        level = _log_level(args, env)
    except StartupError as exc:
        return fail(str(exc))
    logging.basicConfig(stream=sys.stderr, level=level, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
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
    # Everything loaded so far lives until exit: keep the collector from rescanning it.
    gc.collect()
    if hasattr(gc, "freeze"):
        gc.freeze()
    try:
        asyncio.run(_serve(routes, host, port, interface))
    except StartupError as exc:
        return fail("cannot start " + interface + ": " + str(exc))
    except KeyboardInterrupt:
        pass
    return 0


if __name__ == "__main__":
    sys.exit(main())
