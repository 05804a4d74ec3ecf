"""Container against container for bench/run: the multi-stage wsgihost image
(docker/Dockerfile.multistage) against the same app in an image built the same way on Debian 13's
gunicorn 23 + whitenoise 6.8 (bench/Dockerfile.gunicorn, bench only), each container
`--network host --cpuset-cpus <server core>`, against bench/run's PostgreSQL, wrk on the other
core. Images are built from this checkout (the legacy builder, `--network host`); where no
registry is reachable the base image comes from docker/offline-bases.sh."""

import json
import os
import shutil
import statistics
import subprocess
import time
from pathlib import Path

import loadgen
import servers

BENCH = Path(__file__).resolve().parent
REPO = BENCH.parent
BASE = "debian:trixie-slim"
IMAGES = {
    "wsgihost": ("wsgihost-bench/wsgihost:latest", REPO / "docker" / "Dockerfile.multistage"),
    "gunicorn": ("wsgihost-bench/gunicorn:latest", BENCH / "Dockerfile.gunicorn"),
}
# container name -> (image key, extra docker run args, command)
CONTAINERS = ["wsgihost", "gunicorn23-sync", "gunicorn23-gthread"]
LABEL = {"wsgihost": "wsgihost image (Dockerfile.multistage)",
         "gunicorn23-sync": "gunicorn 23 sync + whitenoise 6.8 image",
         "gunicorn23-gthread": "gunicorn 23 gthread + whitenoise 6.8 image"}


def _docker(args, timeout=60, check=True, **kw):
    return subprocess.run(["docker"] + args, capture_output=True, text=True, timeout=timeout,
                          check=check, **kw)


def image_exists(ref):
    return _docker(["image", "inspect", ref], check=False).returncode == 0


def build(log, key):
    ref, dockerfile = IMAGES[key]
    if not dockerfile.exists():
        raise RuntimeError("%s does not exist" % dockerfile.relative_to(REPO))
    log("building %s from %s" % (ref, dockerfile.relative_to(REPO)))
    t = time.monotonic()
    proc = subprocess.run(["docker", "build", "--network", "host", "-q", "-f", str(dockerfile), "-t", ref,
                           str(REPO)], capture_output=True, text=True, timeout=2400,
                          env=dict(os.environ, DOCKER_BUILDKIT="0"))
    if proc.returncode != 0:
        raise RuntimeError("docker build %s failed:\n%s" % (ref, (proc.stdout + proc.stderr)[-2000:]))
    size = int(_docker(["image", "inspect", "-f", "{{.Size}}", ref]).stdout.strip())
    return {"ref": ref, "build_s": time.monotonic() - t, "size_mb": size / 1e6}


class Container:
    def __init__(self, name, ctx, db_url, port, mounts):
        self.name = name
        self.port = port
        self.cname = "wsgihost-bench-%s-%d" % (name, port)
        bind = "127.0.0.1:%d" % port
        env = {"DATABASE_URL": db_url, "SECRET_KEY": ctx.server_env["SECRET_KEY"],
               "LOG_LEVEL": "WARNING"}
        if name == "wsgihost":
            image = IMAGES["wsgihost"][0]
            # migrations were applied by bench/run: the image's start-up `--migrate` is skipped
            env.update(WSGIHOST_BIND=bind, WSGIHOST_WORKERS="1", WSGIHOST_THREADS=str(ctx.threads),
                       WSGIHOST_MIGRATE="0")
            cmd = []
        else:
            image = IMAGES["gunicorn"][0]
            cmd = ["gunicorn", "--bind", bind, "--workers", "1"]
            if name.endswith("gthread"):
                cmd += ["-k", "gthread", "--threads", str(ctx.threads), "--keep-alive", "75"]
            cmd.append("recipes_whitenoise:application")
        run = ["run", "-d", "--rm", "--name", self.cname, "--network", "host",
               "--cpuset-cpus", ctx.server_core]
        for k, v in env.items():
            run += ["-e", "%s=%s" % (k, v)]
        for host, inside in mounts:
            run += ["-v", "%s:%s:ro" % (host, inside)]
        self.cmd = ["docker"] + run + [image] + cmd
        self.spawned = time.monotonic()
        _docker(run + [image] + cmd, timeout=120)
        self.startup = None

    def wait_ready(self, path, timeout=90):
        deadline = self.spawned + timeout
        while time.monotonic() < deadline:
            try:
                status, _, _ = servers.get(self.port, path, timeout=2)
                if status == 200:
                    self.startup = time.monotonic() - self.spawned
                    return self.startup
            except OSError:
                pass
            time.sleep(0.01)
        logs = _docker(["logs", "--tail", "30", self.cname], check=False).stdout
        raise RuntimeError("container %s: no 200 within %d s:\n%s" % (self.name, timeout, logs))

    def pid(self):
        out = _docker(["inspect", "-f", "{{.State.Pid}}", self.cname], check=False).stdout.strip()
        return int(out) if out.isdigit() else 0

    def stop(self):
        _docker(["stop", "-t", "10", self.cname], check=False, timeout=60)
        _docker(["rm", "-f", self.cname], check=False, timeout=60)


def run(ctx, args, db_url, cluster, log):
    if shutil.which("docker") is None:
        return {"skipped": "docker is not installed"}
    if _docker(["info"], check=False, timeout=60).returncode != 0:
        return {"skipped": "the docker daemon does not answer"}
    for key in IMAGES:
        if not IMAGES[key][1].exists():
            return {"skipped": "%s does not exist yet" % IMAGES[key][1].relative_to(REPO)}
    out = {"images": {}, "cells": [], "servers": []}
    try:
        if not image_exists(BASE):
            offline = REPO / "docker" / "offline-bases.sh"
            if not offline.exists():
                return {"skipped": "no %s image and no docker/offline-bases.sh" % BASE}
            log("no %s: making it with docker/offline-bases.sh slim" % BASE)
            subprocess.run([str(offline), "slim"], check=True, timeout=2400,
                           capture_output=True, text=True)
        for key in IMAGES:
            ctx.budget.check("building images")
            out["images"][key] = build(log, key)
        out["versions"] = {
            "wsgihost": _docker(["run", "--rm", "--network", "none", IMAGES["wsgihost"][0], "wsgihost",
                                 "--version"], check=False).stdout.strip(),
            "gunicorn": _docker(["run", "--rm", "--network", "none", IMAGES["gunicorn"][0], "gunicorn",
                                 "--version"], check=False).stdout.strip(),
            "whitenoise": _docker(["run", "--rm", "--network", "none", IMAGES["gunicorn"][0], "python3",
                                   "-c", "import importlib.metadata as m; print('whitenoise', m.version('whitenoise'), "
                                   "'django', m.version('django'))"], check=False).stdout.strip(),
        }
    except (RuntimeError, subprocess.CalledProcessError, subprocess.TimeoutExpired) as e:
        return {"skipped": "images could not be built: %s" % str(e)[-1500:]}

    bench_dir = ctx.static_root / "bench"
    mounts = [(str(bench_dir), "/app/staticfiles/bench")]
    endpoints = [("plain", "/plain/"), ("list", "/"), ("api", "/api/recipes/"),
                 ("static-2k", ctx.small_static[0]), ("static-1m", ctx.big_static[0])]
    for rnd in range(1, args.rounds + 1):
        state = ctx.wait_quiet()
        ctx.results["machine_states"].append(dict(state, phase="containers", round=rnd))
        running = {}
        try:
            for name in CONTAINERS:
                ctx.budget.check("container " + name)
                c = Container(name, ctx, db_url, servers.free_port(), mounts)
                running[name] = c
                startup = c.wait_ready("/plain/")
                out["servers"].append({"round": rnd, "server": name, "startup_ms": startup * 1000,
                                       "cmd": c.cmd})
                log("r%d container %s up in %.0f ms" % (rnd, name, startup * 1000))
            for ep, path in endpoints:
                for name, c in running.items():
                    ctx.budget.check("container %s %s" % (name, ep))
                    if args.warmup > 0:
                        loadgen.wrk(c.port, path, ctx.client_core, "%ds" % args.warmup, 32)
                    pid = c.pid()
                    cpu0 = servers.cpu_seconds(pid)
                    cmd, r, _ = loadgen.wrk(c.port, path, ctx.client_core, args.duration, 32)
                    cpu = servers.cpu_seconds(pid) - cpu0
                    r.update(round=rnd, server=name, endpoint=ep, cmd=cmd,
                             cpu_us=cpu * 1e6 / r["requests"] if r["requests"] else None)
                    out["cells"].append(r)
                    log("r%d container %-20s %-9s %9.0f req/s  CPU %s us/req"
                        % (rnd, name, ep, r["rps"], "%.0f" % r["cpu_us"] if r["cpu_us"] else "-"))
            for name, c in running.items():
                pid = c.pid()
                mem = servers.memory(pid) if pid else {"tree": None, "worker": None}
                entry = next(e for e in out["servers"] if e["round"] == rnd and e["server"] == name)
                entry.update(rss_tree_mib=mem["tree"], rss_worker_mib=mem["worker"])
        finally:
            for c in running.values():
                c.stop()
    out["table"] = table(out)
    return out


def table(out):
    def med(vals):
        vals = [v for v in vals if v is not None]
        return statistics.median(vals) if vals else None

    rps = {}
    for c in out["cells"]:
        rps.setdefault((c["server"], c["endpoint"]), []).append(c["rps"])
    eps = []
    for c in out["cells"]:
        if c["endpoint"] not in eps:
            eps.append(c["endpoint"])
    names = [n for n in CONTAINERS if any(c["server"] == n for c in out["cells"])]
    L = ["## Container against container", "",
         "The multi-stage wsgihost image against the same app on Debian 13's gunicorn 23 + "
         "whitenoise 6.8 in an image built the same way (bench/Dockerfile.gunicorn), one worker, "
         "each container `--network host --cpuset-cpus 0`, same PostgreSQL; wrk keep-alive, 32 "
         "connections, on core 1; requests/s, medians of the rounds, ratio to the gunicorn 23 sync "
         "image. Inside the images: %s; %s; %s."
         % (out.get("versions", {}).get("wsgihost", "?"), out.get("versions", {}).get("gunicorn", "?"),
            out.get("versions", {}).get("whitenoise", "?")), "",
         "| endpoint | " + " | ".join(LABEL[n] for n in names) + " |", "|---|" + "---:|" * len(names)]
    for ep in eps:
        base = med(rps.get(("gunicorn23-sync", ep), []))
        row = []
        for n in names:
            v = med(rps.get((n, ep), []))
            cell = "–" if v is None else "{:,.0f}".format(v)
            if v is not None and base and n != "gunicorn23-sync":
                cell += " (%.2fx)" % (v / base)
            row.append(cell)
        L.append("| %s | %s |" % (ep, " | ".join(row)))
    srv = out["servers"]
    L.append("| start-up, `docker run` to first 200 (ms) | " + " | ".join(
        "%.0f" % med(e["startup_ms"] for e in srv if e["server"] == n) for n in names) + " |")
    L.append("| RSS of the container's processes after the run (MiB) | " + " | ".join(
        "%.1f" % (med(e.get("rss_tree_mib") for e in srv if e["server"] == n) or 0) for n in names) + " |")
    imgs = out.get("images", {})
    L.append("| image size (MB) | " + " | ".join(
        "%.0f" % imgs.get("wsgihost" if n == "wsgihost" else "gunicorn", {}).get("size_mb", 0)
        for n in names) + " |")
    L += ["", "Every run (requests/s): " + "; ".join(
        "%s %s: %s" % (n, ep, ", ".join("%.0f" % x for x in rps.get((n, ep), [])))
        for ep in eps for n in names)]
    return L


if __name__ == "__main__":
    print(json.dumps({k: str(v) for k, v in IMAGES.items()}))
