"""Counters and histograms in Prometheus' text format, cheap enough for the hot path.

Each worker process counts in memory; `snapshot()` gives plain numbers that `render()` writes as
Prometheus text. Several workers publish their snapshots to files that any worker sums on /metrics
(see `segpixel.edge.metrics_export`).
"""

from __future__ import annotations

from bisect import bisect_left
from collections import defaultdict
from dataclasses import dataclass, field
from typing import Any

LATENCY_BUCKETS = (0.0005, 0.001, 0.002, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0)
SIZE_BUCKETS = (1, 2, 5, 10, 25, 50, 100, 250, 500, 1000, 2500)


@dataclass
class Counter:
    name: str
    help: str
    values: defaultdict[tuple[tuple[str, str], ...], float] = field(
        default_factory=lambda: defaultdict(float)
    )

    def inc(self, amount: float = 1.0, **labels: str) -> None:
        self.values[tuple(sorted(labels.items()))] += amount

    def labelled(self, **labels: str) -> BoundCounter:
        """A counter with fixed labels, for the hot path: no label sorting per call."""
        return BoundCounter(self.values, tuple(sorted(labels.items())))


class BoundCounter:
    __slots__ = ("key", "values")

    def __init__(self, values: defaultdict[tuple[tuple[str, str], ...], float], key: tuple):
        self.values = values
        self.key = key
        values[key] += 0  # shows in /metrics from the start, as 0

    def inc(self, amount: float = 1.0) -> None:
        self.values[self.key] += amount


@dataclass
class Histogram:
    name: str
    help: str
    buckets: tuple[float, ...]
    counts: list[int] = field(default_factory=list)
    total: float = 0.0
    n: int = 0

    def __post_init__(self) -> None:
        self.counts = [0] * (len(self.buckets) + 1)

    def observe(self, value: float) -> None:
        self.counts[bisect_left(self.buckets, value)] += 1
        self.total += value
        self.n += 1


class Registry:
    def __init__(self) -> None:
        self.counters: dict[str, Counter] = {}
        self.histograms: dict[str, Histogram] = {}
        # name -> (help, callable returning a number, how workers' values merge: sum | max)
        self.gauges: dict[str, tuple[str, Any, str]] = {}

    def counter(self, name: str, help: str) -> Counter:
        return self.counters.setdefault(name, Counter(name, help))

    def histogram(self, name: str, help: str, buckets: tuple[float, ...]) -> Histogram:
        return self.histograms.setdefault(name, Histogram(name, help, buckets))

    def gauge(self, name: str, help: str, read: Any, merge: str = "sum") -> None:
        """`merge="max"` for what every worker measures of one shared thing (a file's size)."""
        self.gauges[name] = (help, read, merge)

    def snapshot(self) -> dict[str, Any]:
        """Plain data: summable across worker processes."""
        return {
            "counters": {
                c.name: {"help": c.help, "values": [[list(k), v] for k, v in c.values.items()]}
                for c in self.counters.values()
            },
            "histograms": {
                h.name: {
                    "help": h.help,
                    "buckets": list(h.buckets),
                    "counts": list(h.counts),
                    "sum": h.total,
                    "count": h.n,
                }
                for h in self.histograms.values()
            },
            "gauges": {
                name: {"help": help, "value": read(), "merge": how}
                for name, (help, read, how) in self.gauges.items()
            },
        }


def merge(snapshots: list[dict[str, Any]]) -> dict[str, Any]:
    """Sum counters, histograms and gauges of several workers."""
    out: dict[str, Any] = {"counters": {}, "histograms": {}, "gauges": {}}
    for snap in snapshots:
        for name, c in snap.get("counters", {}).items():
            target = out["counters"].setdefault(name, {"help": c["help"], "values": {}})
            for labels, value in c["values"]:
                key = tuple(tuple(pair) for pair in labels)
                target["values"][key] = target["values"].get(key, 0) + value
        for name, h in snap.get("histograms", {}).items():
            target = out["histograms"].setdefault(
                name,
                {
                    "help": h["help"],
                    "buckets": h["buckets"],
                    "counts": [0] * len(h["counts"]),
                    "sum": 0.0,
                    "count": 0,
                },
            )
            target["counts"] = [a + b for a, b in zip(target["counts"], h["counts"], strict=False)]
            target["sum"] += h["sum"]
            target["count"] += h["count"]
        for name, g in snap.get("gauges", {}).items():
            how = g.get("merge", "sum")
            target = out["gauges"].setdefault(name, {"help": g["help"], "value": 0, "merge": how})
            if how == "max":
                target["value"] = max(target["value"], g["value"])
            else:
                target["value"] += g["value"]
    for c in out["counters"].values():
        c["values"] = [[list(k), v] for k, v in c["values"].items()]
    return out


def render(snapshot: dict[str, Any]) -> str:
    lines: list[str] = []
    for name, c in sorted(snapshot["counters"].items()):
        lines += [f"# HELP {name} {c['help']}", f"# TYPE {name} counter"]
        if not c["values"]:
            lines.append(f"{name} 0")
        for labels, value in c["values"]:
            lines.append(f"{name}{_labels(labels)} {_num(value)}")
    for name, h in sorted(snapshot["histograms"].items()):
        lines += [f"# HELP {name} {h['help']}", f"# TYPE {name} histogram"]
        running = 0
        for bound, count in zip(h["buckets"], h["counts"], strict=False):
            running += count
            lines.append(f'{name}_bucket{{le="{bound}"}} {running}')
        lines.append(f'{name}_bucket{{le="+Inf"}} {h["count"]}')
        lines += [f"{name}_sum {_num(h['sum'])}", f"{name}_count {h['count']}"]
    for name, g in sorted(snapshot["gauges"].items()):
        lines += [
            f"# HELP {name} {g['help']}",
            f"# TYPE {name} gauge",
            f"{name} {_num(g['value'])}",
        ]
    return "\n".join(lines) + "\n"


def _labels(pairs: list[list[str]] | list[tuple[str, str]]) -> str:
    if not pairs:
        return ""
    inner = ",".join(f'{k}="{_escape(v)}"' for k, v in pairs)
    return "{" + inner + "}"


def _escape(value: str) -> str:
    return str(value).replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n")


def _num(value: float) -> str:
    return str(int(value)) if float(value).is_integer() else repr(float(value))
