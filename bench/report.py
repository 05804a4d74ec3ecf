"""bench/run's report: the markdown table (recipes.md), every measurement (recipes.json) and
PNG charts, from the results dict bench/run collects."""

import json
import statistics

LABEL = {
    "wsgihost": "wsgihost",
    "wsgihost-before": "wsgihost before",
    "wsgihost-loop": "wsgihost --threads 0",
    "wsgihost-pip": "wsgihost (pip, in python3)",
    "gunicorn-sync": "gunicorn sync (Debian 20.1)",
    "gunicorn-gthread": "gunicorn gthread (Debian 20.1)",
    "uwsgi": "uWSGI (Debian)",
    "gunicorn27-sync": "gunicorn 27 sync",
    "gunicorn27-gthread": "gunicorn 27 gthread",
    "granian": "Granian 2.8.7",
    "uwsgi-pypi": "uWSGI 2.0.31",
    "bjoern": "bjoern 3.2.2",
    "waitress": "waitress 3.0.2",
    "nginx": "nginx",
    "ceiling": "in-process ceiling",
    "ceiling-so": "ceiling on libpython.so",
    "ceiling-static": "ceiling on libpython.a",
}
ORDER = list(LABEL)
EP_LABEL = {
    "plain": "plain view",
    "list": "list page (PostgreSQL, template)",
    "api": "JSON API (PostgreSQL)",
    "static-2k": "2 KB static file",
    "static-1m": "1 MiB static file",
}
EP_ORDER = list(EP_LABEL)
VARIANT_LABEL = {"ka32": "keep-alive, 32 connections", "close32": "Connection: close, 32 connections",
                 "ka1": "keep-alive, 1 connection"}
# the issue's figures for orientation (req/s; keep-alive, 32 connections)
ISSUE = {
    ("plain", "gunicorn-sync"): 3300, ("plain", "gunicorn-gthread"): 3400, ("plain", "uwsgi"): 4300,
    ("plain", "ceiling"): 9500, ("list", "gunicorn-sync"): 280, ("list", "gunicorn-gthread"): 320,
    ("list", "ceiling"): 330, ("api", "gunicorn-sync"): 1060, ("api", "gunicorn-gthread"): 1230,
    ("api", "ceiling"): 1420, ("static-2k", "gunicorn-sync"): 3600, ("static-2k", "uwsgi"): 19400,
    ("static-2k", "nginx"): 62000,
}


def med(values):
    values = [v for v in values if v is not None]
    return statistics.median(values) if values else None


def medians(cells, phase):
    """{(server, endpoint, variant): {"rps", "p50", "p99", "n", "runs"}}"""
    groups = {}
    for c in cells:
        if c["phase"] == phase:
            groups.setdefault((c["server"], c["endpoint"], c["variant"]), []).append(c)
    return {k: {"rps": med(c["rps"] for c in v), "p50": med(c.get("p50") for c in v),
                "p99": med(c.get("p99") for c in v), "cpu_us": med(c.get("cpu_us") for c in v),
                "sys_share": med(c.get("sys_share") for c in v),
                "cs_per_req": med(c.get("cs_per_req") for c in v),
                "client_cpu": med(c.get("client_cpu") for c in v),
                "n": len(v), "runs": [c["rps"] for c in v]}
            for k, v in groups.items()}


def fmt_rps(x):
    return "–" if x is None else "{:,.0f}".format(x)


def ratio(a, b):
    return a / b if a is not None and b else None


def pct(x):
    return "–" if x is None else "%.0f%%" % (100 * x)


def times(x):
    return "–" if x is None else "%.2fx" % x


# A smoke run (a second per cell, no warm-up) checks that every path works; its figures are
# noise, so its report judges no target (a green run must not read "missed").
JUDGE = True


def verdict(ok):
    if not JUDGE:
        return "not judged (smoke run)"
    return "–" if ok is None else ("**met**" if ok else "**missed**")


def overload_section(cells, setup):
    """The overload phase: one row per server configuration and load, medians over rounds."""
    if not cells:
        return []
    L = ["## Overload: open loop around the sustainable rate", "",
         "Each server (configuration) first gets its sustainable rate measured (wrk, keep-alive, "
         "32 connections), then an open-loop Poisson stream at a multiple of it "
         "(bench/openloop.c, latency from the scheduled time, up to %s connections). *Served* "
         "are the 2xx answers; *shed* the others (wsgihost's `--queue-timeout` 503s); *lost* "
         "are requests sent and never answered, failed connections, and requests still waiting "
         "for a connection 5 s after the end. *From sent*: the served requests' p99 counted from "
         "the request's last byte written, what the server alone controls (no wait for a "
         "connection). Medians over %s round(s)."
         % (setup.get("overload_conns", "?"), setup.get("overload_rounds", "?")), "",
         "| page | server | load | sustainable (req/s) | offered (req/s) | served (req/s) | "
         "served p50 / p99 (ms) | from sent p99 (ms) | shed | shed p50 / p99 (ms) | lost |",
         "|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|"]
    keys = []
    for c in cells:
        k = (c["endpoint"], c["config"], c["load"])
        if k not in keys:
            keys.append(k)
    for ep, config, load in sorted(keys, key=lambda k: (EP_ORDER.index(k[0]), keys.index(k))):
        mine = [c for c in cells
                if c["endpoint"] == ep and c["config"] == config and c["load"] == load]

        def m(f):
            vals = [f(c) for c in mine if f(c) is not None]
            return med(vals) if vals else None
        served = m(lambda c: c["served_rps"])
        lost = m(lambda c: sum(c["errors"].values()))
        shed_p50 = m(lambda c: c["shed_p50"] if c.get("shed_p50", -1) >= 0 else None)
        shed_p99 = m(lambda c: c["shed_p99"] if c["shed_p99"] >= 0 else None)
        sent_p99 = m(lambda c: c.get("served_sent_p99"))  # not in runs before it was recorded
        L.append("| %s | %s | %gx | %s | %s | %s | %.1f / %.1f | %s | %s | %s | %.0f |"
                 % (EP_LABEL[ep], config, load, fmt_rps(m(lambda c: c["sustainable"])),
                    fmt_rps(m(lambda c: c["target_rate"])), fmt_rps(served),
                    m(lambda c: c["served_p50"]), m(lambda c: c["p99"]),
                    "%.1f" % sent_p99 if sent_p99 is not None else "–",
                    pct(m(lambda c: c["shed_share"])),
                    "%s / %.1f" % ("%.1f" % shed_p50 if shed_p50 is not None else "–", shed_p99)
                    if shed_p99 is not None else "–", lost))
    return L + [""]


def write(results, out_dir, charts=True):
    global JUDGE
    JUDGE = not results.get("setup", {}).get("smoke")
    cells = results["cells"]
    tp = medians(cells, "throughput")
    lat = medians(cells, "latency")
    slow = medians(cells, "slow")
    setup = results.get("setup", {})
    servers_seen = [s for s in ORDER if any(k[0] == s for k in tp)]
    eps = [e for e in EP_ORDER if any(k[1] == e for k in tp)]
    problems = []
    for c in cells:
        if c["phase"] in ("throughput", "latency") and c.get("non2xx"):
            problems.append("%s %s %s %s: %d non-2xx answers"
                            % (c["phase"], c["server"], c["endpoint"], c["variant"], c["non2xx"]))
    # A cell with no answer at all can happen on an overloaded machine (1 s of 1 connection);
    # a server that answered nothing in any cell is broken.
    for name in sorted({c["server"] for c in cells}):
        mine = [c for c in cells if c["server"] == name and c["phase"] in ("throughput", "latency")]
        if mine and not any(c.get("requests") for c in mine):
            problems.append("%s answered no request in any run" % name)

    def rps(server, ep, variant="ka32"):
        return (tp.get((server, ep, variant)) or {}).get("rps")

    L = []
    smoke = setup.get("smoke")
    L += ["# wsgihost against gunicorn, uWSGI, nginx and the in-process ceiling: the recipes app", ""]
    if smoke:
        L += ["**Smoke run** (`bench/run --smoke`): 1 s runs, one round. It checks the harness works; "
              "its figures are not measurements.", ""]
    vulns = results.get("vulnerabilities") or {}
    if vulns:
        L += ["Kernel: %s. CPU vulnerability mitigations (`/sys/devices/system/cpu/vulnerabilities/*`; "
              "they set what a syscall and a context switch cost):" % results.get(
                  "versions", {}).get("machine", "?").split("Linux ")[-1], ""]
        L += ["- `%s`: %s" % (k, v) for k, v in vulns.items()] + [""]
    states = results.get("machine_states", [])
    noisy = [s for s in states if s["load1"] >= 0.3 or s["busy"] >= 0.05]
    if noisy and not smoke:
        L += ["**Taken under load:** before %d of %d rounds the machine was not quiet (1-min load "
              "average up to %.2f, CPUs up to %.0f%% busy from other work): ratios measured within a "
              "round are more trustworthy than the absolute figures."
              % (len(noisy), len(states), max(s["load1"] for s in noisy),
                 100 * max(s["busy"] for s in noisy)), ""]
    if results.get("waited_min"):
        L += ["(The run waited %.0f min in all for a quiet machine.)" % results["waited_min"], ""]
    if results.get("incomplete"):
        L += ["**Incomplete:** %s." % results["incomplete"], ""]
    L += ["Run %s to %s by `bench/run` (%.0f s). Medians over %s interleaved rounds; ratios are to "
          "gunicorn sync (the baseline) unless said otherwise. Method and commands at the end."
          % (setup.get("started", "?"), results.get("finished", "?"), results.get("elapsed_s", 0),
             setup.get("rounds", "?")), ""]

    # --- main table
    L += ["## Throughput (requests/s; keep-alive, 32 connections, one worker on one core)", "",
          "| endpoint | " + " | ".join(LABEL[s] for s in servers_seen) + " |",
          "|---|" + "---:|" * len(servers_seen)]
    bound = False
    for ep in eps:
        base = rps("gunicorn-sync", ep)
        row = []
        for s in servers_seen:
            v = rps(s, ep)
            r = ratio(v, base)
            cpu = (tp.get((s, ep, "ka32")) or {}).get("client_cpu")
            mark = " †" if cpu is not None and cpu >= 0.9 else ""
            bound = bound or bool(mark)
            row.append(fmt_rps(v) + (" (%.2fx)" % r if r is not None and s != "gunicorn-sync" else "") + mark)
        L.append("| %s | %s |" % (EP_LABEL[ep], " | ".join(row)))
    if bound:
        L += ["", "† wrk used ≥ 90% of its core: the load generator, not the server, set that figure "
              "(compare CPU time per request below)."]
    L += ["", "CPU time per request (µs; all the server's processes and threads, from "
          "`/proc/*/task/*/schedstat`; the ceiling's from `time.process_time()`), the same runs. It "
          "depends much less than requests/s on what else the machine runs; on one core, "
          "`ceiling µs / server µs` is the share of the core the server leaves to the app. In "
          "parentheses: the kernel's share of it (system time, /proc/*/task/*/stat):", "",
          "| endpoint | " + " | ".join(LABEL[s] for s in servers_seen) + " |",
          "|---|" + "---:|" * len(servers_seen)]
    for ep in eps:
        row = []
        for s in servers_seen:
            m = tp.get((s, ep, "ka32")) or {}
            v, sys_share = m.get("cpu_us"), m.get("sys_share")
            row.append(fmt_rps(v) + (" (%.0f%% sys)" % (100 * sys_share) if sys_share is not None else ""))
        L.append("| %s | %s |" % (EP_LABEL[ep], " | ".join(row)))
    for title, key, fmt in (("Context switches per request (every thread of the server's "
                             "processes, voluntary and involuntary, from `/proc/*/task/*/status`), "
                             "the same runs:", "cs_per_req", "%.2f"),
                            ("p99 latency (ms, wrk; closed loop, so read it with the rates above), "
                             "the same runs:", "p99", "%.2f")):
        L += ["", title, "", "| endpoint | " + " | ".join(LABEL[s] for s in servers_seen) + " |",
              "|---|" + "---:|" * len(servers_seen)]
        for ep in eps:
            row = []
            for s in servers_seen:
                v = (tp.get((s, ep, "ka32")) or {}).get(key)
                row.append(fmt % v if v is not None else "–")
            L.append("| %s | %s |" % (EP_LABEL[ep], " | ".join(row)))
    L += ["", "The issue's figures for the same cells, for orientation: "
          + "; ".join("%s %s %s" % (EP_LABEL[e].split(" (")[0], LABEL[s], fmt_rps(v))
                      for (e, s), v in ISSUE.items()) + ".", ""]

    # --- targets
    L += ["## Targets", "", "| target | measured | |", "|---|---|---|"]
    for ep in ("plain", "list", "api"):
        # The targets are against /usr/bin/python3's ceiling. wsgihost embeds Debian's
        # libpython3.X.a, built without the LTO /usr/bin/python3 has: the ceiling on that
        # archive (when measured) tells the server's own overhead from the interpreter's.
        for ceil, what in (("ceiling", "the in-process ceiling"),
                           ("ceiling-static", "the ceiling on the interpreter it embeds")):
            w, c = rps("wsgihost", ep), rps(ceil, ep)
            r = ratio(w, c)
            if r is not None:
                L.append("| %s: wsgihost ≥ 90%% of %s | %s (%s of %s) | %s |"
                         % (EP_LABEL[ep], what, pct(r), fmt_rps(w), fmt_rps(c), verdict(r >= 0.9)))
            wc = (tp.get(("wsgihost", ep, "ka32")) or {}).get("cpu_us")
            cc = (tp.get((ceil, ep, "ka32")) or {}).get("cpu_us")
            if wc and cc:
                L.append("| %s, in CPU time: %s's µs / wsgihost's µs per request ≥ 90%% | %s (%.0f / %.0f µs: "
                         "%+.0f µs of server overhead) | %s |"
                         % (EP_LABEL[ep], LABEL[ceil], pct(cc / wc), cc, wc, wc - cc,
                            verdict(cc / wc >= 0.9)))
    for ep in eps:
        w, g = rps("wsgihost", ep), rps("gunicorn-gthread", ep)
        r = ratio(w, g)
        if r is not None:
            L.append("| %s: wsgihost never below gunicorn gthread | %s | %s |"
                     % (EP_LABEL[ep], times(r), verdict(r >= 1.0)))
    r = ratio(rps("wsgihost", "plain"), rps("gunicorn-sync", "plain"))
    if r is not None:
        L.append("| plain view: about 2.6x gunicorn sync | %s | %s |" % (times(r), verdict(r >= 2.6)))
    sw, nw = (slow.get(("wsgihost", "plain", "ka32+slow")) or {}).get("rps"), rps("wsgihost", "plain")
    r = ratio(sw, nw)
    if r is not None:
        L.append("| slow clients: wsgihost keeps ≥ 80%% of its plain-view throughput | %s | %s |"
                 % (pct(r), verdict(r >= 0.8)))
    r = ratio(rps("wsgihost", "static-2k"), rps("gunicorn-sync", "static-2k"))
    if r is not None:
        L.append("| small static file: ≥ 10x gunicorn + whitenoise | %s | %s |" % (times(r), verdict(r >= 10)))
    r = ratio(rps("wsgihost", "static-2k"), rps("nginx", "static-2k"))
    if r is not None:
        L.append("| small static file: ≥ 70%% of nginx | %s | %s |" % (pct(r), verdict(r >= 0.7)))
    r = ratio(rps("wsgihost", "static-1m"), rps("nginx", "static-1m"))
    if r is not None:
        L.append("| 1 MiB static file: ≥ 90%% of nginx | %s | %s |" % (pct(r), verdict(r >= 0.9)))

    def cpu(server, ep):
        return (tp.get((server, ep, "ka32")) or {}).get("cpu_us")

    for ep, other, want, what in (("static-2k", "gunicorn-sync", 10.0, "gunicorn + whitenoise's CPU µs / wsgihost's ≥ 10x"),
                                  ("static-2k", "nginx", 0.7, "nginx's CPU µs / wsgihost's ≥ 70%"),
                                  ("static-1m", "nginx", 0.9, "nginx's CPU µs / wsgihost's ≥ 90%")):
        a, b = cpu(other, ep), cpu("wsgihost", ep)
        if a and b:
            L.append("| %s, in CPU time: %s | %s (%.0f / %.0f µs) | %s |"
                     % (EP_LABEL[ep], what, times(a / b) if want >= 1 else pct(a / b), a, b,
                        verdict(a / b >= want)))
    srv = results.get("servers", [])

    def srv_med(name, key):
        return med(e.get(key) for e in srv if e["server"] == name)

    wr = srv_med("wsgihost", "rss_worker_mib")
    if wr is not None:
        L.append("| RSS per worker ≤ 60 MiB with the app loaded (gunicorn ~84) | %.1f MiB (gunicorn sync %s) | %s |"
                 % (wr, "%.1f MiB" % srv_med("gunicorn-sync", "rss_worker_mib")
                    if srv_med("gunicorn-sync", "rss_worker_mib") else "–", verdict(wr <= 60)))
    pre = {p["server"]: p for p in results.get("preload", [])}
    if "wsgihost" in pre:
        p = pre["wsgihost"]
        one = p["max_worker_rss_mib"]
        L.append("| `--preload`, 4 workers: summed PSS ≤ 2x one worker's RSS | %.1f MiB vs 2 x %.1f MiB (%.2fx) | %s |"
                 % (p["pss_sum_mib"], one, p["pss_sum_mib"] / one if one else 0,
                    verdict(p["pss_sum_mib"] <= 2 * one)))
    idle = results.get("idle", [])

    def idle_med(name):
        return med(e["delta_mib"] for e in idle if e["server"] == name)

    iw = idle_med("wsgihost")
    if iw is not None:
        L.append("| %d idle keep-alive connections cost < 10 MiB | %+.2f MiB | %s |"
                 % (setup.get("idle_conns", 200), iw, verdict(iw < 10)))
    sw_, sg = srv_med("wsgihost", "startup_ms"), srv_med("gunicorn-sync", "startup_ms")
    if sw_ is not None and sg is not None:
        L.append("| start-up to first 200 at most gunicorn's | %.0f ms vs %.0f ms | %s |"
                 % (sw_, sg, verdict(sw_ <= sg)))
    L.append("")

    # --- variants
    for variant in ("close32", "ka1"):
        keys = [(s, e) for e in eps for s in servers_seen if (s, e, variant) in tp]
        if not keys:
            continue
        veps = [e for e in eps if any((s, e, variant) in tp for s in servers_seen)]
        vsrv = [s for s in servers_seen if any((s, e, variant) in tp for e in eps)]
        L += ["## Throughput, %s (requests/s)" % VARIANT_LABEL[variant], "",
              "| endpoint | " + " | ".join(LABEL[s] for s in vsrv) + " |", "|---|" + "---:|" * len(vsrv)]
        for ep in veps:
            base = rps("gunicorn-sync", ep, variant)
            row = []
            for s in vsrv:
                v = rps(s, ep, variant)
                r = ratio(v, base)
                row.append(fmt_rps(v) + (" (%.2fx)" % r if r is not None and s != "gunicorn-sync" else ""))
            L.append("| %s | %s |" % (EP_LABEL[ep], " | ".join(row)))
        L.append("")

    # --- latency
    rates = results.get("latency_rates", {})
    if lat:
        lsrv = [s for s in ORDER if any(k[0] == s for k in lat)]
        L += ["## Latency at a fixed rate (p50 / p99, ms)", "",
              "Each endpoint at one request rate for every server: %.0f%% of the slowest server's "
              "median throughput above (keep-alive, 32 connections), so below everyone's "
              "saturation. Open loop (bench/openloop.c): requests arrive as a Poisson stream "
              "whatever the answers, each on an idle keep-alive connection or a new one (at most "
              "%s), and latency counts from the scheduled time, so a stall is charged to every "
              "request it delays. %s runs, medians of %s rounds."
              % (100 * setup.get("latency_load", 0.5), setup.get("latency_conns"),
                 setup.get("latency_duration"), setup.get("latency_rounds")), "",
              "| endpoint | rate (req/s) | " + " | ".join(LABEL[s] for s in lsrv) + " |",
              "|---|---:|" + "---:|" * len(lsrv)]
        for ep in eps:
            if ep not in rates or not any(k[1] == ep for k in lat):
                continue
            row = []
            for s in lsrv:
                m = lat.get((s, ep, "rate %g/s" % rates[ep]))
                row.append("%.2f / %.2f" % (m["p50"], m["p99"]) if m and m["p50"] is not None else "–")
            L.append("| %s | %s | %s |" % (EP_LABEL[ep], fmt_rps(rates[ep]), " | ".join(row)))
        L += ["", "Debian 12 packages no open-loop generator with percentiles (no wrk2, vegeta or "
              "k6; httperf reports no percentiles), hence bench/openloop.c (compiled by bench/run). "
              "wrk's Lua `delay()` pacing was tried and dropped: wrk skips the delay after "
              "reconnecting, so servers that close connections (gunicorn sync, uWSGI) were not paced.", ""]

    # --- overload
    L += overload_section([c for c in cells if c["phase"] == "overload"], setup)

    # --- slow clients
    if slow:
        L += ["## Slow clients", "",
              "wrk (keep-alive, 32 connections) on the plain view while %s more clients send their "
              "requests (~600 bytes, browser-like) and read their responses at ~1 KB/s each, over "
              "and over." % setup.get("slow_clients"), "",
              "| server | plain view alone | with slow clients | kept | slow clients' responses |",
              "|---|---:|---:|---:|---:|"]
        for s in ORDER:
            m = slow.get((s, "plain", "ka32+slow"))
            if not m:
                continue
            done = [c["slow"].get("completed", 0) for c in cells
                    if c["phase"] == "slow" and c["server"] == s and "slow" in c]
            L.append("| %s | %s | %s | %s | %s |"
                     % (LABEL[s], fmt_rps(rps(s, "plain")), fmt_rps(m["rps"]),
                        pct(ratio(m["rps"], rps(s, "plain"))),
                        "%.0f" % med(done) if done else "–"))
        L.append("")

    # --- memory and start-up
    L += ["## Memory and start-up", "",
          "| server | start-up to first 200 (ms) | worker RSS after the run (MiB) | "
          "all processes' RSS (MiB) | %d idle keep-alive connections: kept open, RSS cost (MiB) |"
          % setup.get("idle_conns", 200),
          "|---|---:|---:|---:|---:|"]
    for s in ORDER:
        if not any(e["server"] == s for e in srv):
            continue
        st, wk, tr = srv_med(s, "startup_ms"), srv_med(s, "rss_worker_mib"), srv_med(s, "rss_tree_mib")
        ie = [e for e in idle if e["server"] == s]
        L.append("| %s | %s | %s | %s | %s |"
                 % (LABEL[s], "%.0f" % st if st is not None else "–",
                    "%.1f" % wk if wk is not None else "–", "%.1f" % tr if tr is not None else "–",
                    "%d, %+.2f" % (med(e["still_open"] for e in ie), idle_med(s)) if ie else "–"))
    L.append("")
    if pre:
        L += ["`--preload` with 4 workers, after load on every endpoint:", "",
              "| server | workers' RSS (MiB) | workers' PSS (MiB) | summed PSS | master RSS |",
              "|---|---|---|---:|---:|"]
        for s, p in pre.items():
            L.append("| %s | %s | %s | %.1f | %.1f |"
                     % (LABEL[s], ", ".join("%.1f" % w["rss_mib"] for w in p["workers"]),
                        ", ".join("%.1f" % w["pss_mib"] for w in p["workers"]), p["pss_sum_mib"],
                        p["master"]["rss_mib"]))
        L.append("")

    # --- containers
    cont = results.get("containers") or {}
    if cont.get("table"):
        L += cont["table"] + [""]
    elif cont.get("skipped"):
        L += ["## Container against container", "", "Not measured: %s" % cont["skipped"], ""]

    # --- method
    v = results.get("versions", {})
    L += ["## Machine, versions, method", ""]
    L += ["- %s: %s" % (k, val) for k, val in v.items()]
    L += ["- Every server serves app/ (`recipes.wsgi`) with the same environment: DEBUG off, "
          "PostgreSQL 15 (a throw-away cluster on 127.0.0.1, `CONN_MAX_AGE` 60, seeded with "
          "`seed_recipes`: 36 recipes), `STATIC_ROOT` from `collectstatic` (ManifestStaticFilesStorage) "
          "plus the two files measured: `bench/small.css` (2,048 bytes) and `bench/big.bin` (1 MiB, "
          "random); `LOG_LEVEL=WARNING`.",
          "- One worker process with %s Python thread(s) for every server, pinned to core %s "
          "(`taskset -c %s`); wrk (`-t1`) and PostgreSQL on core %s. gunicorn serves the app "
          "wrapped in WhiteNoise (bench/recipes_whitenoise.py: the WSGI wrapper, so Django's "
          "settings stay the same for every server); uWSGI serves static files with `--static-map`; "
          "wsgihost serves STATIC_ROOT from C by itself; nginx serves only the static files."
          % (setup.get("threads"), setup.get("server_core"), setup.get("server_core"),
             setup.get("client_core")),
          "- The in-process ceiling (bench/ceiling.py) calls the Django WSGI callable in a Python "
          "loop on the same core with a prebuilt environ: no socket, no HTTP, no server; run by "
          "Debian's /usr/bin/python3, whose interpreter is linked in statically (non-PIC, LTO). "
          "\"ceiling on libpython.so\" runs the same loop on the shared libpython3.11.so that uWSGI "
          "loads (bench/pyembed.c): the fair ceiling for it. wsgihost's default build links the "
          "interpreter in from libpython3.11.a, non-PIE, as /usr/bin/python3 is built "
          "(WSGIHOST_STATIC_PYTHON), so its ceiling is the first. "
          "On Debian 12 the same /plain/ request is ~828k instructions through /usr/bin/python3, "
          "~885k through the static libpython3.11.a embedded, ~998k through libpython3.11.so "
          "(callgrind).",
          "- gunicorn's sync worker and uWSGI's `--http-socket` close the connection after each "
          "response, so their \"keep-alive\" runs reconnect for every request: that is how they run.",
          "- Rounds: every server started fresh, its start-up (spawn to first 200 on /plain/) timed, "
          "each answer checked once; then per endpoint and variant every server in turn (A B C ...), "
          "a %g s wrk warm-up before a server's first run on an endpoint, then %s measured. Memory "
          "is each process's VmRSS after the round (worker: the largest process under the master), "
          "PSS from smaps_rollup." % (setup.get("warmup", 1), setup.get("duration")),
          "- Machine state before each round (1-min load, CPUs busy over 3 s, steal): "
          + "; ".join("%s r%d %.2f/%.0f%%/%.1f%%" % (s["phase"], s["round"], s["load1"],
                                                     100 * s["busy"], 100 * s["steal"]) for s in states),
          ""]
    L += ["Commands (one round):", "", "```"]
    seen = set()
    for e in srv:
        if e["server"] not in seen:
            seen.add(e["server"])
            L.append(" ".join(e["cmd"]))
    shown = set()
    for c in cells:
        key = (c["phase"], c["variant"] if c["phase"] != "latency" else "lat")
        if key not in shown and c.get("cmd") and c["server"] != "ceiling":
            shown.add(key)
            L.append(" ".join(c["cmd"]))
    ceil = next((c for c in cells if c["server"] == "ceiling"), None)
    if ceil:
        L.append(" ".join(ceil["cmd"]))
    for p in results.get("preload", []):
        L.append(" ".join(p["cmd"]))
    L += ["```", ""]
    L += ["Every throughput run (requests/s, in round order): " + "; ".join(
        "%s %s %s: %s" % (LABEL[s], e, var, ", ".join("%.0f" % x for x in m["runs"]))
        for (s, e, var), m in sorted(tp.items(), key=lambda kv: (EP_ORDER.index(kv[0][1]), kv[0][2],
                                                                 ORDER.index(kv[0][0])))), ""]
    if problems:
        L += ["**Problems:** " + "; ".join(problems), ""]
    text = "\n".join(L)
    (out_dir / "recipes.md").write_text(text)
    (out_dir / "recipes.json").write_text(json.dumps(results, indent=1, default=str))
    if charts:
        try:
            make_charts(results, tp, lat, slow, out_dir)
        except ImportError as e:
            problems.append("no charts: %s" % e)
    return text, problems


def make_charts(results, tp, lat, slow, out_dir):
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    colors = {"wsgihost": "#d62728", "wsgihost-before": "#f4a3a3", "wsgihost-loop": "#8c1c13", "wsgihost-pip": "#e377c2", "gunicorn-sync": "#1f77b4", "gunicorn-gthread": "#6baed6",
              "uwsgi": "#2ca02c", "nginx": "#7f7f7f", "ceiling": "#ff7f0e",
              "ceiling-so": "#ffbb78", "ceiling-static": "#fdd0a2"}
    # the peers from PyPI (bench/run's full run)
    colors.update({"gunicorn27-sync": "#08519c", "gunicorn27-gthread": "#9ecae1",
                   "granian": "#e6550d", "uwsgi-pypi": "#31a354", "bjoern": "#9467bd",
                   "waitress": "#8c564b"})
    eps = [e for e in EP_ORDER if any(k[1] == e and k[2] == "ka32" for k in tp)]
    srvs = [s for s in ORDER if any(k[0] == s for k in tp)]
    smoke = results.get("setup", {}).get("smoke")
    note = " (SMOKE RUN: not a measurement)" if smoke else ""

    fig, ax = plt.subplots(figsize=(11, 5.5))
    width = 0.8 / max(1, len(srvs))
    for i, s in enumerate(srvs):
        xs, ys = [], []
        for j, e in enumerate(eps):
            m = tp.get((s, e, "ka32"))
            if m and m["rps"]:
                xs.append(j + (i - (len(srvs) - 1) / 2) * width)
                ys.append(m["rps"])
        bars = ax.bar(xs, ys, width, label=LABEL[s], color=colors[s])
        for b, y in zip(bars, ys):
            ax.text(b.get_x() + b.get_width() / 2, y * 1.05, "{:,.0f}".format(y), ha="center",
                    va="bottom", fontsize=6.5, rotation=90)
    ax.set_yscale("log")
    ax.set_xticks(range(len(eps)))
    ax.set_xticklabels([EP_LABEL[e] for e in eps], fontsize=8)
    ax.set_ylabel("requests/s (log scale)")
    ax.set_title("recipes app, one worker on one core, keep-alive, 32 connections: median req/s" + note,
                 fontsize=10)
    ax.legend(fontsize=8, ncol=3, loc="upper left")
    ax.set_ylim(top=ax.get_ylim()[1] * 4)
    fig.tight_layout()
    fig.savefig(out_dir / "recipes-throughput.png", dpi=110)
    plt.close(fig)

    rates = results.get("latency_rates", {})
    if lat:
        leps = [e for e in EP_ORDER if e in rates and any(k[1] == e for k in lat)]
        lsrv = [s for s in ORDER if any(k[0] == s for k in lat)]
        fig, ax = plt.subplots(figsize=(11, 5))
        width = 0.8 / max(1, len(lsrv))
        for i, s in enumerate(lsrv):
            xs, p50, p99 = [], [], []
            for j, e in enumerate(leps):
                m = lat.get((s, e, "rate %g/s" % rates[e]))
                if m and m["p99"] is not None:
                    xs.append(j + (i - (len(lsrv) - 1) / 2) * width)
                    p50.append(m["p50"])
                    p99.append(m["p99"])
            ax.bar(xs, p99, width, color=colors[s], alpha=0.45)
            ax.bar(xs, p50, width, color=colors[s], label=LABEL[s])
        ax.set_yscale("log")
        ax.set_xticks(range(len(leps)))
        ax.set_xticklabels(["%s\n@ %s req/s" % (EP_LABEL[e], fmt_rps(rates[e])) for e in leps], fontsize=8)
        ax.set_ylabel("latency, ms (log): solid p50, pale p99")
        ax.set_title("latency at a fixed rate below saturation" + note, fontsize=10)
        ax.legend(fontsize=8, ncol=3)
        fig.tight_layout()
        fig.savefig(out_dir / "recipes-latency.png", dpi=110)
        plt.close(fig)

    if slow:
        ssrv = [s for s in ORDER if (s, "plain", "ka32+slow") in slow]
        fig, ax = plt.subplots(figsize=(7, 4))
        alone = [(tp.get((s, "plain", "ka32")) or {}).get("rps") or 0 for s in ssrv]
        withs = [slow[(s, "plain", "ka32+slow")]["rps"] for s in ssrv]
        xs = range(len(ssrv))
        ax.bar([x - 0.2 for x in xs], alone, 0.4, label="plain view alone", color="#999999")
        ax.bar([x + 0.2 for x in xs], withs, 0.4, label="with %s slow clients"
               % results.get("setup", {}).get("slow_clients"), color=[colors[s] for s in ssrv])
        ax.set_xticks(list(xs))
        ax.set_xticklabels([LABEL[s] for s in ssrv], fontsize=8)
        ax.set_ylabel("requests/s")
        ax.set_title("slow clients (~1 KB/s each)" + note, fontsize=10)
        ax.legend(fontsize=8)
        fig.tight_layout()
        fig.savefig(out_dir / "recipes-slow-clients.png", dpi=110)
        plt.close(fig)
