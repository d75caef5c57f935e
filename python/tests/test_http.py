"""The HTTP/1.1 server: connections, framing and malformed requests."""

import json
import socket
import time
import unittest

from .support import FIXTURES, Server, split_responses


def post(path, body, extra=b""):
    body = body.encode() if isinstance(body, str) else body
    return (
        b"POST " + path.encode() + b" HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
        + extra + b"Content-Length: " + str(len(body)).encode() + b"\r\n\r\n" + body
    )


def ndarray(value):
    return json.dumps({"data": {"ndarray": value}})


class HttpServerTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.server = Server("contract_models.Echo", cwd=FIXTURES)

    @classmethod
    def tearDownClass(cls):
        cls.server.stop()

    def assertAlive(self):
        self.assertEqual(self.server.request("GET", "/health/ping")[2], b"pong")

    def test_many_requests_share_one_kept_alive_connection(self):
        conn = self.server.connection()
        try:
            conn.connect()
            sock = conn.sock
            for i in range(100):
                status, reply = self.server.post_json("/predict", {"data": {"ndarray": [i]}}, connection=conn)
                self.assertEqual((status, reply["data"]["ndarray"]), (200, [i]))
            self.assertIs(conn.sock, sock)
        finally:
            conn.close()

    def test_pipelined_requests_are_answered_in_order(self):
        with socket.create_connection(("127.0.0.1", self.server.port), timeout=5) as s:
            s.sendall(b"".join(post("/predict", ndarray([i])) for i in range(20)) + b"GET /health/ping HTTP/1.1\r\nHost: x\r\n\r\n")
            data = b""
            while data.count(b"HTTP/1.1 ") < 21 or not data.endswith(b"pong"):
                chunk = s.recv(65536)
                if not chunk:
                    break
                data += chunk
        responses = split_responses(data)
        self.assertEqual(len(responses), 21)
        self.assertEqual([json.loads(b)["data"]["ndarray"] for _, _, b in responses[:20]], [[i] for i in range(20)])
        self.assertEqual(responses[20][2], b"pong")

    def test_request_split_across_many_packets_is_read_whole(self):
        data = post("/predict", ndarray([[1, 2], [3, 4]]))
        with socket.create_connection(("127.0.0.1", self.server.port), timeout=5) as s:
            s.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            for i in range(0, len(data), 7):
                s.sendall(data[i : i + 7])
                time.sleep(0.001)
            reply = s.recv(65536)
        status, _, body = split_responses(reply)[0]
        self.assertEqual((status, json.loads(body)["data"]["ndarray"]), (200, [[1, 2], [3, 4]]))

    def test_chunked_request_body_is_reassembled(self):
        body = ndarray([[1, 2, 3]]).encode()
        chunks = [body[:5], body[5:6], body[6:]]
        head = b"POST /predict HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\n"
        encoded = b"".join(b"%x;ext=1\r\n%s\r\n" % (len(c), c) for c in chunks) + b"0\r\nX-Trailer: yes\r\n\r\n"
        with socket.create_connection(("127.0.0.1", self.server.port), timeout=5) as s:
            s.sendall(head)
            for i in range(0, len(encoded), 4):
                s.sendall(encoded[i : i + 4])
            data = b""
            while b"\r\n\r\n" not in data or not data.endswith(b"}"):
                data += s.recv(65536)
        status, _, reply = split_responses(data)[0]
        self.assertEqual((status, json.loads(reply)["data"]["ndarray"]), (200, [[1, 2, 3]]))

    def test_connection_close_is_honoured(self):
        data = self.server.raw(post("/predict", ndarray([1]), b"Connection: close\r\n") + post("/predict", ndarray([2])))
        responses = split_responses(data)
        self.assertEqual(len(responses), 1)
        self.assertEqual(responses[0][1]["connection"], "close")

    def test_http_1_0_request_is_answered_and_closed(self):
        data = self.server.raw(b"GET /health/ping HTTP/1.0\r\n\r\n")
        self.assertTrue(data.startswith(b"HTTP/1.1 200"))
        self.assertTrue(data.endswith(b"pong"))

    def test_expect_100_continue_gets_an_interim_response(self):
        body = ndarray([5]).encode()
        head = (
            b"POST /predict HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nExpect: 100-continue\r\n"
            b"Content-Length: " + str(len(body)).encode() + b"\r\n\r\n"
        )
        with socket.create_connection(("127.0.0.1", self.server.port), timeout=5) as s:
            s.sendall(head)
            self.assertEqual(s.recv(65536), b"HTTP/1.1 100 Continue\r\n\r\n")
            s.sendall(body)
            reply = s.recv(65536)
        self.assertTrue(reply.startswith(b"HTTP/1.1 200"))

    def test_body_over_32_mib_is_413_before_it_is_read(self):
        data = self.server.raw(
            b"POST /predict HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 33554433\r\n\r\n{"
        )
        status, headers, body = split_responses(data)[0]
        self.assertEqual(status, 413)
        self.assertEqual(json.loads(body)["status"]["reason"], "PAYLOAD_TOO_LARGE")
        self.assertAlive()

    def test_chunked_body_over_32_mib_is_413(self):
        head = b"POST /predict HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n"
        data = self.server.raw(head + b"2000001\r\n")
        self.assertEqual(split_responses(data)[0][0], 413)

    def test_malformed_request_line_is_400_and_the_server_keeps_serving(self):
        for bad in (b"GARBAGE\r\n\r\n", b"GET /predict\r\n\r\n", b"GET / HTTP/9\r\n\r\n", b"\x00\x01 / HTTP/1.1\r\n\r\n"):
            with self.subTest(request=bad):
                data = self.server.raw(bad)
                self.assertEqual(split_responses(data)[0][0], 400)
        self.assertAlive()

    def test_malformed_header_is_400(self):
        for bad in (b"GET /live HTTP/1.1\r\nno colon here\r\n\r\n", b"GET /live HTTP/1.1\r\nBad Name: x\r\n\r\n",
                    b"POST /predict HTTP/1.1\r\nContent-Length: ten\r\n\r\n"):
            with self.subTest(request=bad):
                self.assertEqual(split_responses(self.server.raw(bad))[0][0], 400)
        self.assertAlive()

    def test_malformed_chunk_size_is_400(self):
        data = self.server.raw(b"POST /predict HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n")
        self.assertEqual(split_responses(data)[0][0], 400)

    def test_unknown_path_is_404_json(self):
        status, _, body = self.server.request("GET", "/nowhere")
        self.assertEqual(status, 404)
        failure = json.loads(body)["status"]
        self.assertEqual((failure["code"], failure["reason"]), (404, "NOT_FOUND"))
        self.assertIn("/nowhere", failure["info"])

    def test_other_method_on_predict_is_405_with_allow(self):
        status, headers, _ = self.server.request("DELETE", "/predict")
        self.assertEqual(status, 405)
        self.assertEqual(headers["allow"], "GET, POST")

    def test_content_type_other_than_json_or_form_is_415(self):
        status, _, body = self.server.request("POST", "/predict", "a,b", {"Content-Type": "text/csv"})
        self.assertEqual(status, 415)
        self.assertIn("text/csv", json.loads(body)["status"]["info"])

    def test_form_without_json_field_is_400(self):
        status, _, body = self.server.request(
            "POST", "/predict", "data=1", {"Content-Type": "application/x-www-form-urlencoded"}
        )
        self.assertEqual(status, 400)
        self.assertIn("json=", json.loads(body)["status"]["info"])

    def test_client_that_disconnects_mid_body_does_not_disturb_others(self):
        with socket.create_connection(("127.0.0.1", self.server.port), timeout=5) as s:
            s.sendall(b"POST /predict HTTP/1.1\r\nContent-Length: 100\r\n\r\n{")
        self.assertAlive()


if __name__ == "__main__":
    unittest.main()
