#!/usr/bin/env python3
"""Check that every metric the dashboard and the alerts query is exported.

  dashboard_metrics.py DASHBOARD_JSON SCRAPE_FILE [--alerts RULES_YML ...]

Collects the metric names (those starting with `newsflow_` or `process_`)
from every PromQL expression in the Grafana dashboard (panel targets and
template variable queries) and in the Prometheus rule files (default:
deploy/prometheus/alerts.yml), and looks each one up in SCRAPE_FILE, a
/metrics scrape in the Prometheus text format ("-" reads standard input).
`_bucket`, `_sum` and `_count` names are satisfied by the histogram or
summary family they belong to.

Exits 1 listing the missing names, 0 when all are present. Standard library
only, so it runs anywhere a scrape can be taken.
"""

from __future__ import annotations

import argparse
import json
import re
import sys
from pathlib import Path
from typing import Iterator

ROOT = Path(__file__).resolve().parent.parent
DEFAULT_ALERTS = ROOT / "deploy/prometheus/alerts.yml"

METRIC = re.compile(r"(?<![A-Za-z0-9_:$])((?:newsflow|process)_[A-Za-z0-9_:]*[A-Za-z0-9_])")
HISTOGRAM_SUFFIXES = ("_bucket", "_sum", "_count")
# Keys in a dashboard that hold PromQL (panel targets, variable queries).
QUERY_KEYS = {"expr", "query", "definition"}


def strings_under(node: object, keys: set[str]) -> Iterator[str]:
    """Every string value stored under one of `keys`, at any depth."""
    if isinstance(node, dict):
        for key, value in node.items():
            if key in keys and isinstance(value, str):
                yield value
            else:
                yield from strings_under(value, keys)
    elif isinstance(node, list):
        for item in node:
            yield from strings_under(item, keys)


def without_strings(expr: str) -> str:
    """Drop quoted label values so that `pod=~"newsflow_x"` is not a metric."""
    return re.sub(r'"(?:[^"\\]|\\.)*"|\'(?:[^\'\\]|\\.)*\'|`[^`]*`', '""', expr)


def names_in(expr: str) -> set[str]:
    return set(METRIC.findall(without_strings(expr)))


def dashboard_exprs(path: Path) -> list[str]:
    dashboard = json.loads(path.read_text(encoding="utf-8"))
    # A dashboard exported "for sharing externally" wraps the model.
    if "dashboard" in dashboard and "panels" not in dashboard:
        dashboard = dashboard["dashboard"]
    return list(strings_under(dashboard, QUERY_KEYS))


def rule_exprs(path: Path) -> list[str]:
    """The `expr:` values of a Prometheus rule file, without a YAML library.

    Handles plain one-line values and block scalars (`|`, `>`, with
    indicators); rule files need nothing else for expressions.
    """
    exprs: list[str] = []
    lines = path.read_text(encoding="utf-8").splitlines()
    index = 0
    while index < len(lines):
        match = re.match(r"^(\s*)(?:-\s+)?expr:\s*(.*)$", lines[index])
        index += 1
        if not match:
            continue
        indent = len(match.group(1))
        value = match.group(2).strip()
        if value[:1] in ("|", ">"):
            block: list[str] = []
            while index < len(lines) and (
                not lines[index].strip() or len(lines[index]) - len(lines[index].lstrip()) > indent
            ):
                block.append(lines[index])
                index += 1
            exprs.append("\n".join(block))
        else:
            exprs.append(value)
    return exprs


def scraped(text: str) -> tuple[set[str], set[str]]:
    """Sample names, and the families declared histogram or summary."""
    samples: set[str] = set()
    grouped: set[str] = set()
    for line in text.splitlines():
        line = line.strip()
        if not line:
            continue
        if line.startswith("#"):
            parts = line.split()
            if len(parts) >= 4 and parts[1] == "TYPE":
                if parts[3] in ("histogram", "summary", "gaugehistogram"):
                    grouped.add(parts[2])
                elif parts[3] != "unknown":
                    # A declared family with no samples yet still exists.
                    samples.add(parts[2])
            continue
        match = re.match(r"^([A-Za-z_:][A-Za-z0-9_:]*)", line)
        if match:
            samples.add(match.group(1))
    return samples, grouped


def present(name: str, samples: set[str], grouped: set[str]) -> bool:
    if name in samples:
        return True
    for suffix in HISTOGRAM_SUFFIXES:
        if name.endswith(suffix) and name[: -len(suffix)] in grouped:
            return True
    return name in grouped


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("dashboard", type=Path)
    parser.add_argument("scrape", help='a /metrics scrape in the text format, or "-" for stdin')
    parser.add_argument(
        "--alerts",
        type=Path,
        action="append",
        help=f"a Prometheus rule file to check too (default: {DEFAULT_ALERTS.relative_to(ROOT)})",
    )
    parser.add_argument("--verbose", "-v", action="store_true", help="list every name checked")
    options = parser.parse_args()

    used: dict[str, set[str]] = {}
    for expr in dashboard_exprs(options.dashboard):
        for name in names_in(expr):
            used.setdefault(name, set()).add(options.dashboard.name)
    for rules in options.alerts or [DEFAULT_ALERTS]:
        for expr in rule_exprs(rules):
            for name in names_in(expr):
                used.setdefault(name, set()).add(rules.name)
    if not used:
        print("dashboard_metrics: no newsflow_ or process_ metric found in the queries", file=sys.stderr)
        return 1

    text = sys.stdin.read() if options.scrape == "-" else Path(options.scrape).read_text(encoding="utf-8")
    samples, grouped = scraped(text)
    missing = sorted(name for name in used if not present(name, samples, grouped))
    if options.verbose:
        for name in sorted(used):
            mark = "MISSING" if name in missing else "ok"
            print(f"  {mark:7} {name}  ({', '.join(sorted(used[name]))})")
    if missing:
        print(
            f"dashboard_metrics: {len(missing)} of {len(used)} metric(s) used by the dashboard "
            f"or alerts are not in {options.scrape}:",
            file=sys.stderr,
        )
        for name in missing:
            print(f"  - {name}  (used in {', '.join(sorted(used[name]))})", file=sys.stderr)
        return 1
    print(f"dashboard_metrics: all {len(used)} metrics used by the dashboard and alerts are exported")
    return 0


if __name__ == "__main__":
    sys.exit(main())
