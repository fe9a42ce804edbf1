#!/usr/bin/env python3
"""side-by-side-report.py: medians, ratios and targets from side-by-side.sh's rows.

  side-by-side-report.py ROWS.tsv MACHINE.txt OUT.md CHART_PREFIX DURATION CONNS

ROWS.tsv columns (one line per measured run): round, workload, system, req/s,
ops/s, p50 ms, p99 ms, p99.9 ms, ok, rejected, other, check, cpu
client/server/other s, bookings/s, unanswered. Writes the markdown table to
OUT.md and two gnuplot data files, CHART_PREFIX (req/s) and CHART_PREFIX.p99
(p99 ms): one line per workload, one column per system ('-' = not run).
"""
import statistics
import sys

rows_path, machine_path, out_md, chart, duration, conns = sys.argv[1:7]
SYSTEMS = ["holdfast", "ceiling", "redis", "redis_everysec", "pgbench", "django"]
LABEL = {
    "holdfast": "holdfast (fsync always)",
    "ceiling": "empty handler, libmicrohttpd (ceiling)",
    "redis": "Redis + Lua, appendfsync always",
    "redis_everysec": "Redis + Lua, appendfsync everysec",
    "pgbench": "PostgreSQL UPDATE (pgbench)",
    "django": "Django + PostgreSQL",
}
WORKLOADS = ["hot", "scarce", "seats", "spread", "mixed", "batch"]
WHAT = {
    "hot": "every request buys 1 unit of one item",
    "scarce": "1,000 units, far more buyers: exactly 1,000 successes",
    "seats": "hold 2-4 random seats of a 10,000-seat event, then confirm (Django: book)",
    "spread": "1 unit of a random item of 10,000",
    "mixed": "hold, then confirm / release / let expire (test clock)",
    "batch": "POST /batch of 100 buy-now operations",
}


def num(s):
    try:
        return float(s)
    except ValueError:
        return None


runs = {}
for line in open(rows_path):
    f = line.rstrip("\n").split("\t")
    if len(f) < 15:
        continue
    key = (f[1], f[2])
    runs.setdefault(key, []).append({
        "round": f[0], "rps": num(f[3]), "ops": num(f[4]), "p50": num(f[5]), "p99": num(f[6]),
        "p999": num(f[7]), "ok": f[8], "rej": f[9], "other": f[10], "check": f[11],
        "cpu": f[12], "book": num(f[13]), "unanswered": f[14]})


def med(key, field):
    vals = [r[field] for r in runs.get(key, []) if r[field] is not None]
    return statistics.median(vals) if vals else None


def fmt(v, digits=0):
    if v is None:
        return "-"
    if digits == 0:
        return f"{v:,.0f}"
    return f"{v:.{digits}f}"


out = []
out.append(f"Medians of {max((len(v) for v in runs.values()), default=0)} runs per row "
           f"({duration} s each, {conns} connections, one request outstanding per connection). "
           "\"holdfast ÷\" is holdfast's median over the row's median (req/s; bookings/s for seats, "
           "ops/s for batch).\n")
out.append("| workload | system | req/s | p50 ms | p99 ms | p99.9 ms | req/s of each run | holdfast ÷ | checks (each run) | CPU s client/servers/other (last run) |")
out.append("|---|---|---:|---:|---:|---:|---|---:|---|---|")
for w in WORKLOADS:
    hf = med((w, "holdfast"), "ops" if w == "batch" else "rps")
    for s in SYSTEMS:
        key = (w, s)
        if key not in runs:
            continue
        rs = runs[key]
        field = "ops" if w == "batch" else "rps"
        m = med(key, field)
        ratio = "" if s == "holdfast" or not m or not hf else f"{hf / m:,.1f}x"
        if w == "seats" and s != "holdfast" and med(key, "book") and med((w, "holdfast"), "book"):
            # holdfast needs two requests per booking (hold, confirm), the peer one
            ratio = f"{med((w, 'holdfast'), 'book') / med(key, 'book'):,.1f}x (bookings)"
        each = " / ".join(fmt(r[field]) for r in rs)
        cpu = rs[-1]["cpu"] if rs[-1]["cpu"] != "//" else "-"
        checks = "; ".join(sorted(set(r["check"] for r in rs)))
        rate = fmt(m)
        if w == "seats":
            b = med(key, "book")
            rate += f" ({fmt(b)} bookings/s)" if b else ""
        if w == "batch" and m:
            rate += " ops/s"
        out.append(f"| {w} | {LABEL[s]} | {rate} | {fmt(med(key, 'p50'), 2)} | {fmt(med(key, 'p99'), 2)} | "
                   f"{fmt(med(key, 'p999'), 2)} | {each} | {ratio} | {checks} | {cpu} |")

# targets (issue 5, item 3)
def r(w, s, field="rps"):
    return med((w, s), field)


hot = r("hot", "holdfast")
tg = []


def target(name, value, goal, ok):
    tg.append(f"| {name} | {value} | {goal} | {'met' if ok else 'MISSED'} |")


if hot:
    target("hot req/s", fmt(hot), ">= 50,000", hot >= 50000)
    for s, goal in (("django", 70), ("redis", 1.0), ("ceiling", 0.8)):
        m = r("hot", s)
        if m:
            target(f"hot vs {LABEL[s]}", f"{hot / m:,.2f}x", f">= {goal}x", hot / m >= goal)
    p99 = r("hot", "holdfast", "p99")
    target("hot p99 at 64 connections", f"{fmt(p99, 2)} ms", "<= 10 ms", p99 is not None and p99 <= 10)
sc = runs.get(("scarce", "holdfast"), [])
if sc:
    every = all(c["check"].startswith("PASS") and "successes 1000" in c["check"] for c in sc)
    target("scarce: exactly 1,000 successes every run", ", ".join(c["check"].split("successes ")[-1] for c in sc),
           "1000 each run", every)
b = r("batch", "holdfast", "ops")
if b and r("hot", "redis"):
    target("batch of 100 ops/s vs Redis + Lua (always)", f"{b / r('hot', 'redis'):,.1f}x", ">= 10x",
           b / r("hot", "redis") >= 10)
elif ("batch", "holdfast") in runs:
    tg.append("| batch of 100 vs Redis + Lua | - | >= 10x | not measured: the server has no POST /batch yet |")
if tg:
    out.append("\nTargets (issue 5; 2-core machine, client on the same machine, fsync on):\n")
    out.append("| target | measured (median) | goal | |")
    out.append("|---|---:|---|---|")
    out.extend(tg)
out.append("\nMachine and conditions:\n")
out.append("```")
out.extend(l.rstrip("\n") for l in open(machine_path))
out.append("```")
open(out_md, "w").write("\n".join(out) + "\n")

# chart data: one line per workload, one column per system
present = [s for s in SYSTEMS if any((w, s) in runs for w in WORKLOADS)]
for path, field in ((chart, "rps"), (chart + ".p99", "p99")):
    with open(path, "w") as f:
        f.write("workload " + " ".join(f'"{LABEL[s]}"' for s in present) + "\n")
        for w in WORKLOADS:
            if not any((w, s) in runs for s in present) or w == "batch":
                continue
            vals = []
            for s in present:
                v = med((w, s), field)
                vals.append("-" if v is None or v <= 0 else f"{v:.3f}")
            f.write(w + " " + " ".join(vals) + "\n")
with open(chart + ".cols", "w") as f:
    f.write(str(len(present)) + "\n")
