#!/usr/bin/env python3
"""Checks of the Kubernetes manifests that schema validation cannot make.

  check-k8s.py [--rendered NAME=FILE ...]

Always, on deploy/kubernetes as written:
  * kustomizations: every resource, generator file and patch file exists, and
    every patch targets a resource that the kustomization builds;
  * custom resources (ServiceMonitor, PrometheusRule, ScaledObject,
    TriggerAuthentication): the fields their controllers require;
  * configuration: every key in the ConfigMap's newsflow.toml, the compose
    newsflow.toml and every NEWSFLOW__ environment variable names a real
    setting (newsflow rejects unknown keys at start-up).

On each rendered kustomization (`kubectl kustomize` output) given with
--rendered, and on the base's raw files when none is given:
  * the Deployment's security context, probes, resources, grace period
    (above processing.drain_timeout_secs) and config mount;
  * Service, ServiceMonitor, PodDisruptionBudget and NetworkPolicy select the
    Deployment's pods and agree on the metrics port;
  * the ScaledObject follows the consumer group and input topic newsflow is
    configured with, on the same brokers, capped at the topic's partitions;
  * Secret references match the example Secret's keys.

Needs PyYAML. Exits 1 listing every problem.
"""

from __future__ import annotations

import argparse
import re
import sys
import tomllib
from pathlib import Path
from typing import Any

import yaml

ROOT = Path(__file__).resolve().parent.parent
K8S = ROOT / "deploy/kubernetes"
BASE = K8S / "base"
DEFAULTS = ROOT / "config/default.toml"
COMPOSE_CONFIG = ROOT / "deploy/compose/newsflow.toml"
METRICS_PORT = 9898
UID = 65532
# Free-form tables: any librdkafka property name is accepted under them.
FREE_FORM = {
    ("kafka", "properties"),
    ("kafka", "consumer_properties"),
    ("kafka", "producer_properties"),
    ("kafka", "property_files"),
}
CRD_KINDS = {
    ("monitoring.coreos.com/v1", "ServiceMonitor"),
    ("monitoring.coreos.com/v1", "PrometheusRule"),
    ("keda.sh/v1alpha1", "ScaledObject"),
    ("keda.sh/v1alpha1", "TriggerAuthentication"),
}
DURATION = re.compile(r"^(0|(([0-9]+)y)?(([0-9]+)w)?(([0-9]+)d)?(([0-9]+)h)?(([0-9]+)m)?(([0-9]+)s)?(([0-9]+)ms)?)$")


class Problems(list):
    def add(self, where: str, message: str) -> None:
        self.append(f"{where}: {message}")


def rel(path: Path) -> str:
    try:
        return str(path.relative_to(ROOT))
    except ValueError:
        return str(path)


def load_docs(path: Path) -> list[dict[str, Any]]:
    return [doc for doc in yaml.safe_load_all(path.read_text(encoding="utf-8")) if doc]


def get(node: Any, *path: Any, default: Any = None) -> Any:
    for key in path:
        if isinstance(node, dict) and key in node:
            node = node[key]
        elif isinstance(node, list) and isinstance(key, int) and -len(node) <= key < len(node):
            node = node[key]
        else:
            return default
    return node


# --- configuration keys ------------------------------------------------------


def known_keys() -> dict[str, set[str]]:
    defaults = tomllib.loads(DEFAULTS.read_text(encoding="utf-8"))
    return {section: set(body) for section, body in defaults.items() if isinstance(body, dict)}


def check_config_keys(path: Path, known: dict[str, set[str]], problems: Problems) -> dict[str, Any]:
    try:
        config = tomllib.loads(path.read_text(encoding="utf-8"))
    except tomllib.TOMLDecodeError as err:
        problems.add(rel(path), f"not valid TOML: {err}")
        return {}
    for section, body in config.items():
        if section not in known:
            problems.add(rel(path), f"unknown section [{section}]")
            continue
        if not isinstance(body, dict):
            problems.add(rel(path), f"{section} must be a table")
            continue
        for key in body:
            if key not in known[section]:
                problems.add(rel(path), f"unknown key {section}.{key}")
            elif isinstance(body[key], dict) and (section, key) not in FREE_FORM:
                problems.add(rel(path), f"{section}.{key} must not be a table")
    return config


def check_env_name(where: str, name: str, known: dict[str, set[str]], problems: Problems) -> None:
    if not name.startswith("NEWSFLOW__"):
        return
    parts = name[len("NEWSFLOW__"):].lower().split("__")
    if len(parts) < 2 or parts[0] not in known or parts[1] not in known[parts[0]]:
        problems.add(where, f"environment variable {name} names no setting")
    elif (parts[0], parts[1]) not in FREE_FORM and len(parts) != 2:
        problems.add(where, f"environment variable {name} goes below a plain setting")
    elif (parts[0], parts[1]) in FREE_FORM and len(parts) < 3:
        problems.add(where, f"environment variable {name} names a table, not a property")


def effective_config(config: dict[str, Any]) -> dict[str, Any]:
    merged = tomllib.loads(DEFAULTS.read_text(encoding="utf-8"))
    for section, body in config.items():
        if isinstance(body, dict):
            merged.setdefault(section, {}).update(body)
    return merged


# --- kustomizations ----------------------------------------------------------


def kustomize_resources(directory: Path, problems: Problems, seen: set[Path] | None = None) -> list[dict[str, Any]]:
    """The resources a kustomization builds, before patches (by kind and name)."""
    seen = seen or set()
    if directory in seen:
        problems.add(rel(directory), "kustomization includes itself")
        return []
    seen.add(directory)
    path = directory / "kustomization.yaml"
    if not path.is_file():
        problems.add(rel(directory), "no kustomization.yaml")
        return []
    kustomization = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    where = rel(path)
    if kustomization.get("kind") != "Kustomization":
        problems.add(where, "kind is not Kustomization")
    built: list[dict[str, Any]] = []
    for entry in kustomization.get("resources", []) or []:
        target = (directory / entry).resolve()
        if target.is_dir():
            built.extend(kustomize_resources(target, problems, seen))
        elif target.is_file():
            built.extend(load_docs(target))
        else:
            problems.add(where, f"resource {entry} does not exist")
    for generator in kustomization.get("configMapGenerator", []) or []:
        for entry in generator.get("files", []) or []:
            source = entry.split("=", 1)[-1]
            if not (directory / source).is_file():
                problems.add(where, f"configMapGenerator {generator.get('name')}: file {source} does not exist")
        built.append({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": generator.get("name")}})
    for entry in kustomization.get("patchesStrategicMerge", []) or []:
        problems.add(where, f"patchesStrategicMerge ({entry}) is deprecated; use patches")
    names = {(doc.get("kind"), get(doc, "metadata", "name")) for doc in built}
    for patch in kustomization.get("patches", []) or []:
        target = patch.get("target") or {}
        if "path" in patch:
            patch_path = directory / patch["path"]
            if not patch_path.is_file():
                problems.add(where, f"patch {patch['path']} does not exist")
                continue
            if not target:
                for doc in load_docs(patch_path):
                    key = (doc.get("kind"), get(doc, "metadata", "name"))
                    if key not in names:
                        problems.add(where, f"patch {patch['path']} targets {key[0]}/{key[1]}, which is not built here")
                continue
        matches = [
            doc
            for doc in built
            if all(
                [
                    "kind" not in target or doc.get("kind") == target["kind"],
                    "name" not in target or get(doc, "metadata", "name") == target["name"],
                    "group" not in target
                    or str(doc.get("apiVersion", "")).rsplit("/", 1)[0] == target["group"],
                    "version" not in target or str(doc.get("apiVersion", "")).rsplit("/", 1)[-1] == target["version"],
                ]
            )
        ]
        if target and not matches:
            problems.add(where, f"patch target {target} matches no resource")
    image_names = {entry.get("name") for entry in kustomization.get("images", []) or []}
    container_images = {
        str(container.get("image", "")).split(":")[0].split("@")[0]
        for doc in built
        for container in get(doc, "spec", "template", "spec", "containers", default=[]) or []
    }
    for image in image_names - container_images:
        problems.add(where, f"images entry {image} matches no container image")
    return built


# --- custom resources --------------------------------------------------------


def check_crd(where: str, doc: dict[str, Any], problems: Problems, all_docs: list[dict[str, Any]]) -> None:
    kind = doc.get("kind")
    name = get(doc, "metadata", "name")
    where = f"{where}: {kind}/{name}"
    for field in ("apiVersion", "kind", "metadata", "spec"):
        if field not in doc:
            problems.add(where, f"missing {field}")
    if not name:
        problems.add(where, "missing metadata.name")
    spec = doc.get("spec") or {}
    if kind == "ServiceMonitor":
        if not isinstance(spec.get("selector"), dict):
            problems.add(where, "spec.selector is required")
        endpoints = spec.get("endpoints")
        if not isinstance(endpoints, list) or not endpoints:
            problems.add(where, "spec.endpoints must list at least one endpoint")
        for index, endpoint in enumerate(endpoints or []):
            if not isinstance(endpoint.get("port"), str) and "targetPort" not in endpoint:
                problems.add(where, f"endpoints[{index}] needs a named port (or targetPort)")
            for key in ("interval", "scrapeTimeout"):
                if key in endpoint and not DURATION.match(str(endpoint[key])):
                    problems.add(where, f"endpoints[{index}].{key} {endpoint[key]!r} is not a duration")
    elif kind == "PrometheusRule":
        groups = spec.get("groups")
        if not isinstance(groups, list) or not groups:
            problems.add(where, "spec.groups must list at least one group")
        for group in groups or []:
            if not group.get("name"):
                problems.add(where, "a group has no name")
            for rule in group.get("rules") or []:
                label = rule.get("alert") or rule.get("record")
                if not label or ("alert" in rule) == ("record" in rule):
                    problems.add(where, f"rule needs exactly one of alert or record: {rule}")
                if not isinstance(rule.get("expr"), (str, int)):
                    problems.add(where, f"rule {label} has no expr")
                if "for" in rule and not DURATION.match(str(rule["for"])):
                    problems.add(where, f"rule {label}: for {rule['for']!r} is not a duration")
                for key in ("labels", "annotations"):
                    values = rule.get(key) or {}
                    if not all(isinstance(v, str) for v in values.values()):
                        problems.add(where, f"rule {label}: {key} values must be strings")
    elif kind == "ScaledObject":
        if not get(spec, "scaleTargetRef", "name"):
            problems.add(where, "spec.scaleTargetRef.name is required")
        triggers = spec.get("triggers")
        if not isinstance(triggers, list) or not triggers:
            problems.add(where, "spec.triggers must list at least one trigger")
        low, high = spec.get("minReplicaCount", 0), spec.get("maxReplicaCount", 100)
        if not (isinstance(low, int) and isinstance(high, int) and 0 <= low <= high):
            problems.add(where, f"need 0 <= minReplicaCount ({low}) <= maxReplicaCount ({high})")
        auths = {get(d, "metadata", "name") for d in all_docs if d.get("kind") == "TriggerAuthentication"}
        for index, trigger in enumerate(triggers or []):
            if not trigger.get("type") or not isinstance(trigger.get("metadata"), dict):
                problems.add(where, f"triggers[{index}] needs type and metadata")
                continue
            if not all(isinstance(v, str) for v in trigger["metadata"].values()):
                problems.add(where, f"triggers[{index}].metadata values must be strings")
            if trigger["type"] == "kafka":
                for key in ("bootstrapServers", "consumerGroup", "topic"):
                    if not trigger["metadata"].get(key):
                        problems.add(where, f"kafka trigger needs metadata.{key}")
            ref = get(trigger, "authenticationRef", "name")
            if ref and ref not in auths:
                problems.add(where, f"authenticationRef {ref} names no TriggerAuthentication here")
    elif kind == "TriggerAuthentication":
        refs = spec.get("secretTargetRef") or []
        if not refs and not any(k in spec for k in ("env", "hashiCorpVault", "podIdentity", "configMapTargetRef")):
            problems.add(where, "spec needs secretTargetRef (or another source)")
        for ref in refs:
            for key in ("parameter", "name", "key"):
                if not ref.get(key):
                    problems.add(where, f"secretTargetRef entry needs {key}: {ref}")


# --- the Deployment and its companions ----------------------------------------


def labels_match(selector: dict[str, Any] | None, labels: dict[str, str]) -> bool:
    wanted = (selector or {}).get("matchLabels", selector or {})
    return bool(wanted) and all(labels.get(k) == v for k, v in wanted.items() if isinstance(v, str))


def check_set(where: str, docs: list[dict[str, Any]], config: dict[str, Any], secret_keys: set[str], problems: Problems) -> None:
    by_kind: dict[str, list[dict[str, Any]]] = {}
    for doc in docs:
        by_kind.setdefault(doc.get("kind", "?"), []).append(doc)
    deployments = by_kind.get("Deployment", [])
    if len(deployments) != 1:
        problems.add(where, f"expected one Deployment, found {len(deployments)}")
        return
    deployment = deployments[0]
    dname = f"{where}: Deployment/{get(deployment, 'metadata', 'name')}"
    pod = get(deployment, "spec", "template", "spec", default={})
    pod_labels = get(deployment, "spec", "template", "metadata", "labels", default={})
    if not labels_match(get(deployment, "spec", "selector"), pod_labels):
        problems.add(dname, "spec.selector does not match the pod template's labels")
    if "replicas" in deployment.get("spec", {}) and by_kind.get("ScaledObject"):
        problems.add(dname, "sets spec.replicas although a ScaledObject owns the replica count")

    drain = get(config, "processing", "drain_timeout_secs", default=0)
    grace = pod.get("terminationGracePeriodSeconds", 30)
    if not grace > drain:
        problems.add(dname, f"terminationGracePeriodSeconds {grace} must exceed processing.drain_timeout_secs {drain}")

    pod_sc = pod.get("securityContext", {}) or {}
    containers = pod.get("containers", []) or []
    newsflow = [c for c in containers if c.get("name") == "newsflow"]
    if len(newsflow) != 1:
        problems.add(dname, "needs exactly one container named newsflow")
        return
    container = newsflow[0]
    sc = container.get("securityContext", {}) or {}

    def effective(key: str) -> Any:
        return sc.get(key, pod_sc.get(key))

    if effective("runAsNonRoot") is not True:
        problems.add(dname, "runAsNonRoot must be true")
    if effective("runAsUser") != UID:
        problems.add(dname, f"runAsUser must be {UID} (the image's user), got {effective('runAsUser')}")
    if sc.get("readOnlyRootFilesystem") is not True:
        problems.add(dname, "readOnlyRootFilesystem must be true")
    if sc.get("allowPrivilegeEscalation") is not False:
        problems.add(dname, "allowPrivilegeEscalation must be false")
    if "ALL" not in (get(sc, "capabilities", "drop", default=[]) or []) or get(sc, "capabilities", "add"):
        problems.add(dname, "capabilities must drop ALL and add none")
    if get(sc, "seccompProfile", "type", default=get(pod_sc, "seccompProfile", "type")) != "RuntimeDefault":
        problems.add(dname, "seccompProfile must be RuntimeDefault")
    image = str(container.get("image", ""))
    if ":" not in image.rsplit("/", 1)[-1] and "@" not in image or image.endswith(":latest"):
        problems.add(dname, f"image {image!r} must carry a version tag or digest, not latest")

    ports = {p.get("name"): p.get("containerPort") for p in container.get("ports", []) or []}
    if ports.get("metrics") != metrics_port(config):
        problems.add(dname, f"container port `metrics` must be {metrics_port(config)} (http.listen), got {ports.get('metrics')}")
    for probe, path in (("livenessProbe", "/healthz"), ("readinessProbe", "/readyz")):
        http = get(container, probe, "httpGet", default={})
        if http.get("path") != path or http.get("port") not in ("metrics", METRICS_PORT):
            problems.add(dname, f"{probe} must GET {path} on the metrics port, got {http}")
    for kind in ("requests", "limits"):
        for resource in ("cpu", "memory"):
            if not get(container, "resources", kind, resource):
                problems.add(dname, f"resources.{kind}.{resource} is not set")

    args = container.get("args", []) or []
    if "--config" not in args or args.index("--config") + 1 >= len(args):
        problems.add(dname, "args must pass --config FILE")
    else:
        config_path = args[args.index("--config") + 1]
        mounts = {m.get("mountPath"): m for m in container.get("volumeMounts", []) or []}
        mount = mounts.get(config_path) or next(
            (m for p, m in mounts.items() if config_path.startswith(p.rstrip("/") + "/")), None
        )
        if mount is None:
            problems.add(dname, f"--config {config_path} is not on a mounted volume")
        else:
            volume = next((v for v in pod.get("volumes", []) or [] if v.get("name") == mount.get("name")), None)
            cm_name = get(volume, "configMap", "name")
            cms = {get(d, "metadata", "name") for d in by_kind.get("ConfigMap", [])}
            if cms and cm_name not in cms:
                problems.add(dname, f"config volume refers to ConfigMap {cm_name}, which is not built ({sorted(cms)})")

    env_vars = {e.get("name"): e for e in container.get("env", []) or []}
    for name, var in env_vars.items():
        ref = get(var, "valueFrom", "secretKeyRef")
        if ref and secret_keys and ref.get("key") not in secret_keys:
            problems.add(dname, f"env {name} reads key {ref.get('key')!r}, not in the example Secret ({sorted(secret_keys)})")
    for required in ("NEWSFLOW__KAFKA__PROPERTIES__SASL__USERNAME", "NEWSFLOW__KAFKA__PROPERTIES__SASL__PASSWORD"):
        if not get(env_vars.get(required), "valueFrom", "secretKeyRef"):
            problems.add(dname, f"env {required} must come from a Secret")

    brokers = get(env_vars.get("NEWSFLOW__KAFKA__BROKERS"), "value") or get(config, "kafka", "brokers")
    if brokers == "embedded":
        problems.add(dname, "kafka.brokers is \"embedded\"; a cluster needs real brokers")

    for service in by_kind.get("Service", []):
        sname = f"{where}: Service/{get(service, 'metadata', 'name')}"
        if not labels_match(get(service, "spec", "selector"), pod_labels):
            problems.add(sname, "selector does not match the Deployment's pods")
        sports = {p.get("name"): p for p in get(service, "spec", "ports", default=[]) or []}
        if "metrics" not in sports or sports["metrics"].get("port") != METRICS_PORT:
            problems.add(sname, f"needs a port named metrics on {METRICS_PORT}")
    service_labels = [get(s, "metadata", "labels", default={}) for s in by_kind.get("Service", [])]
    for monitor in by_kind.get("ServiceMonitor", []):
        mname = f"{where}: ServiceMonitor/{get(monitor, 'metadata', 'name')}"
        if not any(labels_match(get(monitor, "spec", "selector"), labels) for labels in service_labels):
            problems.add(mname, "selector matches no Service")
        for endpoint in get(monitor, "spec", "endpoints", default=[]) or []:
            if endpoint.get("port") != "metrics" or endpoint.get("path", "/metrics") != "/metrics":
                problems.add(mname, "endpoint must scrape port `metrics`, path /metrics")
    for pdb in by_kind.get("PodDisruptionBudget", []):
        if not labels_match(get(pdb, "spec", "selector"), pod_labels):
            problems.add(f"{where}: PodDisruptionBudget", "selector does not match the Deployment's pods")
    for policy in by_kind.get("NetworkPolicy", []):
        pname = f"{where}: NetworkPolicy/{get(policy, 'metadata', 'name')}"
        if not labels_match(get(policy, "spec", "podSelector"), pod_labels):
            problems.add(pname, "podSelector does not match the Deployment's pods")
        if set(get(policy, "spec", "policyTypes", default=[])) != {"Ingress", "Egress"}:
            problems.add(pname, "policyTypes must be Ingress and Egress")
        for rule in get(policy, "spec", "ingress", default=[]) or []:
            ports = {p.get("port") for p in rule.get("ports", []) or []}
            if ports != {METRICS_PORT}:
                problems.add(pname, f"ingress must be limited to port {METRICS_PORT}, got {ports}")
            sources = rule.get("from") or []
            if not sources or any(
                get(s, "namespaceSelector", "matchLabels", "kubernetes.io/metadata.name") != "monitoring" for s in sources
            ):
                problems.add(pname, "ingress must come from the monitoring namespace only")
        for rule in get(policy, "spec", "egress", default=[]) or []:
            ports = {p.get("port") for p in rule.get("ports", []) or []}
            if not ports or not ports <= {53, 9092, 9093}:
                problems.add(pname, f"egress must be limited to DNS and Kafka ports, got {ports or 'all'}")

    for scaled in by_kind.get("ScaledObject", []):
        sname = f"{where}: ScaledObject/{get(scaled, 'metadata', 'name')}"
        if get(scaled, "spec", "scaleTargetRef", "name") != get(deployment, "metadata", "name"):
            problems.add(sname, "scaleTargetRef does not name the Deployment")
        for trigger in get(scaled, "spec", "triggers", default=[]) or []:
            if trigger.get("type") != "kafka":
                continue
            meta = trigger.get("metadata", {})
            expected = {
                "consumerGroup": get(config, "kafka", "group_id"),
                "topic": get(config, "kafka", "input_topic"),
                "bootstrapServers": brokers,
            }
            for key, value in expected.items():
                if meta.get(key) != value:
                    problems.add(sname, f"kafka trigger {key} {meta.get(key)!r} differs from newsflow's {value!r}")
        if where.endswith("base") and get(scaled, "spec", "maxReplicaCount") != get(config, "kafka", "topic_partitions"):
            problems.add(
                sname,
                f"maxReplicaCount {get(scaled, 'spec', 'maxReplicaCount')} must equal the input topic's "
                f"partitions (kafka.topic_partitions = {get(config, 'kafka', 'topic_partitions')})",
            )
    for auth in by_kind.get("TriggerAuthentication", []):
        for ref in get(auth, "spec", "secretTargetRef", default=[]) or []:
            if secret_keys and ref.get("key") not in secret_keys:
                problems.add(f"{where}: TriggerAuthentication", f"reads key {ref.get('key')!r}, not in the example Secret")


def metrics_port(config: dict[str, Any]) -> int | None:
    listen = str(get(config, "http", "listen", default=""))
    port = listen.rsplit(":", 1)[-1]
    return int(port) if port.isdigit() else None


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rendered", action="append", default=[], metavar="NAME=FILE",
                        help="output of `kubectl kustomize` for the kustomization NAME")
    options = parser.parse_args()
    problems = Problems()
    checked: list[str] = []

    known = known_keys()
    base_config = effective_config(check_config_keys(BASE / "newsflow.toml", known, problems))
    checked.append("config keys of deploy/kubernetes/base/newsflow.toml")
    if COMPOSE_CONFIG.is_file():
        check_config_keys(COMPOSE_CONFIG, known, problems)
        checked.append("config keys of deploy/compose/newsflow.toml")

    secret_docs = load_docs(BASE / "secret.example.yaml")
    secret_keys = {key for doc in secret_docs for key in (doc.get("stringData") or doc.get("data") or {})}

    kustomizations = sorted(p.parent for p in K8S.rglob("kustomization.yaml"))
    built: dict[Path, list[dict[str, Any]]] = {}
    for directory in kustomizations:
        built[directory] = kustomize_resources(directory, problems)
        checked.append(f"kustomization {rel(directory)}: resources, generators, patches")

    raw_docs = [
        (rel(path), doc)
        for path in sorted(K8S.rglob("*.yaml"))
        if path.name != "kustomization.yaml"
        for doc in load_docs(path)
    ]
    for source, doc in raw_docs:
        env = get(doc, "spec", "template", "spec", "containers", default=[]) or []
        for container in env:
            for var in container.get("env", []) or []:
                check_env_name(source, var.get("name", ""), known, problems)
        if (doc.get("apiVersion"), doc.get("kind")) in CRD_KINDS and "spec" in doc and "patch" not in source:
            check_crd(source, doc, problems, [d for _, d in raw_docs])
    checked.append("required fields of ServiceMonitor, PrometheusRule, ScaledObject, TriggerAuthentication")

    if options.rendered:
        for item in options.rendered:
            name, _, file = item.partition("=")
            docs = load_docs(Path(file))
            for doc in docs:
                if (doc.get("apiVersion"), doc.get("kind")) in CRD_KINDS:
                    check_crd(f"rendered {name}", doc, problems, docs)
            check_set(f"rendered {name}", docs, base_config, secret_keys, problems)
            checked.append(f"rendered {name}: Deployment policy and cross-references")
    else:
        check_set("deploy/kubernetes/base", built.get(BASE, []), base_config, secret_keys, problems)
        checked.append("deploy/kubernetes/base (unrendered): Deployment policy and cross-references")

    for line in checked:
        print(f"  checked: {line}")
    if problems:
        unique = list(dict.fromkeys(problems))
        print(f"check-k8s: {len(unique)} problem(s):", file=sys.stderr)
        for problem in unique:
            print(f"  - {problem}", file=sys.stderr)
        return 1
    print("check-k8s: ok")
    return 0


if __name__ == "__main__":
    sys.exit(main())
