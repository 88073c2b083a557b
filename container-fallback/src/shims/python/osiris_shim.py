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
import os
import signal
import socket
import sys
import traceback

SOCKET = os.environ.get("OSIRIS_SOCKET", "/run/osiris/host.sock")
# Proves to the host that this connection is its container's shim; useless once connected.
TOKEN = os.environ.pop("OSIRIS_SHIM_TOKEN", "")
MAX_LOG_BYTES = int(os.environ.get("OSIRIS_MAX_LOG_BYTES", "65536"))


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


class Logs(io.TextIOBase):
    """print() output of one call, as lines, up to MAX_LOG_BYTES."""

    def __init__(self, level):
        self.level = level
        self.lines = []
        self.partial = ""
        self.size = 0
        self.full = False

    def writable(self):
        return True

    def write(self, text):
        self.partial += text
        *done, self.partial = self.partial.split("\n")
        for line in done:
            self.add(line)
        return len(text)

    def add(self, line):
        if self.full:
            return
        self.size += len(line.encode()) + 1
        if self.size > MAX_LOG_BYTES:
            self.full = True
            self.lines.append({"level": "warn", "line": "[log limit reached: further output of this call dropped]"})
            return
        self.lines.append({"level": self.level, "line": line})

    def drain(self):
        if self.partial:
            self.add(self.partial)
            self.partial = ""


class Shim:
    def __init__(self):
        self.namespace = None

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
        out, err = Logs("info"), Logs("error")
        saved = sys.stdout, sys.stderr
        sys.stdout, sys.stderr = out, err
        arm_cpu_limit(request.get("cpuMs"))
        try:
            value = fn(*args)
            if inspect.isawaitable(value):
                value = asyncio.run(_await(value))
        except BaseException as error:  # noqa: BLE001 - report whatever the function raised
            return {"error": guest_error(error), "logs": self.logs(out, err)}
        finally:
            signal.setitimer(signal.ITIMER_PROF, 0)
            sys.stdout, sys.stderr = saved
        try:
            result = json.dumps(value, allow_nan=False, separators=(",", ":"))
        except (TypeError, ValueError, RecursionError) as error:
            return {"notJson": str(error), "logs": self.logs(out, err)}
        return {"result": result, "logs": self.logs(out, err)}

    @staticmethod
    def logs(out, err):
        out.drain()
        err.drain()
        return out.lines + err.lines

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


def thread_count():
    return len(os.listdir("/proc/self/task"))


def stop_leftovers():
    """Kills every process in the container but this one and init."""
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
    writer.write(json.dumps({"hello": "python", "token": TOKEN, "pid": os.getpid(), "version": sys.version.split()[0]}) + "\n")
    writer.flush()
    shim = Shim()
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
        writer.write(json.dumps(answer, separators=(",", ":")) + "\n")
        writer.flush()
        if recycle:
            os._exit(0)


if __name__ == "__main__":
    main()
