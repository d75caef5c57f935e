"""A component that answers every wrapper call with the very bytes it was sent, so a test sees
exactly what the executor sent it and the gateway sees exactly what a model wrote."""
import os
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


class Echo(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def _answer(self, status, body, content_type="application/json"):
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def do_GET(self):
        if self.path == "/health/ping":
            self._answer(200, b"pong", "text/plain")
        else:
            self._answer(200, b'{"status":{"status":"SUCCESS"}}')

    def do_POST(self):
        body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
        self._answer(200, body)

    def log_message(self, *args):
        pass


ThreadingHTTPServer(("127.0.0.1", int(os.environ["PREDICTIVE_UNIT_HTTP_SERVICE_PORT"])), Echo).serve_forever()
