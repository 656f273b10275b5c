"""Prints the summary table of a `scripts/bench` run from the JSON lines its steps appended.

Usage: python3 bench/report.py RESULTS_FILE
"""

import json
import os
import platform
import sys
import time


def machine():
    model = platform.processor() or platform.machine()
    try:
        with open("/proc/cpuinfo", encoding="utf-8") as cpuinfo:
            for line in cpuinfo:
                if line.startswith("model name"):
                    model = line.split(":", 1)[1].strip()
                    break
    except OSError:
        pass
    return f"{os.cpu_count()} cores, {model}"


def ms(value):
    if value is None:
        return "-"
    return f"{value:.2f}" if value < 100 else f"{value:.0f}"


def main():
    rows = []
    with open(sys.argv[1], encoding="utf-8") as source:
        for line in source:
            if line.strip():
                rows.append(json.loads(line))
    table = []  # (figure, p50, p99, notes)

    def add(figure, p50=None, p99=None, notes=""):
        table.append((figure, ms(p50), ms(p99), notes))

    for row in rows:
        kind = row["kind"]
        if kind == "rss":
            add(f"RSS, {row['when']}", notes=f"{row['mib']} MiB")
        elif kind == "get":
            add(
                "GET /v1/functions/{id}, 50 clients",
                row["p50"],
                row["p99"],
                f"{row['rps']:,.0f} req/s, non-2xx {row['non2xx']}, socket errors {row['socket_errors']}",
            )
        elif kind == "cold":
            calls = row["n"] + row["errors"]
            ok = f"{row['n']} ok, {row['errors']} failed, new instance on {row['fresh_instances']}/{calls}"
            if row["fresh_instances"] < calls:
                ok += " (NOT ALL COLD)"
            add(f"cold start {row['runtime']}: wall", row["wall_p50"], row["wall_p99"], ok)
            add(f"cold start {row['runtime']}: server duration", row["duration_p50"], row["duration_p99"])
        elif kind == "instances":
            add("runtime processes after cold starts", notes=f"peak {row['peak']}, now {row['now']} (cap: 32 instances, 2 processes each when sandboxed)")
        elif kind == "warm":
            add(
                f"warm {row['runtime']}: functiond wall",
                row["wall_p50"],
                row["wall_p99"],
                f"{row['n']} ok, {row['errors']} failed",
            )
            add(f"warm {row['runtime']}: server duration", row["duration_p50"], row["duration_p99"])
            add(f"warm {row['runtime']}: plain server wall", row["plain_p50"], row["plain_p99"])
            add(f"warm {row['runtime']}: overhead", row["overhead_p50"], row["overhead_p99"], "functiond - plain")
        elif kind == "throughput":
            notes = (
                f"{row['completed_per_s']:,.0f} completed/s; {row['completed']} completed,"
                f" {row['not_completed']} not completed, {row['non201']} not 201,"
                f" {row['socket_errors']} socket errors"
            )
            add(f"sync executions {row.get('label', '')}, 50 clients".replace("  ", " "), row["p50"], row["p99"], notes)
        elif kind == "processing":
            add(
                f"{row['function']} executions left processing",
                notes=f"{row['count']} (1 s after the load; should be 0)",
            )
        elif kind == "instances_after_load":
            add("hello-node instances after the load", notes=f"{row['count']} (at most 4 per deployment)")
        elif kind == "cpu":
            completed = next((r["completed"] for r in reversed(rows) if r["kind"] == "throughput"), 0)
            per = ""
            if completed:
                per = (
                    f" = {row['server_s'] / completed * 1e6:.0f} + {row['runtimes_s'] / completed * 1e6:.0f} µs"
                    " per execution"
                )
            add(
                f"CPU during the {row['label']} run",
                notes=f"functiond {row['server_s']:.1f}s + runtimes {row['runtimes_s']:.1f}s{per};"
                f" machine busy {row['machine_busy_s']:.1f}s of {row['machine_total_s']:.1f}s",
            )
        elif kind == "plain_throughput":
            add(
                f"plain {row['label']} server, 50 clients",
                row["p50"],
                row["p99"],
                f"{row['rps']:,.0f} req/s, non-2xx {row['non2xx']} (the same machine's ceiling for plain HTTP)",
            )

    width = max(len(figure) for figure, *_ in table)
    load = next((row["loadavg"] for row in rows if row["kind"] == "load"), "?")
    print(
        f"== summary: {time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())}, {machine()},"
        f" load average at the start {load}"
    )
    print(f"{'figure':<{width}}  {'p50 ms':>8}  {'p99 ms':>8}  notes")
    for figure, p50, p99, notes in table:
        print(f"{figure:<{width}}  {p50:>8}  {p99:>8}  {notes}".rstrip())


if __name__ == "__main__":
    main()
