"""contrib/prometheus/: promtool checks the scrape config, the alert rules and their
unit tests; the dashboard's queries parse and name only documented metrics."""

from __future__ import annotations

import json
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
CONTRIB = ROOT / "contrib" / "prometheus"
RULES = CONTRIB / "ivs-accessory.rules.yml"
DASHBOARD = CONTRIB / "grafana-dashboard.json"
# The alerts issue 14 asks for, by the names the rules give them.
REQUIRED_ALERTS = {
    "IvsKeypadDown",
    "IvsKeypadValtLoginFailing",
    "IvsKeypadInputDisconnected",
    "IvsKeypadNetworkTrialPending",
}
NAME = re.compile(r"\bivs_accessory_[a-z_]+")
HISTOGRAM_PARTS = ("_bucket", "_sum", "_count")


def find_promtool() -> str | None:
    """promtool on PATH (Debian's prometheus package) or in the virtual environment
    (scripts/setup-promtool unpacks it there)."""
    beside = Path(sys.executable).with_name("promtool")
    return shutil.which("promtool") or (str(beside) if beside.exists() else None)


@pytest.fixture(scope="module")
def promtool() -> str:
    found = find_promtool()
    if found is None:
        pytest.skip(
            "promtool not found: scripts/setup-promtool unpacks it from Debian's "
            "prometheus package (it needs the package lists, or root to update them)"
        )
    return found


def run(promtool: str, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [promtool, *args], capture_output=True, text=True, timeout=120, cwd=CONTRIB
    )


def documented() -> set[str]:
    """The metric names in README.md's table (Fleet monitoring)."""
    text = (ROOT / "README.md").read_text()
    return set(re.findall(r"^\| `(ivs_accessory_[a-z_]+)` \|", text, re.MULTILINE))


def base_name(name: str) -> str:
    for part in HISTOGRAM_PARTS:
        if name.endswith("_seconds" + part):
            return name[: -len(part)]
    return name


def dashboard_queries() -> list[str]:
    panels = json.loads(DASHBOARD.read_text())["panels"]
    return [target["expr"] for panel in panels for target in panel["targets"]]


def test_promtool_checks_the_scrape_config_its_rules_and_targets(promtool):
    done = run(promtool, "check", "config", "prometheus.yml")
    assert done.returncode == 0, done.stdout + done.stderr
    assert "1 rule files found" in done.stdout


def test_promtool_checks_the_rules(promtool):
    done = run(promtool, "check", "rules", RULES.name)
    assert done.returncode == 0, done.stdout + done.stderr


def test_promtool_runs_the_alerts_unit_tests(promtool):
    done = run(promtool, "test", "rules", "tests.yml")
    assert done.returncode == 0, done.stdout + done.stderr
    assert "SUCCESS" in done.stdout


def test_the_alert_tests_fail_when_an_alert_fires_too_soon(promtool, tmp_path):
    # The unit tests can fail: with "for: 10m" shortened, the input alert fires at 9m.
    for name in ("tests.yml", RULES.name):
        shutil.copy(CONTRIB / name, tmp_path / name)
    rules = tmp_path / RULES.name
    rules.write_text(rules.read_text().replace("for: 10m", "for: 3m"))
    done = subprocess.run(
        [promtool, "test", "rules", "tests.yml"],
        capture_output=True,
        text=True,
        timeout=120,
        cwd=tmp_path,
    )
    assert done.returncode != 0
    assert "IvsKeypadInputDisconnected" in done.stdout + done.stderr


def test_the_issues_alerts_are_there():
    alerts = set(re.findall(r"^\s+- alert: (\w+)$", RULES.read_text(), re.MULTILINE))
    assert alerts >= REQUIRED_ALERTS


def test_the_dashboard_queries_are_valid_promql(promtool, tmp_path):
    # promtool has no query checker; recording rules are parsed as PromQL. Grafana's
    # variables get values as Grafana would put them in.
    rules = [
        {
            "record": f"dashboard_query_{index}",
            "expr": expr.replace("$__rate_interval", "2m").replace("$room", ".*"),
        }
        for index, expr in enumerate(dashboard_queries())
    ]
    path = tmp_path / "dashboard-queries.yml"  # JSON is YAML
    path.write_text(json.dumps({"groups": [{"name": "dashboard", "rules": rules}]}))
    done = run(promtool, "check", "rules", str(path))
    assert done.returncode == 0, done.stdout + done.stderr


def test_rules_and_dashboard_name_only_documented_metrics():
    names = documented()
    assert "ivs_accessory_valt_up" in names  # the README table was found
    used = set(NAME.findall(RULES.read_text())) | {
        name for expr in dashboard_queries() for name in NAME.findall(expr)
    }
    assert {base_name(n) for n in used} - names == set()
