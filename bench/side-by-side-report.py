#!/usr/bin/env python3
"""side-by-side-report.py: medians, ratios and targets from side-by-side.sh's rows.

  side-by-side-report.py ROWS.tsv MACHINE.txt OUT.md CHART_PREFIX DURATION CONNS

ROWS.tsv columns (one line per measured run): round, workload, system, req/s,
ops/s, p50 ms, p99 ms, p99.9 ms, ok, rejected, other, check, cpu
client/server/other s, bookings/s, unanswered; then, in rows written since
IDLE and PROFILE exist (empty when not measured): KiB of server memory per
idle connection, idle connections "open at the end/opened/asked", and the
server's system calls, context switches and CPU microseconds per request
(perf). Writes the markdown table to
OUT.md and two gnuplot data files, CHART_PREFIX (req/s) and CHART_PREFIX.p99
(p99 ms): one line per workload, one column per system ('-' = not run).
"""
import statistics
import sys

rows_path, machine_path, out_md, chart, duration, conns = sys.argv[1:7]
SYSTEMS = ["holdfast", "holdfast_idle", "ceiling", "redis", "redis_everysec", "pgbench", "django"]
LABEL = {
    "holdfast": "holdfast (fsync always)",
    "holdfast_idle": "holdfast, idle connections open",
    "ceiling": "empty handler, same HTTP stack (ceiling)",
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
        "cpu": f[12], "book": num(f[13]), "unanswered": f[14],
        "idle_kib": num(f[15]) if len(f) > 15 else None, "idle": f[16] if len(f) > 16 else "",
        "sys": num(f[17]) if len(f) > 17 else None, "cs": num(f[18]) if len(f) > 18 else None,
        "cpu_us": num(f[19]) if len(f) > 19 else None})
IDLE_N = next((r["idle"].split("/")[2] for rs in runs.values() for r in rs if r["idle"].count("/") == 2), None)
if IDLE_N:
    LABEL["holdfast_idle"] = f"holdfast, {int(IDLE_N):,} idle connections open"
PROFILED = any(r["cpu_us"] is not None for rs in runs.values() for r in rs)


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
prof_head = " syscalls/req | ctx switches/req | server CPU µs/req |" if PROFILED else ""
out.append("| workload | system | req/s | p50 ms | p99 ms | p99.9 ms | req/s of each run | holdfast ÷ | checks (each run) | CPU s client/servers/other (last run) |" + prof_head)
out.append("|---|---|---:|---:|---:|---:|---|---:|---|---|" + ("---:|---:|---:|" if PROFILED else ""))
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
        if s == "holdfast_idle" and m and hf:
            ratio = f"{hf / m:,.2f}x"
        prof = (f" {fmt(med(key, 'sys'), 1)} | {fmt(med(key, 'cs'), 2)} | {fmt(med(key, 'cpu_us'), 1)} |"
                if PROFILED else "")
        out.append(f"| {w} | {LABEL[s]} | {rate} | {fmt(med(key, 'p50'), 2)} | {fmt(med(key, 'p99'), 2)} | "
                   f"{fmt(med(key, 'p999'), 2)} | {each} | {ratio} | {checks} | {cpu} |" + prof)

# idle connections: hot with and without them, the memory each costs the server
idle_runs = runs.get(("hot", "holdfast_idle"), [])
if idle_runs:
    without, with_ = med(("hot", "holdfast"), "rps"), med(("hot", "holdfast_idle"), "rps")
    out.append(f"\nIdle keep-alive connections (hot, {int(IDLE_N or 0):,} connections opened before the run, each "
               "answered once, then silent and open through it; medians):\n")
    out.append("| hot req/s without | with | with ÷ without | p99 ms without | with | server KiB per idle connection | "
               "open at the end / opened / asked (each run) |")
    out.append("|---:|---:|---:|---:|---:|---:|---|")
    out.append(f"| {fmt(without)} | {fmt(with_)} | {fmt(with_ / without, 2) + 'x' if with_ and without else '-'} | "
               f"{fmt(med(('hot', 'holdfast'), 'p99'), 2)} | {fmt(med(('hot', 'holdfast_idle'), 'p99'), 2)} | "
               f"{fmt(med(('hot', 'holdfast_idle'), 'idle_kib'), 1)} | {'; '.join(r['idle'] for r in idle_runs)} |")

# targets (issue 10)
def r(w, s, field="rps"):
    return med((w, s), field)


hot = r("hot", "holdfast")
tg = []


def target(name, value, goal, ok):
    tg.append(f"| {name} | {value} | {goal} | {'met' if ok else 'MISSED'} |")


if hot:
    for s, goal in (("redis", 1.5), ("django", 70), ("ceiling", 0.8)):
        m = r("hot", s)
        if m:
            target(f"hot vs {LABEL[s]}", f"{hot / m:,.2f}x", f">= {goal}x", hot / m >= goal)
    p99 = r("hot", "holdfast", "p99")
    target("hot p99 at 64 connections", f"{fmt(p99, 2)} ms", "<= 5 ms", p99 is not None and p99 <= 5)
sc_hf, sc_redis = r("scarce", "holdfast"), r("scarce", "redis")
if sc_hf and sc_redis:
    target(f"scarce vs {LABEL['redis']}", f"{sc_hf / sc_redis:,.2f}x", ">= 1.0x", sc_hf / sc_redis >= 1.0)
sc = runs.get(("scarce", "holdfast"), [])
if sc:
    every = all(c["check"].startswith("PASS") and "successes 1000" in c["check"] for c in sc)
    target("scarce: exactly 1,000 successes every run", ", ".join(c["check"].split("successes ")[-1] for c in sc),
           "1000 each run", every)
idle_with = r("hot", "holdfast_idle")
if hot and idle_with:
    target(f"hot with {int(IDLE_N or 0):,} idle connections open, vs without", f"{idle_with / hot:,.2f}x", ">= 0.9x",
           idle_with / hot >= 0.9)
    kib = r("hot", "holdfast_idle", "idle_kib")
    target("server memory per idle connection", f"{fmt(kib, 1)} KiB", "<= 16 KiB", kib is not None and kib <= 16)
    closed = [r_["idle"] for r_ in runs[("hot", "holdfast_idle")] if r_["idle"].split("/")[0] != r_["idle"].split("/")[-1]]
    target("idle connections all open at the end", "; ".join(closed) if closed else "all, every run",
           "all", not closed)
b = r("batch", "holdfast", "ops")
if b and r("hot", "redis"):
    target("batch of 100 ops/s vs Redis + Lua (always)", f"{b / r('hot', 'redis'):,.1f}x", ">= 10x",
           b / r("hot", "redis") >= 10)
elif ("batch", "holdfast") in runs:
    tg.append("| batch of 100 vs Redis + Lua | - | >= 10x | not measured: the server has no POST /batch yet |")
if tg:
    out.append("\nTargets (issue 10; 2-core machine, client on the same machine, fsync on):\n")
    out.append("| target | measured (median) | goal | |")
    out.append("|---|---:|---|---|")
    out.extend(tg)
out.append("\nMachine and conditions:\n")
out.append("```")
out.extend(l.rstrip("\n") for l in open(machine_path))
out.append("```")
open(out_md, "w").write("\n".join(out) + "\n")

# chart data: one line per workload, one column per system
# (holdfast_idle stays out: the idle table compares it with holdfast)
present = [s for s in SYSTEMS if s != "holdfast_idle" and any((w, s) in runs for w in WORKLOADS)]
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
