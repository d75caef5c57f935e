"""
``--workers N``: N processes answer on one port. The model is loaded once, then the process
forks N-1 workers (pre-fork, so the loaded model's memory is shared until written); each
worker has its own listening socket bound to the same port with SO_REUSEPORT, and the kernel
spreads new connections over them.

A worker dies with the process that forked it (PR_SET_PDEATHSIG on Linux, and a watch on its
parent's pid), and that process stops serving — exit code 1, so the supervisor restarts the
whole replica — when a worker dies on its own.
"""

import ctypes
import ctypes.util
import errno
import logging
import os
import signal
import socket
import time

from .errors import StartupError

log = logging.getLogger("trantor_runtime")

_PR_SET_PDEATHSIG = 1
STOP_GRACE_SECONDS = 5.0


def listening_sockets(host, port, count):
    """``count`` listening sockets on one port (the first picks it when ``port`` is 0)."""
    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM, flags=socket.AI_PASSIVE)
    except socket.gaierror as exc:
        raise StartupError("cannot listen on " + host + ":" + str(port) + ": " + str(exc)) from None
    family, kind, proto, _, address = infos[0]
    if count > 1 and not hasattr(socket, "SO_REUSEPORT"):
        raise StartupError("--workers " + str(count) + " needs SO_REUSEPORT, which this system lacks; use --workers 1")
    sockets = []
    try:
        for _ in range(count):
            sock = socket.socket(family, kind, proto)
            sockets.append(sock)
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            if count > 1:
                sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEPORT, 1)
            sock.bind(address)
            sock.listen(1024)
            sock.setblocking(False)
            # The others take the port the first one got.
            address = (address[0], sock.getsockname()[1], *address[2:])
    except OSError as exc:
        for sock in sockets:
            sock.close()
        reason = exc.strerror or str(exc)
        raise StartupError("cannot listen on " + host + ":" + str(port) + ": " + reason) from None
    return sockets


def die_with_parent(parent_pid):
    """In a forked worker: be killed (SIGTERM) when the parent goes, and go now if it already has."""
    name = ctypes.util.find_library("c")
    if name:
        try:
            ctypes.CDLL(name, use_errno=True).prctl(_PR_SET_PDEATHSIG, signal.SIGTERM, 0, 0, 0)
        except (OSError, AttributeError):  # pragma: no cover - not Linux
            pass
    if os.getppid() != parent_pid:
        os._exit(1)


def reap(children):
    """Removes the workers that have exited from ``children``; returns ``[(pid, status text)]``."""
    gone = []
    for pid in list(children):
        try:
            done, status = os.waitpid(pid, os.WNOHANG)
        except ChildProcessError:
            children.remove(pid)
            continue
        if done == pid:
            children.remove(pid)
            if os.WIFSIGNALED(status):
                gone.append((pid, "was killed by signal " + str(os.WTERMSIG(status))))
            else:
                gone.append((pid, "exited with code " + str(os.waitstatus_to_exitcode(status))))
    return gone


def stop_workers(children):
    """SIGTERM to each worker, then SIGKILL to those still there after STOP_GRACE_SECONDS."""
    for pid in children:
        try:
            os.kill(pid, signal.SIGTERM)
        except OSError as exc:
            if exc.errno != errno.ESRCH:
                raise
    deadline = time.monotonic() + STOP_GRACE_SECONDS
    while children and time.monotonic() < deadline:
        reap(children)
        if children:
            time.sleep(0.02)
    for pid in list(children):
        log.warning("worker %d did not stop within %.0f s; killing it", pid, STOP_GRACE_SECONDS)
        try:
            os.kill(pid, signal.SIGKILL)
            os.waitpid(pid, 0)
        except OSError:
            pass
        children.remove(pid)
