# The Osiris Python shim: runs inside a runtime container (no network,
# read-only root, non-root user) and serves one host over the unix socket the
# host listens on in the mounted directory. Standard library only.
#
# Protocol (README.md in container-fallback/): one JSON object per line each
# way, strictly request then answer.
#   {"op": "check", "filename", "code"}  -> {"functions": [...]} | {"compile": {...}}
#   {"op": "load", "module", "filename", "code"} -> {"loaded": true} | {"error": {...}} | {"compile": {...}}
#   {"op": "call", "fn", "args": [json, ...], "cpuMs"} -> {"result": json, "logs": [...]}
#        | {"error": {"name", "message", "stack"}, "logs"} | {"notJson": msg} | {"missing": true}
# While a request is in flight the shim also sends {"log": {"level", "line"}}
# for each line the code prints (stdout: info, stderr and logging: error),
# as it is printed, so output written before a kill still reaches the logs.
# "check" only parses (ast) and never runs the code, so a container that
# checked a module is still generic; "load" runs the module's top level once.
# A call that uses more than cpuMs of CPU time ends this process: the
# ITIMER_PROF timer armed for it delivers SIGPROF, whose default action
# terminates (the container's init then exits 128 + 27).
# After each request no process of the tenant's keeps running: every other
# process in the container is killed; when a call left a thread behind (beyond
# those the module's top level started) the answer says "recycle" and this
# process exits once it is sent (the host removes the container). The host does not rely on this: a line arriving
# with no request pending is a protocol violation that discards the container.
import ast
import asyncio
import inspect
import io
import json
import math
import os
import signal
import socket
import sys
import threading
import traceback

SOCKET = os.environ.get("OSIRIS_SOCKET", "/run/osiris/host.sock")
# Proves to the host that this connection is its container's shim; useless once connected.
TOKEN = os.environ.pop("OSIRIS_SHIM_TOKEN", "")
MAX_LOG_BYTES = int(os.environ.get("OSIRIS_MAX_LOG_BYTES", "65536"))
# Deepest nesting of lists and dicts in a result (the platform's default maxResultDepth).
MAX_RESULT_DEPTH = 128


def compile_error(filename, error):
    line = error.lineno or 0
    column = error.offset or 0
    return {"compile": {"name": type(error).__name__, "message": error.msg, "line": line, "column": column}}


def params_of(node):
    a = node.args
    positional = a.posonlyargs + a.args
    first_default = len(positional) - len(a.defaults)
    params = [{"name": p.arg, "optional": i >= first_default, "rest": False} for i, p in enumerate(positional)]
    if a.vararg is not None:
        params.append({"name": a.vararg.arg, "optional": True, "rest": True})
    return params


def check(filename, code):
    try:
        tree = ast.parse(code, filename=filename)
    except SyntaxError as error:
        return compile_error(filename, error)
    except (ValueError, RecursionError, MemoryError) as error:
        return {"compile": {"name": type(error).__name__, "message": str(error), "line": 0, "column": 0}}
    functions = [
        {"name": node.name, "params": params_of(node)}
        for node in tree.body
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)) and not node.name.startswith("_")
    ]
    return {"functions": functions}


def guest_error(error, skip=1):
    tb = error.__traceback__
    # Drop the shim's own frames so the trace starts in the tenant's module.
    for _ in range(skip):
        if tb is not None and tb.tb_next is not None:
            tb = tb.tb_next
    stack = "".join(traceback.format_exception(type(error), error, tb))
    return {"name": type(error).__name__, "message": str(error), "stack": stack.rstrip("\n")}


class NotJson(Exception):
    """A value JSON cannot carry as it is: what it is, and where."""

    def __init__(self, path, what):
        super().__init__("%s is %s" % (path, what))


def _what(value):
    if isinstance(value, (set, frozenset)):
        return "a %s (JSON has no set: convert it, e.g. sorted(s) or list(s))" % type(value).__name__
    if isinstance(value, (bytes, bytearray, memoryview)):
        return "%s (JSON has no binary data: decode it, or base64-encode it)" % type(value).__name__
    name = type(value).__name__
    if hasattr(value, "isoformat"):
        return "a %s (convert it, e.g. value.isoformat())" % name
    if name == "Decimal":
        return "a Decimal (convert it, e.g. str(d) or float(d))"
    if callable(value):
        return "a function" if inspect.isroutine(value) else "a callable %s object" % name
    article = "an" if name[:1] in "AEIOaeio" else "a"
    return "%s %s object (JSON carries dicts, lists, str, int, float, bool and None)" % (article, name)


def to_json(value, root):
    """value as JSON text (UTF-8 as is), or raises NotJson naming the first value
    JSON would lose: the rules of the README's "Values" section. Tuples become
    lists and int dict keys strings, as json.dumps does; nothing else is converted."""
    path_ids = set()

    def check(v, path, depth):
        if v is None or isinstance(v, (bool, str, int)):
            return
        if isinstance(v, float):
            if not math.isfinite(v):
                raise NotJson(path, "%s (JSON has no NaN or Infinity)" % ("NaN" if v != v else "Infinity" if v > 0 else "-Infinity"))
            return
        if not isinstance(v, (list, tuple, dict)):
            raise NotJson(path, _what(v))
        if depth >= MAX_RESULT_DEPTH:
            raise NotJson(root, "nested deeper than %d levels" % MAX_RESULT_DEPTH)
        if id(v) in path_ids:
            raise NotJson(path, "a circular reference to a %s that contains it" % type(v).__name__)
        path_ids.add(id(v))
        if isinstance(v, dict):
            for key, item in v.items():
                if isinstance(key, bool) or not isinstance(key, (str, int)):
                    raise NotJson(path, "a dict with a %s key %r (JSON keys are strings)" % (type(key).__name__, key))
                if isinstance(key, int) and str(key) in v:
                    raise NotJson(path, "a dict with both %r and %r as keys (the same in JSON)" % (key, str(key)))
                check(item, "%s[%s]" % (path, json.dumps(key if isinstance(key, str) else str(key), ensure_ascii=False)), depth + 1)
        else:
            for i, item in enumerate(v):
                check(item, "%s[%d]" % (path, i), depth + 1)
        path_ids.discard(id(v))

    check(value, root, 0)
    return json.dumps(value, allow_nan=False, separators=(",", ":"), ensure_ascii=False)


class Output:
    """Where printed lines go: to the host at once, as {"log": ...} lines, up to MAX_LOG_BYTES per call."""

    def __init__(self, send):
        self.send = send
        self.lock = threading.Lock()
        self.size = 0
        self.full = False

    def reset(self):
        with self.lock:
            self.size = 0
            self.full = False

    def line(self, level, text):
        with self.lock:
            if self.full:
                return
            self.size += len(text.encode("utf-8", "replace")) + 1
            if self.size > MAX_LOG_BYTES:
                self.full = True
                level, text = "warn", "[log limit reached: further output of this call dropped]"
        self.send({"log": {"level": level, "line": text}})


class Stream(io.TextIOBase):
    """sys.stdout or sys.stderr: each complete line is sent as it is written; flush() sends a partial one."""

    def __init__(self, output, level):
        self.output = output
        self.level = level
        self.partial = ""
        self.lock = threading.Lock()

    def writable(self):
        return True

    def write(self, text):
        with self.lock:
            self.partial += text
            *done, self.partial = self.partial.split("\n")
        for line in done:
            self.output.line(self.level, line)
        return len(text)

    def flush(self):
        with self.lock:
            partial, self.partial = self.partial, ""
        if partial:
            self.output.line(self.level, partial)


class Shim:
    def __init__(self, output):
        self.namespace = None
        self.output = output

    def load(self, request):
        filename = request["filename"]
        try:
            compiled = compile(request["code"], filename, "exec")
        except SyntaxError as error:
            return compile_error(filename, error)
        namespace = {"__name__": request["module"], "__file__": filename, "__builtins__": __builtins__}
        try:
            exec(compiled, namespace)
        except BaseException as error:  # noqa: BLE001 - the tenant's top level may raise anything
            return {"error": guest_error(error)}
        self.namespace = namespace
        return {"loaded": True}

    def call(self, request):
        fn = (self.namespace or {}).get(request["fn"])
        if not callable(fn):
            return {"missing": True}
        args = [json.loads(a) for a in request["args"]]
        self.output.reset()
        arm_cpu_limit(request.get("cpuMs"))
        try:
            value = fn(*args)
            if inspect.isawaitable(value):
                value = asyncio.run(_await(value))
        except BaseException as error:  # noqa: BLE001 - report whatever the function raised
            guest = guest_error(error)
            flush_streams()
            # An uncaught exception's traceback goes to the logs too, as Python prints it.
            self.output.line("error", guest["stack"])
            return {"error": guest, "logs": []}
        finally:
            signal.setitimer(signal.ITIMER_PROF, 0)
            flush_streams()
        try:
            result = to_json(value, "result")
        except NotJson as error:
            return {"notJson": str(error), "logs": []}
        except (TypeError, ValueError, RecursionError) as error:
            return {"notJson": str(error), "logs": []}
        return {"result": result, "logs": []}

    def handle(self, request):
        op = request.get("op")
        if op == "check":
            return check(request["filename"], request["code"])
        if op == "load":
            return self.load(request)
        if op == "call":
            return self.call(request)
        return {"fault": "unknown op %r" % (op,)}


def arm_cpu_limit(cpu_ms):
    """SIGPROF, with its default action (terminate), once this process has used cpu_ms more CPU time."""
    signal.signal(signal.SIGPROF, signal.SIG_DFL)
    signal.pthread_sigmask(signal.SIG_UNBLOCK, {signal.SIGPROF})
    if isinstance(cpu_ms, int) and cpu_ms > 0:
        signal.setitimer(signal.ITIMER_PROF, cpu_ms / 1000)


async def _await(awaitable):
    return await awaitable


def flush_streams():
    for stream in (sys.stdout, sys.stderr):
        try:
            stream.flush()
        except Exception:  # noqa: BLE001 - a tenant may have replaced the stream
            pass


def thread_count():
    return len(os.listdir("/proc/self/task"))


def stop_leftovers():
    """Kills every process in the container but this one and init."""
    # Only as the child of the container's init (Init: true), or as init itself: a shim started
    # anywhere else (a test running it on a machine) must never signal that machine's processes.
    if os.getppid() not in (0, 1):
        return
    me = os.getpid()
    for entry in os.listdir("/proc"):
        if entry.isdigit() and int(entry) not in (1, me):
            try:
                os.kill(int(entry), signal.SIGKILL)
            except OSError:
                pass
    try:
        while os.waitpid(-1, os.WNOHANG)[0] != 0:
            pass
    except ChildProcessError:
        pass


def main():
    conn = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    conn.connect(SOCKET)
    reader = conn.makefile("r", encoding="utf-8", newline="\n")
    writer = conn.makefile("w", encoding="utf-8", newline="\n")
    lock = threading.Lock()

    def send(message):
        text = json.dumps(message, separators=(",", ":")) + "\n"
        with lock:
            writer.write(text)
            writer.flush()

    send({"hello": "python", "token": TOKEN, "pid": os.getpid(), "version": sys.version.split()[0]})
    output = Output(send)
    # From here on, whatever the code prints (top level included) goes to the host as log lines.
    sys.stdout, sys.stderr = Stream(output, "info"), Stream(output, "error")
    shim = Shim(output)
    # Threads a module's top level starts are its own; a call may leave none beyond them.
    threads = thread_count()
    for line in reader:
        try:
            request = json.loads(line)
            answer = shim.handle(request)
        except Exception as error:  # noqa: BLE001 - a shim bug must answer, not hang the host
            request, answer = {}, {"fault": "%s: %s" % (type(error).__name__, error)}
        stop_leftovers()
        recycle = False
        if request.get("op") == "load":
            threads = thread_count()
        elif request.get("op") == "call" and thread_count() > threads:
            recycle = True
        if recycle:
            answer["recycle"] = True
        send(answer)
        if recycle:
            os._exit(0)


if __name__ == "__main__":
    main()
