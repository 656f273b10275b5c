"""The load driver behind `scripts/bench`: cold starts, warm sync executions and the plain-HTTP
baselines, measured through functiond's public API with one stdlib HTTP client.

Subcommands (each prints progress on stderr and appends JSON lines to --results):

  setup   create and deploy the benchmark functions (hello for Node and Python, plus one
          more of each for cold starts), wait until their deployments are ready, and check
          that each answers "hello"
  cold    N cold starts per runtime: before each timed call, change the function's variable
          (changed variables -> the warm instance no longer matches -> a new instance)
  warm    N sequential sync executions per runtime over one keep-alive connection,
          interleaved in blocks with the same requests against the plain baseline servers
  cpu     called before and after a load run: where the CPU time went in between
          (functiond, its runtime processes, the whole machine), from /proc
  processing  count a function's executions still in status "processing" (after a load run
          they should all be finished)

Every measured time is client-side wall time around one request and its full response,
from `http.client` over a persistent connection to 127.0.0.1.
"""

import argparse
import io
import json
import math
import os
import sys
import tarfile
import time
import uuid
from http.client import HTTPConnection
from urllib.parse import urlsplit

HERE = os.path.dirname(os.path.abspath(__file__))
BODY = json.dumps({"data": "bench"}).encode()
LANGUAGES = {
    # language: (runtime id prefix, source dir, entrypoint)
    "node": ("node-", os.path.join(HERE, "functions", "node"), "index.js"),
    "python": ("python-", os.path.join(HERE, "functions", "python"), "main.py"),
}
COLD_VARIABLE = "BENCH_GENERATION"


def log(message):
    print(message, file=sys.stderr, flush=True)


def percentile(values, p):
    """Nearest rank: the smallest value with at least p% of the values at or below it."""
    ordered = sorted(values)
    rank = max(1, math.ceil(p / 100 * len(ordered)))
    return ordered[rank - 1]


def record(path, **row):
    with open(path, "a", encoding="utf-8") as out:
        out.write(json.dumps(row) + "\n")


class Api:
    """One keep-alive connection to functiond, authenticated with the bootstrap key."""

    def __init__(self, endpoint, project, key):
        parts = urlsplit(endpoint)
        self.host, self.port = parts.hostname, parts.port or 80
        self.conn = HTTPConnection(self.host, self.port, timeout=60)
        self.auth = {"X-Appwrite-Project": project, "X-Appwrite-Key": key}

    def call(self, method, path, body=None, content_type="application/json"):
        headers = dict(self.auth)
        if body is not None:
            headers["Content-Type"] = content_type
            if isinstance(body, (dict, list)):
                body = json.dumps(body).encode()
        self.conn.request(method, "/v1" + path, body=body, headers=headers)
        response = self.conn.getresponse()
        data = response.read()
        if response.getheader("Connection", "").lower() == "close":
            self.conn.close()
        try:
            parsed = json.loads(data) if data else None
        except ValueError:
            parsed = data.decode("utf-8", "replace")
        return response.status, parsed

    def ok(self, method, path, body=None, content_type="application/json"):
        status, parsed = self.call(method, path, body, content_type)
        if status >= 300:
            raise SystemExit(f"{method} {path}: HTTP {status}: {parsed}")
        return parsed

    def execute_timed(self):
        """Returns a function that makes one sync execution and gives (wall s, status, body)."""

        def run(function_id):
            headers = dict(self.auth)
            headers["Content-Type"] = "application/json"
            path = f"/v1/functions/{function_id}/executions"
            started = time.perf_counter()
            self.conn.request("POST", path, body=BODY, headers=headers)
            response = self.conn.getresponse()
            data = response.read()
            wall = time.perf_counter() - started
            return wall, response.status, data

        return run


def check_execution(status, data, where):
    """The execution as JSON, or an error naming what was wrong with it."""
    try:
        execution = json.loads(data)
    except ValueError:
        return None, f"{where}: HTTP {status}, body is not JSON: {data[:200]!r}"
    if status != 201:
        return None, f"{where}: HTTP {status}: {execution}"
    if execution.get("status") != "completed" or execution.get("response") != "hello":
        return None, (
            f"{where}: status={execution.get('status')!r} statusCode={execution.get('statusCode')!r}"
            f" response={execution.get('response')!r} stderr={execution.get('stderr')!r}"
        )
    return execution, None


def archive(source_dir):
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w:gz") as tar:
        for name in sorted(os.listdir(source_dir)):
            if name == "__pycache__":
                continue
            tar.add(os.path.join(source_dir, name), arcname=name)
    return buffer.getvalue()


def multipart(fields, files):
    boundary = "bench" + uuid.uuid4().hex
    parts = []
    for name, value in fields.items():
        parts.append(
            f'--{boundary}\r\nContent-Disposition: form-data; name="{name}"\r\n\r\n{value}\r\n'.encode()
        )
    for name, (filename, content) in files.items():
        parts.append(
            (
                f'--{boundary}\r\nContent-Disposition: form-data; name="{name}"; filename="{filename}"\r\n'
                "Content-Type: application/gzip\r\n\r\n"
            ).encode()
            + content
            + b"\r\n"
        )
    parts.append(f"--{boundary}--\r\n".encode())
    return b"".join(parts), f"multipart/form-data; boundary={boundary}"


def function_ids(language):
    return f"hello-{language}", f"cold-{language}"


def deploy(api, function_id, runtime, language):
    _, source_dir, entrypoint = LANGUAGES[language]
    api.ok(
        "POST",
        "/functions",
        {"functionId": function_id, "name": function_id, "runtime": runtime, "execute": ["any"], "timeout": 15},
    )
    body, content_type = multipart(
        {"entrypoint": entrypoint, "activate": "true"}, {"code": ("code.tar.gz", archive(source_dir))}
    )
    deployment = api.ok("POST", f"/functions/{function_id}/deployments", body, content_type)
    deadline = time.monotonic() + 120
    while True:
        deployment = api.ok("GET", f"/functions/{function_id}/deployments/{deployment['$id']}")
        if deployment["status"] == "ready":
            return deployment["$id"]
        if deployment["status"] == "failed" or time.monotonic() > deadline:
            raise SystemExit(
                f"deployment of {function_id} ended {deployment['status']}: {deployment.get('buildStderr')}"
            )
        time.sleep(0.05)


def setup(args):
    api = Api(args.endpoint, args.project, args.key)
    available = [runtime["$id"] for runtime in api.ok("GET", "/functions/runtimes")["runtimes"]]
    runtimes = {}
    for language, (prefix, _, _) in LANGUAGES.items():
        found = [runtime for runtime in available if runtime.startswith(prefix)]
        if not found:
            raise SystemExit(f"no {language} runtime on this server (it offers {available})")
        runtimes[language] = found[0]
    run = api.execute_timed()
    deployments = {}
    for language, runtime in runtimes.items():
        hello, cold = function_ids(language)
        for function_id in (hello, cold):
            started = time.perf_counter()
            deployments[function_id] = deploy(api, function_id, runtime, language)
            log(f"   deployed {function_id} ({runtime}) in {time.perf_counter() - started:.2f}s")
        api.ok("POST", f"/functions/{cold}/variables", {"key": COLD_VARIABLE, "value": "0"})
        for function_id in (hello, cold):
            wall, status, data = run(function_id)
            _, problem = check_execution(status, data, f"first execution of {function_id}")
            if problem:
                raise SystemExit(problem)
            log(f"   first execution of {function_id}: {wall * 1000:.1f} ms")
    with open(args.setup_out, "w", encoding="utf-8") as out:
        json.dump({"runtimes": runtimes, "deployments": deployments}, out)


# --- instance observation (a sanity check from the OS side, not part of any figure) ---


def descendants(root):
    """PIDs of every live process below `root`, or None when /proc can't tell."""
    if not root or not os.path.isdir("/proc"):
        return None
    children = {}
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/stat", "rb") as stat:
                fields = stat.read().rsplit(b")", 1)[1].split()
        except OSError:
            continue
        if fields[0] == b"Z":
            continue
        children.setdefault(int(fields[1]), []).append(int(entry))
    found, stack = set(), [root]
    while stack:
        for child in children.get(stack.pop(), []):
            if child not in found:
                found.add(child)
                stack.append(child)
    return found


def process_ticks(pid, reaped=False):
    """CPU time (user + system, clock ticks) a live process has used, or None if it is gone.
    With `reaped`: the CPU time of its children that have exited and been waited for."""
    try:
        with open(f"/proc/{pid}/stat", "rb") as stat:
            fields = stat.read().rsplit(b")", 1)[1].split()
    except OSError:
        return None
    if reaped:
        return int(fields[13]) + int(fields[14])  # cutime, cstime (fields 16 and 17 of stat)
    return int(fields[11]) + int(fields[12])  # utime, stime (fields 14 and 15 of stat)


def machine_ticks():
    """(busy, total) clock ticks of all CPUs since boot."""
    with open("/proc/stat", encoding="ascii") as stat:
        values = [int(v) for v in stat.readline().split()[1:]]
    idle = values[3] + (values[4] if len(values) > 4 else 0)  # idle + iowait
    total = sum(values[:8])  # guest time is already inside user
    return total - idle, total


def cpu(args):
    """First call: save a CPU snapshot. Second call: record where the CPU went in between."""
    runtimes = {pid: process_ticks(pid) for pid in descendants(args.server_pid) or ()}
    busy, total = machine_ticks()
    now = {
        "at": time.monotonic(),
        "server": process_ticks(args.server_pid),
        "reaped": process_ticks(args.server_pid, reaped=True),
        "runtimes": {str(pid): ticks for pid, ticks in runtimes.items() if ticks is not None},
        "busy": busy,
        "total": total,
    }
    if not os.path.exists(args.snapshot):
        with open(args.snapshot, "w", encoding="utf-8") as out:
            json.dump(now, out)
        return
    with open(args.snapshot, encoding="utf-8") as source:
        then = json.load(source)
    os.unlink(args.snapshot)
    hz = os.sysconf("SC_CLK_TCK")
    # Live runtimes' growth, plus what runtimes that exited meanwhile used (reaped children's
    # totals, less what the snapshot had already counted for those of them that were alive).
    live = sum(ticks - then["runtimes"].get(pid, 0) for pid, ticks in now["runtimes"].items())
    gone = sum(ticks for pid, ticks in then["runtimes"].items() if pid not in now["runtimes"])
    runtime_ticks = live + (now["reaped"] - then["reaped"]) - gone
    row = {
        "kind": "cpu",
        "label": args.label,
        "seconds": now["at"] - then["at"],
        "server_s": (now["server"] - then["server"]) / hz,
        "runtimes_s": runtime_ticks / hz,
        "machine_busy_s": (now["busy"] - then["busy"]) / hz,
        "machine_total_s": (now["total"] - then["total"]) / hz,
    }
    record(args.results, **row)
    log(
        f"   CPU over {row['seconds']:.1f}s: functiond {row['server_s']:.2f}s, runtimes {row['runtimes_s']:.2f}s,"
        f" whole machine {row['machine_busy_s']:.2f}s busy of {row['machine_total_s']:.2f}s"
    )


def cold(args):
    api = Api(args.endpoint, args.project, args.key)
    run = api.execute_timed()
    runtimes = load_setup(args)["runtimes"]
    # Values never used before on this server (a rerun against the same server included), so
    # no instance started with an earlier value can match.
    run_tag = uuid.uuid4().hex[:12]
    generation = 0
    peak = 0
    for language, runtime in runtimes.items():
        _, function_id = function_ids(language)
        walls, durations, errors, fresh = [], [], [], 0
        for i in range(args.n):
            generation += 1
            change_variable(api, function_id, f"{run_tag}-{generation}")
            before = descendants(args.server_pid)
            wall, status, data = run(function_id)
            after = descendants(args.server_pid)
            if before is not None and after is not None:
                fresh += bool(after - before)
                peak = max(peak, len(after))
            execution, problem = check_execution(status, data, f"cold {language} #{i + 1}")
            if problem:
                errors.append(problem)
                continue
            walls.append(wall * 1000)
            durations.append(execution["duration"] * 1000)
        summarize_cold(args, language, runtime, walls, durations, errors, fresh)
    live = descendants(args.server_pid)
    if live is not None:
        log(
            f"   server processes: peak {peak} during cold starts, {len(live)} now "
            "(the default cap is 32 instances; a sandboxed instance is a reaper and its runtime)"
        )
        record(args.results, kind="instances", peak=peak, now=len(live))


def load_setup(args):
    with open(args.setup_in, encoding="utf-8") as source:
        return json.load(source)


_variable_ids = {}


def change_variable(api, function_id, value):
    """Give the function's one variable a new value (a new environment -> a new instance)."""
    variable_id = _variable_ids.get(function_id)
    if variable_id is None:
        variables = api.ok("GET", f"/functions/{function_id}/variables")["variables"]
        variable_id = next(v["$id"] for v in variables if v["key"] == COLD_VARIABLE)
        _variable_ids[function_id] = variable_id
    api.ok("PUT", f"/functions/{function_id}/variables/{variable_id}", {"key": COLD_VARIABLE, "value": value})


def summarize_cold(args, language, runtime, walls, durations, errors, fresh):
    for problem in errors[:5]:
        log(f"   ! {problem}")
    if not walls:
        raise SystemExit(f"cold {language}: no execution completed")
    if fresh < len(walls) + len(errors):
        log(f"   ! cold {language}: only {fresh} of the calls started a new instance: these were not all cold starts")
    row = {
        "kind": "cold",
        "language": language,
        "runtime": runtime,
        "n": len(walls),
        "errors": len(errors),
        "fresh_instances": fresh,
        "wall_p50": percentile(walls, 50),
        "wall_p99": percentile(walls, 99),
        "wall_min": min(walls),
        "duration_p50": percentile(durations, 50),
        "duration_p99": percentile(durations, 99),
        "samples_wall": [round(value, 3) for value in walls],
        "samples_duration": [round(value, 3) for value in durations],
    }
    record(args.results, **row)
    log(
        f"   cold {language}: wall p50 {row['wall_p50']:.1f} ms, p99 {row['wall_p99']:.1f} ms"
        f" (min {row['wall_min']:.1f}); server duration p50 {row['duration_p50']:.2f} ms;"
        f" {len(walls)} ok, {len(errors)} failed, new instance seen on {fresh}/{len(walls) + len(errors)}"
    )


class Plain:
    """The same request as an execution, sent to a plain baseline server."""

    def __init__(self, port):
        self.conn = HTTPConnection("127.0.0.1", port, timeout=60)
        self.headers = {"Content-Type": "application/json"}

    def run(self):
        started = time.perf_counter()
        self.conn.request("POST", "/", body=BODY, headers=self.headers)
        response = self.conn.getresponse()
        data = response.read()
        wall = time.perf_counter() - started
        if response.status != 200 or data != b"hello":
            raise SystemExit(f"plain baseline answered HTTP {response.status}: {data[:200]!r}")
        return wall


def warm(args):
    api = Api(args.endpoint, args.project, args.key)
    run = api.execute_timed()
    runtimes = load_setup(args)["runtimes"]
    ports = {"node": args.plain_node, "python": args.plain_python}
    block = 50
    for language, runtime in runtimes.items():
        function_id, _ = function_ids(language)
        plain = Plain(ports[language])
        for _ in range(args.warmup):
            run(function_id)
            plain.run()
        walls, durations, baseline, errors = [], [], [], []
        while len(walls) + len(errors) < args.n:
            for _ in range(min(block, args.n - len(walls) - len(errors))):
                wall, status, data = run(function_id)
                execution, problem = check_execution(status, data, f"warm {language}")
                if problem:
                    errors.append(problem)
                else:
                    walls.append(wall * 1000)
                    durations.append(execution["duration"] * 1000)
            for _ in range(block):
                if len(baseline) < args.n:
                    baseline.append(plain.run() * 1000)
        for problem in errors[:5]:
            log(f"   ! {problem}")
        if not walls:
            raise SystemExit(f"warm {language}: no execution completed")
        row = {
            "kind": "warm",
            "language": language,
            "runtime": runtime,
            "n": len(walls),
            "errors": len(errors),
            "wall_p50": percentile(walls, 50),
            "wall_p99": percentile(walls, 99),
            "duration_p50": percentile(durations, 50),
            "duration_p99": percentile(durations, 99),
            "plain_p50": percentile(baseline, 50),
            "plain_p99": percentile(baseline, 99),
        }
        row["overhead_p50"] = row["wall_p50"] - row["plain_p50"]
        row["overhead_p99"] = row["wall_p99"] - row["plain_p99"]
        record(args.results, **row)
        log(
            f"   warm {language}: functiond p50 {row['wall_p50']:.3f} ms, p99 {row['wall_p99']:.3f} ms"
            f" (server duration p50 {row['duration_p50']:.3f} ms); plain p50 {row['plain_p50']:.3f} ms,"
            f" p99 {row['plain_p99']:.3f} ms; overhead p50 {row['overhead_p50']:.3f} ms,"
            f" p99 {row['overhead_p99']:.3f} ms; {len(walls)} ok, {len(errors)} failed"
        )


def leftovers(args):
    """Record how many executions of a function are still `processing` (none should be once
    every client has its answer)."""
    api = Api(args.endpoint, args.project, args.key)
    query = "queries%5B%5D=" + "equal(%22status%22%2C%20%22processing%22)" + "&limit=1"
    listing = api.ok("GET", f"/functions/{args.function}/executions?{query}")
    record(args.results, kind="processing", function=args.function, count=listing["total"])
    log(f"   executions of {args.function} still processing: {listing['total']}")


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("command", choices=["setup", "cold", "warm", "cpu", "processing"])
    parser.add_argument("--endpoint", required=True, help="http://127.0.0.1:PORT")
    parser.add_argument("--project", default="default")
    parser.add_argument("--key", required=True)
    parser.add_argument("--results", required=True, help="JSON lines are appended here")
    parser.add_argument("--setup-out", help="setup: where to save the runtime and deployment ids it used")
    parser.add_argument("--setup-in", help="cold, warm: the file setup wrote")
    parser.add_argument("--server-pid", type=int, help="cold, cpu: functiond's PID, to watch its instances")
    parser.add_argument("--snapshot", help="cpu: the snapshot file (written by the first call, read by the second)")
    parser.add_argument("--label", default="", help="cpu: what the interval measured")
    parser.add_argument("--function", help="processing: the function whose executions to count")
    parser.add_argument("--plain-node", type=int, help="warm: port of bench/plain_node.js")
    parser.add_argument("--plain-python", type=int, help="warm: port of bench/plain_python.py")
    parser.add_argument("-n", type=int, default=20, help="measured calls per runtime")
    parser.add_argument("--warmup", type=int, default=20, help="warm: unmeasured calls first")
    args = parser.parse_args()
    {"setup": setup, "cold": cold, "warm": warm, "cpu": cpu, "processing": leftovers}[args.command](args)


if __name__ == "__main__":
    main()
