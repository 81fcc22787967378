"""Shared helpers for pipestack's benchmarks: start servers, drive wrk, describe the machine."""

import json
import os
import platform
import re
import shutil
import socket
import subprocess
import tempfile
import time
import urllib.request

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
BIN = os.path.join(ROOT, "target", "release", "pipestack")
TOKEN = "bench-token-0001"


def build():
    subprocess.run(["cargo", "build", "--release", "--locked", "--bin", "pipestack"], cwd=ROOT, check=True)


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def fresh_pg(url):
    """A new, empty PostgreSQL database beside the one `url` names; its URL."""
    name = f"pipestack_bench_{os.getpid()}_{time.time_ns()}"
    subprocess.run(["psql", url, "-qc", f"CREATE DATABASE {name}"], check=True)
    return url[: url.rindex("/") + 1] + name


class Server:
    """A pipestack release binary (`binary`, this tree's by default) on a fresh database file,
    or on `database` (a URL)."""

    def __init__(self, db_dir=None, args=(), database=None, binary=BIN):
        self.binary = binary
        self.args = list(args)
        self.dir = db_dir or tempfile.mkdtemp(prefix="pipestack-bench-")
        self.database = database or f"sqlite://{self.dir}/bench.db"
        self.port = free_port()
        self.base = f"http://127.0.0.1:{self.port}"
        self.proc = None

    def start(self):
        t0 = time.monotonic()
        self.proc = subprocess.Popen(
            [self.binary, "--database", self.database, "serve",
             "--listen", f"127.0.0.1:{self.port}", "--api-token", TOKEN, *self.args],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
            env={**os.environ, "PIPESTACK_LOG": "warn"},
        )
        while True:
            try:
                self.call("GET", "/v1/users/me")
                return time.monotonic() - t0
            except OSError:
                if time.monotonic() - t0 > 30:
                    raise RuntimeError("server did not start")
                time.sleep(0.002)

    def call(self, method, path, body=None):
        req = urllib.request.Request(
            self.base + path, method=method,
            data=None if body is None else json.dumps(body).encode(),
            headers={"x-api-token": TOKEN, "content-type": "application/json"},
        )
        with urllib.request.urlopen(req, timeout=30) as r:
            return json.load(r)

    def rss_mb(self):
        with open(f"/proc/{self.proc.pid}/status") as f:
            for line in f:
                if line.startswith("VmRSS:"):
                    return int(line.split()[1]) / 1024
        return 0.0

    def stop(self):
        if self.proc:
            self.proc.terminate()
            self.proc.wait(timeout=30)
        shutil.rmtree(self.dir, ignore_errors=True)


def wrk(url, connections, seconds, method="GET", body=None):
    """Runs `wrk -t1`; returns req/s, p50 and p99 in ms, and non-2xx count. A `{start}` in the
    URL is replaced by a random offset (0–899) in every request."""
    script = tempfile.NamedTemporaryFile("w", suffix=".lua", delete=False)
    lua_body = json.dumps(body) if body is not None else None
    if "{start}" in url:
        path = url[url.index("/", url.index("//") + 2):]
        script.write(f"local path = {lua_string(path)}\n")
        script.write('request = function()\n  return wrk.format(nil, (path:gsub("{start}", '
                     'tostring(math.random(0, 899)))))\nend\n')
    script.write(f'wrk.method = "{method}"\n')
    script.write(f'wrk.headers["x-api-token"] = "{TOKEN}"\n')
    script.write('wrk.headers["Content-Type"] = "application/json"\n')
    if lua_body is not None:
        script.write(f"wrk.body = {lua_string(lua_body)}\n")
    script.write(
        "done = function(summary, latency, requests)\n"
        '  io.write(string.format("P50 %f\\nP99 %f\\nNON2XX %d\\n", latency:percentile(50)/1000, '
        "latency:percentile(99)/1000, summary.errors.status))\nend\n"
    )
    script.close()
    out = subprocess.run(
        ["wrk", "-t1", f"-c{connections}", f"-d{seconds}s", "-s", script.name, url],
        capture_output=True, text=True, check=True,
    ).stdout
    os.unlink(script.name)
    rps = float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1))
    p50 = float(re.search(r"P50 ([\d.]+)", out).group(1))
    p99 = float(re.search(r"P99 ([\d.]+)", out).group(1))
    bad = int(re.search(r"NON2XX (\d+)", out).group(1))
    return {"rps": rps, "p50": p50, "p99": p99, "non2xx": bad}


NOTES_MARK = "<!-- Above: written by the script named there; below: notes kept when it runs again. -->"


def save_results(name, lines):
    """Writes `lines` as the measured part of bench/`name`, keeping the notes below
    NOTES_MARK (the analysis and earlier rounds written by hand); prints them."""
    path = os.path.join(ROOT, "bench", name)
    notes = ""
    if os.path.exists(path):
        with open(path) as f:
            text = f.read()
        if NOTES_MARK in text:
            notes = text[text.index(NOTES_MARK) + len(NOTES_MARK):]
    with open(path, "w") as f:
        f.write("\n".join(lines) + "\n\n" + NOTES_MARK + notes)
    print("\n".join(lines))
    print(f"wrote {path}")


def lua_string(s):
    return "[==[" + s + "]==]"


def machine():
    cpu = "unknown"
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("model name"):
                    cpu = line.split(":", 1)[1].strip()
                    break
    except OSError:
        pass
    mem = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / 2**30
    wrk_version = subprocess.run(["wrk", "-v"], capture_output=True, text=True).stdout.splitlines()[0:1]
    return (f"{os.cpu_count()} cores ({cpu}), {mem:.0f} GiB RAM, {platform.system()} {platform.release()}, "
            f"{' '.join(wrk_version)}; load generator and server share the cores")
