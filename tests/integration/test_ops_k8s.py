"""docker/k8s: the manifests lint clean, render with `kubectl kustomize` (when kubectl is
installed: Debian 12 has no kustomize-capable kubectl of its own, so this part may skip), and
keep the promises the README makes: probes on the health and ready paths, a grace period that
covers the drain delay plus the graceful timeout, non-root with a read-only root filesystem."""

import shutil
import subprocess

import pytest
import yaml

from conftest import REPO

K8S = REPO / "docker" / "k8s"


def documents():
    docs = []
    for path in sorted(K8S.glob("*.yaml")):
        docs += [(path.name, d) for d in yaml.safe_load_all(path.read_text()) if d]
    return docs


def by_kind(kind):
    return [d for _, d in documents() if d.get("kind") == kind]


def env_of(container):
    return {e["name"]: e.get("value") for e in container.get("env", [])}


def test_yamllint_clean():
    yamllint = shutil.which("yamllint")
    assert yamllint, "yamllint is missing: scripts/bootstrap installs it"
    proc = subprocess.run([yamllint, "-s", "-c", str(K8S / ".yamllint"), str(K8S)],
                          capture_output=True, text=True, timeout=60)
    assert proc.returncode == 0, proc.stdout + proc.stderr


def test_kustomize_renders():
    kubectl = shutil.which("kubectl")
    if kubectl is None:
        pytest.skip("kubectl is not installed (Debian 12 has no kubectl with kustomize)")
    proc = subprocess.run([kubectl, "kustomize", str(K8S)], capture_output=True, text=True,
                          timeout=60)
    assert proc.returncode == 0, proc.stderr
    kinds = sorted(d["kind"] for d in yaml.safe_load_all(proc.stdout) if d)
    assert kinds == ["Deployment", "Job", "PodDisruptionBudget", "Service"]


def test_deployment_probes_and_shutdown_timing():
    (dep,) = by_kind("Deployment")
    pod = dep["spec"]["template"]["spec"]
    (web,) = pod["containers"]
    env = env_of(web)
    assert web["livenessProbe"]["httpGet"]["path"] == env["WSGIHOST_HEALTH_PATH"] == "/healthz"
    assert web["readinessProbe"]["httpGet"]["path"] == env["WSGIHOST_READY_PATH"] == "/readyz"
    drain = float(env["WSGIHOST_DRAIN_DELAY"])
    graceful = float(env["WSGIHOST_GRACEFUL_TIMEOUT"])
    grace = pod["terminationGracePeriodSeconds"]
    assert grace >= drain + graceful + 2, "SIGKILL must come after the drain and the graceful stop"
    # The drain must outlast the readiness probe's detection (period x threshold).
    ready = web["readinessProbe"]
    assert drain >= ready["periodSeconds"] * ready["failureThreshold"]
    assert dep["spec"]["strategy"]["rollingUpdate"]["maxUnavailable"] == 0
    assert env["WSGIHOST_MIGRATE"] == "0"  # the Job migrates


def test_pods_are_locked_down():
    pods = [d["spec"]["template"]["spec"] for d in by_kind("Deployment") + by_kind("Job")]
    for pod in pods:
        assert pod["securityContext"]["runAsNonRoot"] is True
        assert pod["securityContext"]["runAsUser"] == 65532
        assert pod["automountServiceAccountToken"] is False
        for c in pod["containers"]:
            sc = c["securityContext"]
            assert sc["readOnlyRootFilesystem"] is True
            assert sc["allowPrivilegeEscalation"] is False
            assert sc["capabilities"]["drop"] == ["ALL"]
            assert c["resources"]["requests"]["memory"] and c["resources"]["limits"]["memory"]
            assert any(m["mountPath"] == "/tmp" for m in c["volumeMounts"])


def test_service_and_metrics_ports():
    (svc,) = by_kind("Service")
    (dep,) = by_kind("Deployment")
    (web,) = dep["spec"]["template"]["spec"]["containers"]
    ports = {p["name"]: p["containerPort"] for p in web["ports"]}
    assert ports == {"http": 8000, "metrics": 9100}
    assert env_of(web)["WSGIHOST_METRICS_BIND"].endswith(":9100")
    assert {p["targetPort"] for p in svc["spec"]["ports"]} == {"http", "metrics"}
    assert svc["spec"]["selector"] == dep["spec"]["selector"]["matchLabels"]
