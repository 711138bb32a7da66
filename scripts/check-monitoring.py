#!/usr/bin/env python3
"""Checks of the monitoring and compose files beyond what promtool checks.

  check-monitoring.py

  * alerts (deploy/prometheus/alerts.yml): every alert has a severity label,
    a summary, a description and a runbook_url whose anchor is a heading of
    docs/runbook.md; every alert has a unit test in alerts.test.yml that
    expects it to fire, and some test expects no alert;
  * dashboard (deploy/grafana/newsflow-dashboard.json): valid JSON, a
    Prometheus `datasource` variable, `namespace` and `pod` variables from
    newsflow_build_info, every panel and query on ${datasource}, every query
    filtered by namespace and pod, unique panel ids, panels inside the grid;
  * Grafana provisioning: the datasource and dashboard providers parse, and
    the provider's path is where compose mounts the dashboard;
  * compose (deploy/docker-compose.yml): images pinned (no latest), bind
    mounts exist, newsflow's --config is the mounted file, Prometheus loads
    the rule file that is mounted, the build context has the Dockerfile.

Needs PyYAML. Exits 1 listing every problem.
"""

from __future__ import annotations

import json
import re
import sys
from pathlib import Path
from typing import Any

import yaml

ROOT = Path(__file__).resolve().parent.parent
DEPLOY = ROOT / "deploy"
ALERTS = DEPLOY / "prometheus/alerts.yml"
ALERT_TESTS = DEPLOY / "prometheus/alerts.test.yml"
PROMETHEUS = DEPLOY / "prometheus/prometheus.yml"
RUNBOOK = ROOT / "docs/runbook.md"
DASHBOARD = DEPLOY / "grafana/newsflow-dashboard.json"
PROVISIONING = DEPLOY / "grafana/provisioning"
COMPOSE = DEPLOY / "docker-compose.yml"


def rel(path: Path) -> str:
    return str(path.relative_to(ROOT))


def github_anchor(heading: str) -> str:
    """The anchor GitHub (and most Markdown renderers) give a heading."""
    text = heading.strip().lower()
    text = re.sub(r"[^\w\- ]", "", text)
    return text.replace(" ", "-")


def check_alerts(problems: list[str]) -> None:
    rules = yaml.safe_load(ALERTS.read_text(encoding="utf-8"))
    anchors = {
        github_anchor(line.lstrip("#"))
        for line in RUNBOOK.read_text(encoding="utf-8").splitlines()
        if line.startswith("#")
    }
    alerts: list[str] = []
    for group in rules.get("groups", []):
        for rule in group.get("rules", []):
            if "alert" not in rule:
                continue
            name = rule["alert"]
            alerts.append(name)
            where = f"{rel(ALERTS)}: {name}"
            if rule.get("labels", {}).get("severity") not in ("critical", "warning", "info"):
                problems.append(f"{where}: severity label must be critical, warning or info")
            annotations = rule.get("annotations", {})
            for key in ("summary", "description", "runbook_url"):
                if not str(annotations.get(key, "")).strip():
                    problems.append(f"{where}: annotation {key} is missing")
            url = str(annotations.get("runbook_url", ""))
            page, _, anchor = url.partition("#")
            if not page.endswith("docs/runbook.md") or not anchor:
                problems.append(f"{where}: runbook_url {url!r} must point to docs/runbook.md#<section>")
            elif anchor not in anchors:
                problems.append(f"{where}: docs/runbook.md has no section #{anchor}")
    if len(set(alerts)) != len(alerts):
        problems.append(f"{rel(ALERTS)}: duplicate alert names")

    tests = yaml.safe_load(ALERT_TESTS.read_text(encoding="utf-8"))
    if ALERTS.name not in tests.get("rule_files", []):
        problems.append(f"{rel(ALERT_TESTS)}: rule_files does not load {ALERTS.name}")
    fires: set[str] = set()
    silent = 0
    for test in tests.get("tests", []):
        for case in test.get("alert_rule_test", []):
            if case.get("exp_alerts"):
                fires.add(case.get("alertname"))
            else:
                silent += 1
    for name in alerts:
        if name not in fires:
            problems.append(f"{rel(ALERT_TESTS)}: no test makes {name} fire")
    if not silent:
        problems.append(f"{rel(ALERT_TESTS)}: no test checks that an alert stays silent")
    print(f"  checked: {len(alerts)} alerts have severity, summary, description, runbook section and a firing test")


def walk_panels(panels: list[dict[str, Any]]) -> list[dict[str, Any]]:
    out: list[dict[str, Any]] = []
    for panel in panels:
        out.append(panel)
        out.extend(walk_panels(panel.get("panels", []) or []))
    return out


def check_dashboard(problems: list[str]) -> None:
    where = rel(DASHBOARD)
    try:
        dashboard = json.loads(DASHBOARD.read_text(encoding="utf-8"))
    except json.JSONDecodeError as err:
        problems.append(f"{where}: not valid JSON: {err}")
        return
    for key in ("title", "uid", "panels", "templating", "schemaVersion"):
        if key not in dashboard:
            problems.append(f"{where}: missing {key}")
    if "__inputs" in dashboard:
        problems.append(f"{where}: has __inputs; use the datasource variable so provisioning works too")
    variables = {v.get("name"): v for v in dashboard.get("templating", {}).get("list", [])}
    ds = variables.get("datasource")
    if not ds or ds.get("type") != "datasource" or ds.get("query") != "prometheus":
        problems.append(f"{where}: needs a `datasource` variable of type datasource for prometheus")
    for name in ("namespace", "pod"):
        var = variables.get(name)
        query = json.dumps(var.get("query")) if var else ""
        if not var or var.get("type") != "query" or "newsflow_build_info" not in query:
            problems.append(f"{where}: needs a `{name}` query variable over newsflow_build_info")
        elif get_uid(var.get("datasource")) != "${datasource}":
            problems.append(f"{where}: variable {name} must query ${{datasource}}")

    panels = walk_panels(dashboard.get("panels", []))
    ids = [p.get("id") for p in panels]
    if len(ids) != len(set(ids)) or None in ids:
        problems.append(f"{where}: panel ids must be present and unique")
    queries = 0
    for panel in panels:
        title = panel.get("title", "?")
        grid = panel.get("gridPos", {})
        if not all(isinstance(grid.get(k), int) for k in ("h", "w", "x", "y")) or grid.get("x", 0) + grid.get("w", 0) > 24:
            problems.append(f"{where}: panel {title!r} has a bad gridPos {grid}")
        if panel.get("type") == "row":
            continue
        if get_uid(panel.get("datasource")) != "${datasource}":
            problems.append(f"{where}: panel {title!r} does not use ${{datasource}}")
        targets = panel.get("targets", [])
        if not targets:
            problems.append(f"{where}: panel {title!r} has no query")
        for target in targets:
            queries += 1
            expr = target.get("expr", "")
            if get_uid(target.get("datasource", panel.get("datasource"))) != "${datasource}":
                problems.append(f"{where}: a query of {title!r} does not use ${{datasource}}")
            if not expr:
                problems.append(f"{where}: panel {title!r} has an empty query")
            for selector in re.findall(r"\b(?:newsflow|process)_\w+(\{[^}]*\})?", expr):
                if 'namespace="$namespace"' not in selector or 'pod=~"$pod"' not in selector:
                    problems.append(f"{where}: panel {title!r}: a selector lacks the namespace/pod filter: {expr}")
                    break
            if expr.count("(") != expr.count(")"):
                problems.append(f"{where}: panel {title!r}: unbalanced parentheses: {expr}")
    print(f"  checked: dashboard JSON, variables, {len(panels)} panels, {queries} queries")


def get_uid(datasource: Any) -> str | None:
    if isinstance(datasource, dict):
        return datasource.get("uid")
    return datasource


def check_provisioning(problems: list[str], compose: dict[str, Any]) -> None:
    datasources = yaml.safe_load((PROVISIONING / "datasources/prometheus.yml").read_text(encoding="utf-8"))
    entries = datasources.get("datasources", [])
    if not any(d.get("type") == "prometheus" and "prometheus:9090" in d.get("url", "") for d in entries):
        problems.append(f"{rel(PROVISIONING)}: no Prometheus datasource at prometheus:9090")
    providers = yaml.safe_load((PROVISIONING / "dashboards/newsflow.yml").read_text(encoding="utf-8"))
    paths = [get(p, "options", "path") for p in providers.get("providers", [])]
    mounts = [str(v) for v in get(compose, "services", "grafana", "volumes", default=[])]
    for path in paths:
        if not any(m.split(":")[1].startswith(path) and m.split(":")[0].endswith(".json") for m in mounts):
            problems.append(f"{rel(PROVISIONING)}: dashboard provider path {path} is not where compose mounts the dashboard")
    print("  checked: Grafana provisioning (datasource, dashboard provider path)")


def get(node: Any, *path: str, default: Any = None) -> Any:
    for key in path:
        if not isinstance(node, dict) or key not in node:
            return default
        node = node[key]
    return node


def check_compose(problems: list[str]) -> dict[str, Any]:
    where = rel(COMPOSE)
    compose = yaml.safe_load(COMPOSE.read_text(encoding="utf-8"))
    services = compose.get("services", {})
    for name in ("kafka", "newsflow", "prometheus", "grafana"):
        if name not in services:
            problems.append(f"{where}: no {name} service")
    for name, service in services.items():
        image = service.get("image")
        if image:
            tag = image.rsplit("/", 1)[-1].partition(":")[2]
            if not tag and "@" not in image or tag == "latest":
                problems.append(f"{where}: service {name} image {image!r} is not pinned")
        elif "build" not in service:
            problems.append(f"{where}: service {name} has neither image nor build")
        for volume in service.get("volumes", []) or []:
            source = str(volume).split(":")[0]
            if source.startswith((".", "/")) and not (COMPOSE.parent / source).exists():
                problems.append(f"{where}: service {name} mounts {source}, which does not exist")
    newsflow = services.get("newsflow", {})
    context = COMPOSE.parent / get(newsflow, "build", "context", default=".")
    dockerfile = get(newsflow, "build", "dockerfile", default="Dockerfile")
    if not (context / dockerfile).is_file():
        problems.append(f"{where}: newsflow build context has no {dockerfile}")
    command = newsflow.get("command", [])
    mounted = {str(v).split(":")[1] for v in newsflow.get("volumes", []) or []}
    if "--config" not in command or command[command.index("--config") + 1] not in mounted:
        problems.append(f"{where}: newsflow's --config is not a mounted file")
    if str(newsflow.get("user", "")).split(":")[0] != "65532":
        problems.append(f"{where}: newsflow must run as 65532 like the image")
    prometheus = yaml.safe_load(PROMETHEUS.read_text(encoding="utf-8"))
    prom_mounts = {str(v).split(":")[1]: str(v).split(":")[0] for v in get(services, "prometheus", "volumes", default=[])}
    config_dir = Path("/etc/prometheus")
    for rule_file in prometheus.get("rule_files", []):
        target = str(config_dir / rule_file)
        if target not in prom_mounts:
            problems.append(f"{where}: Prometheus rule file {rule_file} is not mounted at {target}")
        elif (COMPOSE.parent / prom_mounts[target]).resolve() != ALERTS.resolve():
            problems.append(f"{where}: {target} is not deploy/prometheus/alerts.yml")
    targets = [t for job in prometheus.get("scrape_configs", []) for sc in job.get("static_configs", []) for t in sc.get("targets", [])]
    if "newsflow:9898" not in targets:
        problems.append(f"{rel(PROMETHEUS)}: does not scrape newsflow:9898")
    print("  checked: compose services, pinned images, mounts, config and rule file wiring")
    return compose


def main() -> int:
    problems: list[str] = []
    check_alerts(problems)
    check_dashboard(problems)
    compose = check_compose(problems)
    check_provisioning(problems, compose)
    if problems:
        print(f"check-monitoring: {len(problems)} problem(s):", file=sys.stderr)
        for problem in problems:
            print(f"  - {problem}", file=sys.stderr)
        return 1
    print("check-monitoring: ok")
    return 0


if __name__ == "__main__":
    sys.exit(main())
