"""The Python SDK against answers no Osiris server sends: each is an Osiris error with a stable code.

A hostile or broken server on loopback (this test's own, on a free port) answers a body that is not
JSON, JSON nested past what Python's parser can take, a body over the SDK's bound, a malformed error
body, and something that is not HTTP at all. Runs without a platform.
"""

import http.server
import socket
import threading
import unittest

import osiris
from osiris import _client

DEEP = b"[" * 200_000 + b"]" * 200_000


class _Handler(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, *_args):  # quiet
        pass

    def do_POST(self):  # noqa: N802 (the stdlib's name)
        self.rfile.read(int(self.headers.get("content-length", 0)))
        name = self.path.rsplit("/", 1)[-1]
        if name == "huge":
            size = _client.MAX_ANSWER_BYTES + 1024
            self.send_response(200)
            self.send_header("content-type", "application/json")
            self.send_header("content-length", str(size))
            self.end_headers()
            chunk = b" " * 65536
            sent = 0
            try:
                while sent < size:
                    part = chunk[: min(len(chunk), size - sent)]
                    self.wfile.write(part)
                    sent += len(part)
            except (BrokenPipeError, ConnectionResetError):
                pass
            return
        status, body = {
            "notjson": (200, b"<html>forged</html>"),
            "deep": (200, DEEP),
            "baderror": (500, b"{not json"),
            "deeperror": (429, DEEP),
            "badutf8": (200, b'"\xff\xfe"'),
        }[name]
        self.send_response(status)
        self.send_header("content-type", "application/json")
        self.send_header("content-length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)


class HostileAnswers(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _Handler)
        cls.thread = threading.Thread(target=cls.server.serve_forever, daemon=True)
        cls.thread.start()
        cls.url = f"http://127.0.0.1:{cls.server.server_address[1]}"

    @classmethod
    def tearDownClass(cls):
        cls.server.shutdown()
        cls.server.server_close()

    def call(self, name):
        with osiris.Client(self.url, token="", timeout=10) as client:
            return client.call_function(name)

    def test_a_result_that_is_not_json(self):
        with self.assertRaises(osiris.ResultNotJson) as caught:
            self.call("notjson")
        self.assertEqual(caught.exception.code, "RESULT_NOT_JSON")
        self.assertEqual(caught.exception.message, "HTTP 200: the answer is not JSON")

    def test_a_result_nested_past_the_parser(self):
        with self.assertRaises(osiris.ResultNotJson) as caught:
            self.call("deep")
        self.assertEqual(caught.exception.message, "HTTP 200: the answer nests deeper than Python's JSON parser can take")

    def test_a_result_that_is_not_utf8(self):
        with self.assertRaises(osiris.ResultNotJson):
            self.call("badutf8")

    def test_an_answer_over_the_bound_is_not_read_whole(self):
        with self.assertRaises(osiris.ResultNotJson) as caught:
            self.call("huge")
        self.assertEqual(caught.exception.message, f"HTTP 200: the answer is over {_client.MAX_ANSWER_BYTES} bytes")

    def test_error_bodies_that_cannot_be_read_keep_their_status(self):
        with self.assertRaises(osiris.InternalError) as caught:
            self.call("baderror")
        self.assertEqual(caught.exception.code, "INTERNAL")
        with self.assertRaises(osiris.ResourceExhausted) as caught:
            self.call("deeperror")
        self.assertEqual(caught.exception.code, "RESOURCE_EXHAUSTED")

    def test_an_answer_that_is_not_http(self):
        listener = socket.socket()
        listener.bind(("127.0.0.1", 0))
        listener.listen(1)
        port = listener.getsockname()[1]

        def answer():
            conn, _ = listener.accept()
            conn.recv(65536)
            conn.sendall(b"SSH-2.0-hello\r\n" + b"x" * 70000 + b"\r\n\r\n")
            conn.close()

        threading.Thread(target=answer, daemon=True).start()
        try:
            with osiris.Client(f"http://127.0.0.1:{port}", token="", timeout=5) as client:
                with self.assertRaises(osiris.OsirisError) as caught:
                    client.call_function("x")
            self.assertIn(caught.exception.code, ("INTERNAL", "UNAVAILABLE"))
        finally:
            listener.close()


if __name__ == "__main__":
    unittest.main()
