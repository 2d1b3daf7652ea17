"""Benchmark report: a plain-text table for people, JSON for comparison over time."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any


def write_json(results: dict[str, Any], folder: Path) -> Path:
    """Write ``<date>-<HHMM>-<host>[-N].json`` into ``folder``; no run overwrites
    another's file."""
    folder.mkdir(parents=True, exist_ok=True)
    stamp = results["date"][:16].replace(" ", "-").replace(":", "")
    stem = f"{stamp}-{results['machine']['host'] or 'host'}"
    text = json.dumps(results, indent=1) + "\n"
    for number in range(1, 1000):
        path = folder / (stem + (f"-{number}" if number > 1 else "") + ".json")
        try:
            with open(path, "x", encoding="utf-8") as out:  # never replaces a file
                out.write(text)
            return path
        except FileExistsError:
            continue
    raise FileExistsError(f"{folder} holds 999 results named {stem}")


def table(results: dict[str, Any]) -> str:
    """Every figure of ``results`` as text, each section with its command."""
    lines = _header(results)
    for name, render in (
        ("requests", _requests),
        ("latency", _latency),
        ("idle", _idle),
        ("resources", _resources),
        ("idle_door", _idle_door),
        ("door", _door),
        ("lamp", _lamp),
    ):
        if name in results:
            lines += [
                "",
                *render(results[name]),
                f"  reproduce: {results['commands'][name]}",
            ]
    return "\n".join(lines)


def _header(results: dict[str, Any]) -> list[str]:
    m = results["machine"]
    lines = [
        f"ivs-accessory benchmarks, {results['date']} on {m['host']} "
        f"({m['cpu']}, {m['cores']} cores, Python {m['python']}, commit {m['commit']})",
        f"load average at start {_load(m['loadavg'])}, at end "
        f"{_load(results['machine_end']['loadavg'])}",
    ]
    if results.get("note"):
        lines.append(f"note: {results['note']}")
    return lines


def _load(values: list[float]) -> str:
    return " ".join(f"{v:.2f}" for v in values)


def _requests(section: dict[str, Any]) -> list[str]:
    lines = [
        f"Requests per action (VALT simulator, {section['latency_ms']:g} ms each)",
        f"  {'flow':<15}{'VALT':>7}{'vendor §6':>11}{'vendor replay':>15}"
        f"{'ours cold':>11}{'ours warm':>11}",
    ]
    for row in section["flows"]:
        lines.append(
            f"  {row['flow']:<15}{row['valt']:>7}{row['vendor_reference']:>11}"
            f"{row['vendor_replay']:>15}{row['ours_cold']:>11}{row['ours_warm']:>11}"
        )
    lines.append(
        "  cold: first input after start (room status read at start, user not "
        "cached); warm: user cached"
    )
    return lines


def _latency(section: dict[str, Any]) -> list[str]:
    lines = [
        f"Latency at the door (ms; {section['trials_per_action']} trials per action "
        f"and actor, interleaved; VALT {section['valt']}, "
        f"{section['latency_ms']:g} ms per request)",
        f"  {'':<32}{'ours warm':>19}{'ours cold':>19}{'ours typed':>19}{'vendor':>19}",
        f"  {'':<32}" + f"{'median':>10}{'p95':>9}" * 4,
    ]
    for kind in ("start", "stop"):
        rows = section[kind]
        for metric, words in _METRICS:
            cells = "".join(
                f"{rows[a][metric]['median_ms']:>10.1f}{rows[a][metric]['p95_ms']:>9.1f}"
                for a in ("ours_warm", "ours_cold", "ours_typed", "vendor")
            )
            lines.append(f"  {'PIN -> ' + kind:<13}{words:<19}" + cells)
        r = rows["ratios"]
        for metric, words in _METRICS[:3]:
            lines.append(
                f"  {'':<13}ratio {words[3:]:<13} warm "
                f"{r[f'ours_warm.{metric}.median_ms']:.2f} (p95 "
                f"{r[f'ours_warm.{metric}.p95_ms']:.2f}), cold "
                f"{r[f'ours_cold.{metric}.median_ms']:.2f} (p95 "
                f"{r[f'ours_cold.{metric}.p95_ms']:.2f}), typed "
                f"{r[f'ours_typed.{metric}.median_ms']:.2f} (p95 "
                f"{r[f'ours_typed.{metric}.p95_ms']:.2f})"
            )
    lines += [
        "  request: the action request reaches VALT; answered: VALT's answer to it",
        "  is back; shown: the result is shown at the door (the vendor first reads",
        "  room and user names for a log line); done: the vendor panel's timer too.",
        "  warm: user cached; cold: user looked up (user_cache_s = 0) after the PIN",
        "  arrives whole; typed: no cache either, keys 0.15 s apart, users fetched",
        "  while they are typed, timed from the last key. Target <= 0.3.",
    ]
    return lines


_METRICS = (
    ("to_request", "to request"),
    ("to_confirm", "to answered"),
    ("to_shown", "to shown"),
    ("to_end", "to done"),
)


def _idle(section: dict[str, Any]) -> list[str]:
    login = (
        "8-hour login included"
        if section.get("relogin_in_window")
        else f"{section['per_accessory_per_min_with_8h_relogin']:.3f} with the "
        "8-hour login"
    )
    return [
        f"Idle load ({section['accessories']} daemons, "
        f"{section['simulated_minutes']:g} simulated minutes in "
        f"{section['step_s']:g} s steps, {section['wall_s']:g} s wall)",
        f"  per accessory per minute: {section['per_accessory_per_min']:.3f} "
        f"({login}); vendor {section['vendor_per_accessory_per_min']} (§6.7)",
        f"  all {section['accessories']}: {section['total_per_min']:g} requests/min; "
        f"vendor {section['vendor_total_per_min']}",
        f"  start-up: {section['start_up_per_accessory']:g} requests per accessory "
        f"({', '.join(f'{k} {v}' for k, v in section['start_up_requests'].items())})",
    ]


def _idle_door(section: dict[str, Any]) -> list[str]:
    lines = [
        f"A door idle for an hour (user list and room status older than their "
        f"limits; VALT {section['valt']}, {section['latency_ms']:g} ms per request, "
        f"{section['trials']} trials each)",
        f"  {'flow':<24}{'requests':>10}{'round trips after':>19}"
        f"{'ms after last key, median':>27}{'max':>7}",
    ]
    for row in section["flows"]:
        lines.append(
            f"  {row['flow']:<24}{row['requests_max']:>10}"
            f"{row['round_trips_after_max']:>19}{row['ms_after_median']:>27.1f}"
            f"{row['ms_after_max']:>7.1f}"
        )
    lines.append(
        "  requests: all an input caused (while typing too), the most of any trial; "
        "round trips: after the last key or the swipe"
    )
    return lines


def _resources(section: dict[str, Any]) -> list[str]:
    lines = ["Resources"]
    if "ready" in section:
        r = section["ready"]
        lines.append(
            f"  process start -> READY=1 (page on): median {r['median_s']:.3f} s, max "
            f"{r['max_s']:.3f} s ({r['trials']} starts of `{r['command']}`)"
        )
        if "served_median_s" in r:
            lines.append(
                f"  process start -> first input can be served (logged in, room "
                f"read; {r['latency_ms']:g} ms per request): median "
                f"{r['served_median_s']:.3f} s, max {r['served_max_s']:.3f} s"
            )
    if "memory" in section:
        m = section["memory"]
        lines.append(
            f"  RSS: {m['rss_start_kib'] / 1024:.1f} MiB after start, "
            f"{m['rss_1k_kib'] / 1024:.1f} MiB after ~1 000 events, "
            f"{m['rss_end_kib'] / 1024:.1f} MiB after {m['events']} events "
            f"(growth {m['growth_1k_to_end_kib']} KiB)"
        )
    if "event_to_request" in section:
        e = section["event_to_request"]
        lines.append(
            f"  in-process emit -> request at VALT: median {e['median_ms']:.2f} ms, "
            f"p99 {e['p99_ms']:.2f} ms, max {e['max_ms']:.2f} ms ({e['n']} events)"
        )
    return lines


def _door(section: dict[str, Any]) -> list[str]:
    o, p = section["outcome_to_screen"], section["process"]
    a = p["answer"]
    return [
        f"The door page, {o['screens']} screens following it (event streams)",
        f"  GET /door: median {a['median_ms']:.2f} ms, p95 {a['p95_ms']:.2f} ms, "
        f"max {a['max_ms']:.2f} ms ({a['n']} answers, `ivs-accessory run`; "
        "target < 50 ms)",
        f"  outcome -> event at each screen: median {o['median_ms']:.2f} ms, p95 "
        f"{o['p95_ms']:.2f} ms, max {o['max_ms']:.2f} ms ({o['n']} = "
        f"{o['trials']} outcomes x {o['screens']} screens; target p95 <= 200 ms)",
        *_door_rss(p, "no light plugged in"),
        *(
            _door_rss(section["process_light"], "a light shown (busylight-core loaded)")
            if "process_light" in section
            else []
        ),
    ]


def _door_rss(p: dict[str, Any], light: str) -> list[str]:
    return [
        f"  RSS, page, door page and lamp on, {light}: "
        f"{p['rss_start_kib'] / 1024:.1f} MiB after start, "
        f"{p['rss_screens_kib'] / 1024:.1f} MiB with the screens, "
        f"{p['rss_end_kib'] / 1024:.1f} MiB after {p['events']} events "
        "(target <= 45 MB = 42.9 MiB)",
        f"    after {p['scrapes']} /metrics scrapes (prometheus_client loaded): "
        f"{p['rss_scraped_kib'] / 1024:.1f} MiB "
        f"({(p['rss_scraped_kib'] - p['rss_end_kib']) / 1024:+.1f} MiB)",
    ]


def _lamp(section: dict[str, Any]) -> list[str]:
    return [
        f"Outcome -> lamp ({section['trials']} PIN toggles, a light in memory; "
        f"{section['latency_ms']:g} ms per VALT request)",
        f"  outcome shown -> the lamp's write of its blink: median "
        f"{section['median_ms']:.2f} ms, p95 {section['p95_ms']:.2f} ms, max "
        f"{section['max_ms']:.2f} ms (target p95 <= 100 ms; the USB write comes on "
        "top)",
    ]
