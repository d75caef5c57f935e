"""Starting the real microservice as a subprocess and talking HTTP to it."""

import http.client
import json
import os
import queue
import socket
import subprocess
import sys
import threading
import time

PYTHON = os.environ.get("TRANTOR_PYTHON") or sys.executable
PYTHON_DIR = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
REPO_DIR = os.path.dirname(PYTHON_DIR)
FIXTURES = os.path.join(os.path.dirname(os.path.abspath(__file__)), "fixtures")
ML_SCORE_DIR = os.path.join(REPO_DIR, "examples", "ml-score", "seldon-ml-score-component")
SHIM = os.path.join(PYTHON_DIR, "bin", "seldon-core-microservice")
READY_PREFIX = "trantor_runtime: serving "
START_TIMEOUT = 30


def free_port():
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def child_env(extra=None):
    env = dict(os.environ)
    env["PYTHONPATH"] = PYTHON_DIR + (os.pathsep + env["PYTHONPATH"] if env.get("PYTHONPATH") else "")
    env.pop("PREDICTIVE_UNIT_PARAMETERS", None)
    env.pop("PREDICTIVE_UNIT_HTTP_SERVICE_PORT", None)
    env["PYTHONDONTWRITEBYTECODE"] = "1"
    if extra:
        env.update(extra)
    return env


def microservice_command(interface, *args):
    return [PYTHON, "-m", "trantor_runtime.microservice", interface, "REST", "--service-type", "MODEL", "--persistence", "0", *args]


def run_to_exit(command, cwd=FIXTURES, env=None, timeout=60):
    """Runs a command that is expected to stop by itself; returns the CompletedProcess."""
    return subprocess.run(
        command, cwd=cwd, env=child_env(env), stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, timeout=timeout
    )


class Server:
    """A running microservice: ``port``, ``stdout_lines``, ``stderr_lines``, and HTTP helpers."""

    def __init__(self, interface, cwd=FIXTURES, args=(), env=None, command=None, port=None):
        env_port = free_port()
        self.port = port or env_port
        extra = {"PREDICTIVE_UNIT_HTTP_SERVICE_PORT": str(env_port)}
        extra.update(env or {})
        self.command = command or microservice_command(interface, *args)
        self.process = subprocess.Popen(
            self.command, cwd=cwd, env=child_env(extra), stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
        )
        self.stdout_lines = []
        self.stderr_lines = []
        self._ready = queue.Queue()
        self._threads = [
            threading.Thread(target=self._drain, args=(self.process.stdout, self.stdout_lines, True), daemon=True),
            threading.Thread(target=self._drain, args=(self.process.stderr, self.stderr_lines, False), daemon=True),
        ]
        for thread in self._threads:
            thread.start()
        try:
            self.ready_line = self._ready.get(timeout=START_TIMEOUT)
        except queue.Empty:
            self.stop()
            raise AssertionError("the microservice did not start:\n" + "".join(self.stderr_lines)) from None
        if self.ready_line is None:
            self.stop()
            raise AssertionError(
                "the microservice exited with %s before it was ready:\n%s" % (self.process.returncode, "".join(self.stderr_lines))
            )

    def _drain(self, stream, lines, watch_ready):
        for line in stream:
            lines.append(line)
            if watch_ready and line.startswith(READY_PREFIX):
                self._ready.put(line.rstrip("\n"))
        if watch_ready:
            self._ready.put(None)

    def stop(self):
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        for thread in self._threads:
            thread.join(timeout=5)
        self.process.stdout.close()
        self.process.stderr.close()
        return self.process.returncode

    def connection(self):
        return http.client.HTTPConnection("127.0.0.1", self.port, timeout=10)

    def request(self, method, path, body=None, headers=None, connection=None):
        """(status, headers dict with lower-case names, body bytes)."""
        conn = connection or self.connection()
        try:
            if isinstance(body, (dict, list)):
                body = json.dumps(body)
                headers = dict(headers or {}, **{"Content-Type": "application/json"})
            conn.request(method, path, body=body, headers=headers or {})
            response = conn.getresponse()
            data = response.read()
            return response.status, {k.lower(): v for k, v in response.getheaders()}, data
        finally:
            if connection is None:
                conn.close()

    def post_json(self, path, value, connection=None):
        """(status, parsed JSON body)."""
        status, _, data = self.request("POST", path, value, connection=connection)
        return status, json.loads(data)

    def raw(self, data, read_until_close=True, timeout=5):
        """Sends raw bytes on a new socket and returns everything read until the server closes it."""
        with socket.create_connection(("127.0.0.1", self.port), timeout=timeout) as s:
            s.sendall(data)
            chunks = []
            deadline = time.monotonic() + timeout
            while time.monotonic() < deadline:
                try:
                    chunk = s.recv(65536)
                except socket.timeout:
                    break
                if not chunk:
                    break
                chunks.append(chunk)
                if not read_until_close:
                    break
            return b"".join(chunks)


def split_responses(data):
    """Splits raw HTTP/1.1 responses with Content-Length bodies into (status, headers, body) tuples."""
    responses = []
    while data:
        head, sep, rest = data.partition(b"\r\n\r\n")
        if not sep:
            raise AssertionError("incomplete response: %r" % data[:200])
        lines = head.decode("latin-1").split("\r\n")
        status = int(lines[0].split(" ")[1])
        headers = {}
        for line in lines[1:]:
            name, _, value = line.partition(":")
            headers[name.strip().lower()] = value.strip()
        length = int(headers.get("content-length", "0"))
        if len(rest) < length:
            raise AssertionError("truncated body: %r" % rest[:200])
        responses.append((status, headers, rest[:length]))
        data = rest[length:]
    return responses
