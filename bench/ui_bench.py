"""UI benchmark: how long each page takes to render, cold (first run in the process: model,
index, graph and topics load) and warm (median and worst of the following runs), through
Streamlit's AppTest on a real catalogue; and the topic map on a synthetic field of 740K papers
(layout, sampling, WebGL figure, the JSON the browser receives) beside drawing every point.
Times are wall seconds with the process's CPU seconds beside them (on a shared machine the
CPU figure is the steadier one). Not run by the tests.

    python bench/ui_bench.py --data-dir /tmp/seed --data-dir /tmp/field   # pages, map
    python bench/ui_bench.py --map-only --points 740000                   # the map alone

A data directory holds a catalogue built by `speechgraph refresh --offline` (the seed) and, for
the field, `speechgraph import ../shared/corpus/speech-arxiv.jsonl.gz` and `speechgraph index`.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np

UI_DIR = Path(__file__).resolve().parent.parent / "ui"
sys.path.insert(0, str(UI_DIR))  # what `streamlit run` does for the app; the bench imports it too

from streamlit.testing.v1 import AppTest  # noqa: E402

from speechgraph.catalogue.queries import paper_count  # noqa: E402
from speechgraph.catalogue.store import open_db  # noqa: E402
from speechgraph.graph.clusters import Cluster, ClusterReport  # noqa: E402
from speechgraph.views.topic_map import map_layout, sample_map  # noqa: E402

VITS = "2106.06103"
HIFI_GAN = "2010.05646"
TIMEOUT = 900


def timed(action: Callable[[], object]) -> float:
    """Wall seconds of `action`, its CPU seconds noted in CPU_SECONDS."""
    cpu, started = time.process_time(), time.perf_counter()
    action()
    CPU_SECONDS.append(time.process_time() - cpu)
    return time.perf_counter() - started


CPU_SECONDS: list[float] = []


def page_runs(data_dir: Path, runs: int) -> list[tuple[str, float, list[float], list[float]]]:
    """(page, cold seconds, warm wall seconds, warm CPU seconds) per page and interaction."""
    os.environ["SPEECHGRAPH_DATA_DIR"] = str(data_dir)
    os.environ.pop("SPEECHGRAPH_DB_URL", None)
    app = AppTest.from_file(str(UI_DIR / "app.py"), default_timeout=TIMEOUT)
    app.query_params["id"] = VITS
    results = []

    def measure(name: str, action: Callable[[], object]) -> None:
        cold = timed(action)
        CPU_SECONDS.clear()
        warm = [timed(action) for _ in range(runs)]
        failed = [element.value for element in [*app.exception, *app.error]]
        if failed:
            raise SystemExit(f"{name}: {failed[0]}")
        results.append((name, cold, warm, list(CPU_SECONDS)))

    measure("search (no query)", lambda: app.switch_page("app_pages/search.py").run())
    measure(
        "search 'neural vocoder'", lambda: app.text_input(key="query").input("neural vocoder").run()
    )
    measure("search, lists scope", lambda: app.button_group(key="scope").set_value("lists").run())
    app.button_group(key="scope").set_value("field").run()
    measure("paper ?id=VITS", lambda: app.switch_page("app_pages/paper.py").run())
    measure(
        "paper picker 'hifi gan'", lambda: app.text_input(key="paper_query").input("hifi gan").run()
    )
    app.query_params["id"] = VITS
    measure("reading path ?id=VITS", lambda: app.switch_page("app_pages/reading_path.py").run())
    measure("topics (map + members)", lambda: app.switch_page("app_pages/topics.py").run())
    measure("catalogue (status, audit)", lambda: app.switch_page("app_pages/catalogue.py").run())
    return results


def synthetic_report(
    count: int, topics: int = 12, listed: int = 2000
) -> tuple[ClusterReport, set[str]]:
    """A clustering of `count` papers in `topics` Gaussian blobs of uneven sizes."""
    rng = np.random.default_rng(0)
    weights = np.arange(1, topics + 1, dtype=float)
    assignment = rng.choice(topics, size=count, p=weights / weights.sum())
    centres = rng.normal(0, 10, size=(topics, 2))
    xy = centres[assignment] + rng.normal(0, 1, size=(count, 2))
    ids = [f"{2000 + number // 100000}.{number % 100000:05d}" for number in range(count)]
    members: list[list[str]] = [[] for _ in range(topics)]
    for paper_id, topic in zip(ids, assignment.tolist(), strict=True):
        members[topic].append(paper_id)
    clusters = [Cluster(n, f"topic {n}", [], members[n]) for n in range(topics)]
    coordinates = {
        paper_id: (float(x), float(y)) for paper_id, (x, y) in zip(ids, xy.tolist(), strict=True)
    }
    report = ClusterReport(clusters, coordinates, "synthetic", None, None)
    return report, set(ids[:: max(1, count // listed)])


def map_bench(count: int) -> None:
    import plotly.graph_objects as go

    import ui_support

    started = time.perf_counter()
    report, listed = synthetic_report(count)
    print(f"\ntopic map, {count:,} synthetic papers in 12 topics, {len(listed):,} listed "
          f"(made in {time.perf_counter() - started:.1f} s)")  # fmt: skip
    layout_seconds = timed(lambda: map_layout(report, listed))
    layout = map_layout(report, listed)
    print(
        f"  layout (arrays from the clustering, once per catalogue version): {layout_seconds:.2f} s"
    )
    for scope in ("field", "lists"):
        sample_seconds = timed(lambda scope=scope: sample_map(layout, scope=scope))
        sample_cpu = CPU_SECONDS[-1]
        drawn = sample_map(layout, scope=scope)
        drawn.titles = [f"A title of some sixty characters for paper {i}" for i in drawn.ids]
        drawn.years = [2020] * drawn.shown
        figure_seconds = timed(lambda drawn=drawn: ui_support.topic_map_figure(drawn))
        figure_cpu = CPU_SECONDS[-1]
        figure = ui_support.topic_map_figure(drawn)
        json_seconds = timed(figure.to_json)
        json_cpu = CPU_SECONDS[-1]
        payload = figure.to_json()
        print(
            f"  {scope:5}: {drawn.shown:,} points of {drawn.total:,}; once per version: sample "
            f"{sample_seconds * 1000:.0f} ms ({sample_cpu * 1000:.0f} CPU), figure "
            f"{figure_seconds * 1000:.0f} ms ({figure_cpu * 1000:.0f} CPU); each view: JSON "
            f"{json_seconds * 1000:.0f} ms ({json_cpu * 1000:.0f} CPU), "
            f"{len(payload) / 1e6:.2f} MB to the browser"
        )
    started = time.perf_counter()
    xy = layout.xy
    everything = go.Figure(
        go.Scattergl(x=xy[:, 0], y=xy[:, 1], mode="markers", hovertext=layout.ids, hoverinfo="text")
    )
    size = len(everything.to_json())
    print(f"  every point drawn (ids as hover text only): {time.perf_counter() - started:.1f} s, "
          f"{size / 1e6:.1f} MB to the browser")  # fmt: skip


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data-dir", type=Path, action="append", default=[])
    parser.add_argument("--runs", type=int, default=5, help="warm runs per page")
    parser.add_argument("--points", type=int, default=740_000, help="papers on the synthetic map")
    parser.add_argument("--map-only", action="store_true")
    arguments = parser.parse_args()
    if not arguments.map_only:
        for data_dir in arguments.data_dir:
            store = open_db(f"sqlite:///{data_dir / 'speechgraph.db'}")
            papers = paper_count(store)
            store.dispose()
            print(f"\npages on {data_dir} ({papers:,} papers), {arguments.runs} warm runs each")
            print(
                f"  {'page':32} {'cold s':>8} {'warm median s':>14} {'warm max s':>11} "
                f"{'warm CPU median s':>18}"
            )
            for name, cold, warm, cpu in page_runs(data_dir, arguments.runs):
                print(
                    f"  {name:32} {cold:8.2f} {statistics.median(warm):14.3f} {max(warm):11.3f} "
                    f"{statistics.median(cpu):18.3f}"
                )
    map_bench(arguments.points)
    print(json.dumps({"cpus": os.cpu_count()}))


if __name__ == "__main__":
    main()
