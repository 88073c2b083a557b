# The Osiris exec shim: any executable as a function. The module is a script
# starting with "#!" (its interpreter must be in the image); each call runs it
# once with the arguments as a JSON array on stdin, and its stdout is the
# result as JSON. stderr lines become the call's log. Same protocol and
# socket as the Python shim (container-fallback/README.md).
#
# The function is named after the module (math.run -> "math"); its parameters
# come from a line "# osiris: params a b", else it takes any arguments.
import json
import os
import re
import signal
import socket
import subprocess
import sys

SOCKET = os.environ.get("OSIRIS_SOCKET", "/run/osiris/host.sock")
# Proves to the host that this connection is its container's shim; useless once connected.
TOKEN = os.environ.pop("OSIRIS_SHIM_TOKEN", "")
PARAMS = re.compile(r"^#\s*osiris:\s*params\b(.*)$")
NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")
MAX_LOG_LINES = 1000


def compile_error(message, line=0):
    return {"compile": {"name": "ExecError", "message": message, "line": line, "column": 1 if line else 0}}


def shape(filename, code):
    name = os.path.splitext(os.path.basename(filename))[0]
    if not code.startswith("#!"):
        return compile_error("an exec module starts with #! naming its interpreter", 1)
    if not NAME.match(name):
        return compile_error("module name %r is not a function name" % name)
    params = [{"name": "args", "optional": True, "rest": True}]
    for number, line in enumerate(code.splitlines(), start=1):
        m = PARAMS.match(line)
        if m:
            names = m.group(1).split()
            bad = [n for n in names if not NAME.match(n)]
            if bad:
                return compile_error("bad parameter name %r" % bad[0], number)
            params = [{"name": n, "optional": False, "rest": False} for n in names]
            break
    return {"functions": [{"name": name, "params": params}]}


def arm_cpu_limit(cpu_ms):
    """In the child before exec (interval timers survive exec): SIGPROF, default action terminate, after cpu_ms of CPU."""
    signal.signal(signal.SIGPROF, signal.SIG_DFL)
    signal.pthread_sigmask(signal.SIG_UNBLOCK, {signal.SIGPROF})
    if isinstance(cpu_ms, int) and cpu_ms > 0:
        signal.setitimer(signal.ITIMER_PROF, cpu_ms / 1000)


class Shim:
    def __init__(self):
        self.path = None
        self.name = None

    def load(self, request):
        checked = shape(request["filename"], request["code"])
        if "compile" in checked:
            return checked
        self.name = checked["functions"][0]["name"]
        self.path = os.path.join("/tmp", "osiris-fn-" + self.name)
        with open(self.path, "w", encoding="utf-8") as f:
            f.write(request["code"])
        os.chmod(self.path, 0o700)
        return {"loaded": True}

    def call(self, request):
        if self.path is None or request["fn"] != self.name:
            return {"missing": True}
        stdin = "[" + ",".join(request["args"]) + "]"
        cpu_ms = request.get("cpuMs")
        try:
            done = subprocess.run([self.path], input=stdin, capture_output=True, text=True, cwd="/tmp",
                                  preexec_fn=lambda: arm_cpu_limit(cpu_ms))
        except OSError as error:
            return {"error": {"name": type(error).__name__, "message": str(error), "stack": ""}}
        logs = [{"level": "error", "line": line} for line in done.stderr.splitlines()[:MAX_LOG_LINES]]
        if done.returncode == -signal.SIGPROF:
            return {"cpu": True, "logs": logs}
        if done.returncode != 0:
            message = "%s exited with code %d" % (self.name, done.returncode)
            return {"error": {"name": "ExitStatus", "message": message, "stack": done.stderr.strip()}, "logs": logs}
        try:
            value = json.loads(done.stdout)
        except ValueError as error:
            return {"notJson": "stdout is not JSON (%s): %s" % (error, done.stdout[:200]), "logs": logs}
        return {"result": json.dumps(value, separators=(",", ":")), "logs": logs}

    def handle(self, request):
        op = request.get("op")
        if op == "check":
            return shape(request["filename"], request["code"])
        if op == "load":
            return self.load(request)
        if op == "call":
            return self.call(request)
        return {"fault": "unknown op %r" % (op,)}


def stop_leftovers():
    """Kills every process in the container but this one and init: nothing a call started outlives it."""
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
    writer.write(json.dumps({"hello": "exec", "token": TOKEN, "pid": os.getpid(), "version": sys.version.split()[0]}) + "\n")
    writer.flush()
    shim = Shim()
    for line in reader:
        try:
            answer = shim.handle(json.loads(line))
        except Exception as error:  # noqa: BLE001 - a shim bug must answer, not hang the host
            answer = {"fault": "%s: %s" % (type(error).__name__, error)}
        stop_leftovers()
        writer.write(json.dumps(answer, separators=(",", ":")) + "\n")
        writer.flush()


if __name__ == "__main__":
    main()
