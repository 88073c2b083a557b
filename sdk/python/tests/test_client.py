"""The Python SDK against a real running platform.

Run by the project's test command (sdk/test/python.test.ts starts the platform, deploys the functions
below, and runs this with OSIRIS_URL set):

    add_numbers(a, b)      a + b
    echo(value)            value
    fail(message)          throws RangeError(message)
    spin()                 never settles
"""

import os
import threading
import unittest

import osiris


class CallFunction(unittest.TestCase):
    def test_module_level_call_uses_the_environment(self):
        self.assertEqual(osiris.default_client().url, os.environ["OSIRIS_URL"])
        self.assertEqual(osiris.call_function("add_numbers", 3, 5), 8)

    def test_lists_and_dicts_round_trip(self):
        value = {"list": [1, 2.5, "three", None, True], "nested": {"k": ["v"]}, "unicode": "héllo ✓"}
        self.assertEqual(osiris.call_function("echo", value), value)
        self.assertEqual(osiris.call_function("echo", [[], {}]), [[], {}])

    def test_explicit_client(self):
        with osiris.Client(os.environ["OSIRIS_URL"], timeout=5) as client:
            self.assertEqual(client.call_function("add_numbers", -1, 1), 0)
            names = {f["name"] for f in client.list_functions()}
            self.assertTrue({"add_numbers", "echo", "fail", "spin"} <= names)
            info = client.get_function("add_numbers")
            self.assertEqual([p["name"] for p in info["params"]], ["a", "b"])

    def test_one_connection_is_reused(self):
        with osiris.Client() as client:
            client.call_function("add_numbers", 1, 2)
            first = client._local.connection.sock
            for i in range(50):
                self.assertEqual(client.call_function("add_numbers", i, 1), i + 1)
            self.assertIs(client._local.connection.sock, first)

    def test_threads_share_a_client(self):
        client = osiris.Client()
        self.addCleanup(client.close)
        results = []

        def work(n):
            results.append(client.call_function("add_numbers", n, n))

        threads = [threading.Thread(target=work, args=(n,)) for n in range(8)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        self.assertEqual(sorted(results), [n * 2 for n in range(8)])


class Errors(unittest.TestCase):
    def test_codes_are_the_shared_registry(self):
        self.assertEqual(osiris.ERROR_CODES, {
            "NOT_FOUND", "INVALID_ARGUMENT", "COMPILE_ERROR", "FUNCTION_ERROR", "RESULT_NOT_JSON",
            "DEADLINE_EXCEEDED", "RESOURCE_EXHAUSTED", "PAYLOAD_TOO_LARGE", "UNAVAILABLE", "UNAUTHENTICATED",
            "PERMISSION_DENIED", "CANCELLED", "CLOSED", "INTERNAL",
        })

    def test_unknown_function(self):
        with self.assertRaises(osiris.NotFound) as caught:
            osiris.call_function("does_not_exist", 1)
        self.assertEqual(caught.exception.code, "NOT_FOUND")
        self.assertEqual(caught.exception.status, 404)
        self.assertEqual(str(caught.exception), 'function "does_not_exist" is not deployed')
        self.assertIsInstance(caught.exception, osiris.OsirisError)

    def test_wrong_arity(self):
        with self.assertRaises(osiris.InvalidArgument) as caught:
            osiris.call_function("add_numbers", 1, 2, 3)
        self.assertEqual(caught.exception.code, "INVALID_ARGUMENT")
        self.assertEqual(caught.exception.message, 'function "add_numbers" takes 2 arguments, got 3')

    def test_function_error_carries_the_remote_error(self):
        with self.assertRaises(osiris.FunctionError) as caught:
            osiris.call_function("fail", "out of range")
        error = caught.exception
        self.assertEqual(error.code, "FUNCTION_ERROR")
        self.assertEqual(error.status, 500)
        self.assertEqual(error.remote_name, "RangeError")
        self.assertEqual(error.remote_message, "out of range")
        self.assertRegex(error.remote_stack, r"at fail \(pytools\.js:\d+:\d+\)")

    def test_deadline(self):
        with self.assertRaises(osiris.DeadlineExceeded) as caught:
            osiris.call_function("spin", timeout=0.3)
        self.assertEqual(caught.exception.code, "DEADLINE_EXCEEDED")

    def test_argument_that_is_not_json(self):
        cases = [
            ((object(),), 'argument 1 of "echo" cannot be encoded as JSON: args[0] is an object object '
                          '(JSON carries dicts, lists, str, int, float, bool and None)'),
            ((float("nan"),), 'argument 1 of "echo" cannot be encoded as JSON: args[0] is NaN (JSON has no NaN or Infinity)'),
            ((1, {"x": [float("inf")]}), 'argument 2 of "echo" cannot be encoded as JSON: args[1]["x"][0] is Infinity '
                                         '(JSON has no NaN or Infinity)'),
            (({"tags": {1}},), 'argument 1 of "echo" cannot be encoded as JSON: args[0]["tags"] is a set '
                               '(JSON has no set: convert it, e.g. sorted(s) or list(s))'),
            ((b"raw",), 'argument 1 of "echo" cannot be encoded as JSON: args[0] is bytes '
                        '(JSON has no binary data: decode it, or base64-encode it)'),
        ]
        for args, message in cases:
            with self.subTest(message=message):
                with self.assertRaises(osiris.InvalidArgument) as caught:
                    osiris.call_function("echo", *args)
                self.assertEqual(caught.exception.code, "INVALID_ARGUMENT")
                self.assertEqual(caught.exception.message, message)

    def test_utf8_arguments_are_sent_as_is(self):
        # 750 KB of UTF-8 (2 bytes a character): as \u escapes it would be 2.25 MB, over the 1 MiB limit.
        text = "é" * 375_000
        self.assertEqual(osiris.call_function("echo", text), text)
        self.assertEqual(osiris.call_function("echo", ("tuple", "☃")), ["tuple", "☃"])

    def test_unreachable_controller(self):
        with osiris.Client("http://127.0.0.1:1", timeout=2) as client:
            with self.assertRaises(osiris.Unavailable) as caught:
                client.call_function("add_numbers", 1, 2)
        self.assertEqual(caught.exception.code, "UNAVAILABLE")
        self.assertIn("cannot reach controller http://127.0.0.1:1", caught.exception.message)
        self.assertEqual(caught.exception.started, "never", "nothing was sent: safe to send again")

    def test_a_call_id_runs_once(self):
        call_id = "py-once-" + str(threading.get_ident())
        self.assertEqual(osiris.call_function("echo", 1, call_id=call_id), 1)
        with self.assertRaises(osiris.Unavailable) as caught:
            osiris.call_function("echo", 1, call_id=call_id)
        self.assertEqual(caught.exception.started, "maybe")
        self.assertIn(f'call "{call_id}" already reached this host; it is not run twice', caught.exception.message)

    def test_an_answer_from_the_function_says_nothing_of_started(self):
        with self.assertRaises(osiris.FunctionError) as caught:
            osiris.call_function("fail", "why")
        self.assertIsNone(caught.exception.started)

    def test_bad_url(self):
        with self.assertRaises(osiris.InvalidArgument):
            osiris.Client("ftp://example")

    def test_missing_ca_file(self):
        with self.assertRaises(osiris.InvalidArgument) as caught:
            osiris.Client("https://127.0.0.1:1", ca="/nonexistent/ca.pem")
        self.assertEqual(caught.exception.code, "INVALID_ARGUMENT")
        self.assertIn("cannot use the CA certificate '/nonexistent/ca.pem'", caught.exception.message)

    def test_closed_client(self):
        client = osiris.Client()
        client.close()
        client.close()
        with self.assertRaises(osiris.Closed) as caught:
            client.call_function("add_numbers", 1, 2)
        self.assertEqual(caught.exception.code, "CLOSED")


if __name__ == "__main__":
    unittest.main()
