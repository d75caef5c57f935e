"""
A small HTTP/1.1 server on asyncio, built for many small JSON requests on kept-alive
connections: keep-alive by default, Content-Length and chunked request bodies, pipelined
requests answered in order, ``Expect: 100-continue``, ``Connection: close`` honoured, a body
limit (413), and 400 for a malformed request line or header. A bad request closes its own
connection and nothing else.

The application is one function, ``handle(request) -> Response``, called synchronously in
the event loop: the server is single-threaded and answers each request before reading the
next one from the same connection.
"""

import asyncio
import logging
import re

log = logging.getLogger("trantor_runtime.http")

MAX_BODY = 32 * 1024 * 1024
MAX_HEAD = 64 * 1024
MAX_CHUNK_LINE = 4096

_REASONS = {
    100: "Continue",
    200: "OK",
    400: "Bad Request",
    404: "Not Found",
    405: "Method Not Allowed",
    411: "Length Required",
    413: "Payload Too Large",
    415: "Unsupported Media Type",
    431: "Request Header Fields Too Large",
    500: "Internal Server Error",
    501: "Not Implemented",
    503: "Service Unavailable",
    505: "HTTP Version Not Supported",
}

_STATUS_LINES = {}

_TOKEN = re.compile(rb"[!#$%&'*+\-.^_`|~0-9A-Za-z]+\Z")
_HEX = re.compile(rb"[0-9A-Fa-f]{1,15}\Z")

_CONTINUE = b"HTTP/1.1 100 Continue\r\n\r\n"


def status_line(code):
    line = _STATUS_LINES.get(code)
    if line is None:
        line = ("HTTP/1.1 %d %s\r\n" % (code, _REASONS.get(code, "Status"))).encode("ascii")
        _STATUS_LINES[code] = line
    return line


class Request:
    """One parsed request. Header names are lower-cased bytes; values are bytes."""

    __slots__ = ("method", "path", "query", "headers", "body")

    def __init__(self, method, path, query, headers, body):
        self.method = method
        self.path = path
        self.query = query
        self.headers = headers
        self.body = body


class Response:
    """Status, body bytes and content type (bytes); ``headers`` are extra raw header lines."""

    __slots__ = ("status", "body", "content_type", "headers")

    def __init__(self, status, body, content_type=b"application/json", headers=b""):
        self.status = status
        self.body = body
        self.content_type = content_type
        self.headers = headers


class HttpError(Exception):
    """A request the server rejects before the application sees it; the connection is closed."""

    def __init__(self, status, info):
        super().__init__(info)
        self.status = status
        self.info = info


# Parser states
_HEAD = 0
_BODY = 1
_CHUNK_SIZE = 2
_CHUNK_DATA = 3
_CHUNK_END = 4
_TRAILER = 5


class HttpProtocol(asyncio.Protocol):
    """One connection. ``app`` is ``handle(request) -> Response``; ``on_error(status, info) -> Response``."""

    __slots__ = (
        "_app",
        "_on_error",
        "_transport",
        "_buf",
        "_state",
        "_request",
        "_keep_alive",
        "_need",
        "_chunks",
        "_chunk_total",
        "_closing",
        "_write_paused",
        "_out",
        "_continue_sent",
        "_http10",
    )

    def __init__(self, app, on_error):
        self._app = app
        self._on_error = on_error
        self._transport = None
        self._buf = bytearray()
        self._state = _HEAD
        self._request = None
        self._keep_alive = True
        self._need = 0
        self._chunks = None
        self._chunk_total = 0
        self._closing = False
        self._write_paused = False
        self._out = []
        self._continue_sent = False
        self._http10 = False

    # -- asyncio callbacks -----------------------------------------------------------------

    def connection_made(self, transport):
        self._transport = transport

    def connection_lost(self, exc):
        self._closing = True
        self._transport = None
        self._buf = bytearray()

    def data_received(self, data):
        if self._closing:
            return
        self._buf += data
        try:
            self._process()
        except Exception:  # noqa: BLE001 - a bug here must cost one connection, not the process
            log.exception("unexpected error while serving a connection")
            self._out.append(self._error_bytes(500, "unexpected error in the HTTP server"))
            self._close_after_write()
        self._flush()

    def eof_received(self):
        # The client finished sending; answer what is complete, then close.
        return False

    def pause_writing(self):
        self._write_paused = True
        if self._transport is not None:
            self._transport.pause_reading()

    def resume_writing(self):
        self._write_paused = False
        if self._transport is None or self._closing:
            return
        self._transport.resume_reading()
        if self._buf:
            try:
                self._process()
            except Exception:  # noqa: BLE001
                log.exception("unexpected error while serving a connection")
                self._close_after_write()
            self._flush()

    # -- parsing ---------------------------------------------------------------------------

    def _process(self):
        buf = self._buf
        while not self._closing and not self._write_paused:
            state = self._state
            if state == _HEAD:
                # Tolerate empty lines before a request line (RFC 9112 section 2.2).
                while buf[:2] == b"\r\n":
                    del buf[:2]
                end = buf.find(b"\r\n\r\n")
                if end < 0:
                    if len(buf) > MAX_HEAD:
                        self._reject(431, "request head larger than %d bytes" % MAX_HEAD)
                    return
                if end > MAX_HEAD:
                    self._reject(431, "request head larger than %d bytes" % MAX_HEAD)
                    return
                head = bytes(buf[:end])
                del buf[: end + 4]
                try:
                    self._start_request(head)
                except HttpError as exc:
                    self._reject(exc.status, exc.info)
                    return
                continue
            if state == _BODY:
                need = self._need
                if len(buf) < need:
                    self._maybe_continue()
                    return
                body = bytes(buf[:need])
                del buf[:need]
                self._finish(body)
                continue
            if not self._read_chunked():
                return

    def _start_request(self, head):
        lines = head.split(b"\r\n")
        parts = lines[0].split(b" ")
        if len(parts) != 3:
            raise HttpError(400, "malformed request line")
        method, target, version = parts
        if version == b"HTTP/1.1":
            keep_alive = True
        elif version == b"HTTP/1.0":
            keep_alive = False
        elif version[:5] == b"HTTP/" and len(version) == 8:
            raise HttpError(505, "HTTP version %s is not supported" % version.decode("latin-1"))
        else:
            raise HttpError(400, "malformed request line")
        if not method or _TOKEN.match(method) is None:
            raise HttpError(400, "malformed request method")
        if not target:
            raise HttpError(400, "malformed request target")
        headers = {}
        for line in lines[1:]:
            colon = line.find(b":")
            if colon <= 0:
                raise HttpError(400, "malformed header line")
            name = line[:colon]
            if _TOKEN.match(name) is None:
                raise HttpError(400, "malformed header name")
            name = name.lower()
            value = line[colon + 1 :].strip(b" \t")
            if name in headers:
                if name == b"content-length" or name == b"host":
                    if headers[name] != value:
                        raise HttpError(400, "conflicting %s headers" % name.decode("latin-1"))
                    continue
                headers[name] = headers[name] + b", " + value
            else:
                headers[name] = value
        connection = headers.get(b"connection")
        if connection is not None:
            tokens = connection.lower()
            if b"close" in tokens:
                keep_alive = False
            elif b"keep-alive" in tokens:
                keep_alive = True
        if target[:1] != b"/":
            if target[:7].lower() == b"http://" or target[:8].lower() == b"https://":
                slash = target.find(b"/", target.find(b"//") + 2)
                target = target[slash:] if slash >= 0 else b"/"
            elif target == b"*" and method == b"OPTIONS":
                pass
            else:
                raise HttpError(400, "malformed request target")
        path, _, query = target.partition(b"?")
        self._request = Request(method.decode("latin-1"), path.decode("latin-1"), query, headers, b"")
        self._keep_alive = keep_alive
        self._http10 = not version.endswith(b"1.1")
        self._continue_sent = False
        transfer = headers.get(b"transfer-encoding")
        if transfer is not None:
            if transfer.lower() != b"chunked":
                raise HttpError(501, "Transfer-Encoding %s is not supported; use chunked" % transfer.decode("latin-1"))
            # A chunked body with a Content-Length is a smuggling risk: answer, then close.
            if b"content-length" in headers:
                self._keep_alive = False
            self._state = _CHUNK_SIZE
            self._chunks = []
            self._chunk_total = 0
            return
        length = headers.get(b"content-length")
        if length is None or length == b"0":
            self._finish(b"")
            return
        if not length.isdigit() or len(length) > 18:
            raise HttpError(400, "malformed Content-Length")
        need = int(length)
        if need > MAX_BODY:
            raise HttpError(413, "request body of %d bytes is larger than the limit of %d bytes (32 MiB)" % (need, MAX_BODY))
        self._need = need
        self._state = _BODY

    def _maybe_continue(self):
        if not self._continue_sent and self._request is not None:
            expect = self._request.headers.get(b"expect")
            if expect is not None and expect.lower() == b"100-continue":
                self._continue_sent = True
                self._out.append(_CONTINUE)

    def _read_chunked(self):
        """Consumes chunked body bytes; True once a whole request was handled, False to wait."""
        buf = self._buf
        while True:
            state = self._state
            if state == _CHUNK_SIZE:
                end = buf.find(b"\r\n")
                if end < 0:
                    if len(buf) > MAX_CHUNK_LINE:
                        self._reject(400, "malformed chunk size line")
                        return False
                    self._maybe_continue()
                    return False
                size_text = bytes(buf[:end]).split(b";", 1)[0].strip(b" \t")
                if _HEX.match(size_text) is None:
                    self._reject(400, "malformed chunk size")
                    return False
                del buf[: end + 2]
                size = int(size_text, 16)
                if size == 0:
                    self._state = _TRAILER
                    continue
                self._chunk_total += size
                if self._chunk_total > MAX_BODY:
                    self._reject(413, "chunked request body is larger than the limit of %d bytes (32 MiB)" % MAX_BODY)
                    return False
                self._need = size
                self._state = _CHUNK_DATA
            elif state == _CHUNK_DATA:
                if not buf:
                    self._maybe_continue()
                    return False
                take = min(self._need, len(buf))
                self._chunks.append(bytes(buf[:take]))
                del buf[:take]
                self._need -= take
                if self._need:
                    return False
                self._state = _CHUNK_END
            elif state == _CHUNK_END:
                if len(buf) < 2:
                    return False
                if buf[:2] != b"\r\n":
                    self._reject(400, "malformed chunk: data longer than its size")
                    return False
                del buf[:2]
                self._state = _CHUNK_SIZE
            else:  # _TRAILER: header lines we ignore, up to an empty line
                end = buf.find(b"\r\n")
                if end < 0:
                    if len(buf) > MAX_HEAD:
                        self._reject(431, "chunked trailer larger than %d bytes" % MAX_HEAD)
                    return False
                del buf[: end + 2]
                if end == 0:
                    body = b"".join(self._chunks)
                    self._chunks = None
                    self._finish(body)
                    return True

    # -- answering -------------------------------------------------------------------------

    def _finish(self, body):
        request = self._request
        request.body = body
        self._request = None
        self._state = _HEAD
        try:
            response = self._app(request)
        except Exception:  # noqa: BLE001 - the application must not take the connection down
            log.exception("unexpected error while handling %s %s", request.method, request.path)
            response = self._on_error(500, "unexpected error while handling " + request.method + " " + request.path)
        keep_alive = self._keep_alive
        if request.method == "HEAD":
            self._out.append(self._head_bytes(response, keep_alive))
        else:
            self._out.append(self._head_bytes(response, keep_alive) + response.body)
        if not keep_alive:
            self._close_after_write()

    def _head_bytes(self, response, keep_alive):
        return b"".join(
            (
                status_line(response.status),
                b"Content-Type: ",
                response.content_type,
                b"\r\nContent-Length: ",
                str(len(response.body)).encode("ascii"),
                b"\r\n",
                response.headers,
                b"" if keep_alive else b"Connection: close\r\n",
                b"Connection: keep-alive\r\n\r\n" if keep_alive and self._http10 else b"\r\n",
            )
        )

    def _error_bytes(self, status, info):
        response = self._on_error(status, info)
        return self._head_bytes(response, False) + response.body

    def _reject(self, status, info):
        log.debug("rejecting a request: %d %s", status, info)
        self._out.append(self._error_bytes(status, info))
        self._close_after_write()

    def _close_after_write(self):
        self._closing = True
        self._buf.clear()

    def _flush(self):
        transport = self._transport
        out = self._out
        if transport is None:
            out.clear()
            return
        if out:
            if len(out) == 1:
                transport.write(out[0])
            else:
                transport.write(b"".join(out))
            out.clear()
        if self._closing:
            transport.close()


async def serve(app, on_error, host=None, port=None, sock=None):
    """Starts serving on ``sock`` (already listening) or on ``host:port``; returns the asyncio Server."""
    loop = asyncio.get_running_loop()
    if sock is not None:
        return await loop.create_server(lambda: HttpProtocol(app, on_error), sock=sock, backlog=1024)
    return await loop.create_server(
        lambda: HttpProtocol(app, on_error), host, port, reuse_address=True, backlog=1024
    )
