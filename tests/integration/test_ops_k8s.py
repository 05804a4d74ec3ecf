"""docker/k8s: the manifests lint clean; rendered as kustomization.yaml says (its resources, labels
and image), every object validates against Kubernetes' schemas (kubernetes-validate, pinned, from
the project's venv: scripts/tools-venv); and they keep the promises the README makes: probes on
the health and ready paths, a grace period that covers the drain delay plus the graceful timeout,
non-root with a read-only root filesystem."""

import os
import shutil
import subprocess
from pathlib import Path

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


# The oldest and the newest Kubernetes release the pinned kubernetes-validate knows.
K8S_VERSIONS = ("1.25.0", "1.37.0")
TOOLS_VENV = Path(os.environ.get("WSGIHOST_TOOLS_VENV") or REPO / "build-tools" / "venv")


def render():
    """What `kubectl kustomize docker/k8s` outputs, for the features kustomization.yaml uses:
    its resources, with `labels` (on metadata only: includeSelectors false, no templates) and
    `images` applied. Anything else in it fails here rather than being ignored."""
    kust = yaml.safe_load((K8S / "kustomization.yaml").read_text())
    unknown = set(kust) - {"apiVersion", "kind", "labels", "resources", "images"}
    assert not unknown, "kustomization.yaml uses %s: teach render() about it" % sorted(unknown)
    images = {i["name"]: "%s:%s" % (i["newName"], i["newTag"]) for i in kust["images"]}
    objects = []
    for name in kust["resources"]:
        for doc in yaml.safe_load_all((K8S / name).read_text()):
            if not doc:
                continue
            for group in kust["labels"]:
                assert not group.get("includeSelectors") and not group.get("includeTemplates")
                doc["metadata"].setdefault("labels", {}).update(group["pairs"])
            pod = doc.get("spec", {}).get("template", {}).get("spec", {})
            for c in pod.get("containers", []) + pod.get("initContainers", []):
                repo = c["image"].split(":", 1)[0]
                c["image"] = images.get(repo, c["image"])
            objects.append(doc)
    return objects


def test_every_manifest_is_a_kustomize_resource():
    listed = yaml.safe_load((K8S / "kustomization.yaml").read_text())["resources"]
    files = sorted(p.name for p in K8S.glob("*.yaml") if p.name != "kustomization.yaml")
    assert sorted(listed) == files


def test_rendered_objects_are_valid_kubernetes(tmp_path):
    validate = TOOLS_VENV / "bin" / "kubernetes-validate"
    assert validate.exists(), ("%s is missing: scripts/bootstrap makes the tools venv "
                               "(scripts/tools-venv)" % validate)
    objects = render()
    kinds = sorted(d["kind"] for d in objects)
    assert kinds == ["Deployment", "Job", "PodDisruptionBudget", "Service"]
    assert all(d["metadata"]["labels"]["app.kubernetes.io/part-of"] == "recipes" for d in objects)
    files = []
    for i, doc in enumerate(objects):
        files.append(tmp_path / ("%d-%s.yaml" % (i, doc["kind"].lower())))
        files[-1].write_text(yaml.safe_dump(doc))
    for version in K8S_VERSIONS:
        proc = subprocess.run([str(validate), "--strict", "--quiet", "-k", version]
                              + [str(f) for f in files], capture_output=True, text=True,
                              timeout=120)
        assert proc.returncode == 0, "Kubernetes %s:\n%s%s" % (version, proc.stdout, proc.stderr)
        # --quiet prints only failures and warnings: none, and every object was checked.
        assert not (proc.stdout + proc.stderr).strip(), proc.stdout + proc.stderr


def test_kubectl_kustomize_matches_the_render():
    kubectl = shutil.which("kubectl")
    if kubectl is None:
        pytest.skip("kubectl is not installed (Debian has no kubectl with kustomize): "
                    "test_rendered_objects_are_valid_kubernetes validates our render")
    proc = subprocess.run([kubectl, "kustomize", str(K8S)], capture_output=True, text=True,
                          timeout=60)
    assert proc.returncode == 0, proc.stderr
    key = lambda d: (d["kind"], d["metadata"]["name"])  # noqa: E731
    assert sorted((d for d in yaml.safe_load_all(proc.stdout) if d), key=key) == sorted(
        render(), key=key)


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
