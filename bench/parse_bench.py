"""List-parsing benchmark: throughput (MB/s) and peak memory of `parse_reading_list`, and of
`read_list_file` + parse, on big realistic lists and on hostile inputs. Not run by the tests.

Realistic lists repeat the five seed lists (read from ../shared/seeds at run time) with every
arXiv id made distinct and every heading numbered, plus a block per copy with nested bullets, a
table, a prose citation and bare URLs. Each case runs in its own process, so its peak RSS is
its own; a case that runs past --timeout is reported as not finished.

    python bench/parse_bench.py                     # 1, 4, 16 and 50 MB, then the hostile inputs
    python bench/parse_bench.py --sizes 1 4 --no-hostile
    python bench/parse_bench.py --hostile-only --timeout 30
"""

from __future__ import annotations

import argparse
import itertools
import json
import re
import resource
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from pathlib import Path

MB = 1024 * 1024
SEEDS_DIR = Path(__file__).resolve().parents[2] / "shared" / "seeds"
_NEW_ID = re.compile(r"(?<![\d.])\d{4}\.\d{4,5}(?![\d])")
_HEADING = re.compile(r"^(#{1,6} .*?)\s*$", re.M)


def _arxiv_ids() -> Iterator[str]:
    """Distinct, well-formed new-style ids: 1501.00000 onwards, five digits each."""
    for number in itertools.count():
        year, rest = divmod(number, 12 * 100_000)
        month, serial = divmod(rest, 100_000)
        yield f"{15 + year % 10:02d}{month + 1:02d}.{serial:05d}"


def _extra_block(copy: int, ids: Iterator[str]) -> str:
    first, second, third, fourth = (next(ids) for _ in range(4))
    return (
        f"\n## Extra material {copy}\n\n"
        f"* **Group {copy}**\n"
        f"   * Smith, J., & Doe, A. (20{copy % 25:02d}). A synthetic study number {copy} of "
        f"speech models. In ICASSP. IEEE. arXiv preprint arXiv:{first}.\n"
        f"   * see https://arxiv.org/abs/{second} and https://github.com/example/repo{copy}\n"
        f"      * [Follow-up {copy}](https://arxiv.org/pdf/{third}v2) "
        f"[[code]](https://github.com/example/follow{copy})\n"
        f"         * https://doi.org/10.1000/bench.{copy}\n"
        f"* named method {copy % 7}\n\n"
        "| Year | Model | Paper |\n|---|---|---|\n"
        f"| 2020 | Model {copy} | [Authors et al.](https://arxiv.org/abs/{fourth}) |\n"
        f"| 2021 | System {copy} (Lab, 2021) | - |\n\n"
    )


def realistic_list(size: int) -> str:
    """At least `size` bytes (UTF-8) of seed-shaped Markdown with distinct arXiv ids."""
    seeds = [path.read_text(encoding="utf-8") for path in sorted(SEEDS_DIR.glob("*.txt"))]
    if not seeds:
        sys.exit(f"no seed lists in {SEEDS_DIR}: run from a checkout next to ../shared")
    ids = _arxiv_ids()
    parts, total = [], 0
    for copy in itertools.count():
        for seed in seeds:
            text = _NEW_ID.sub(lambda _: next(ids), seed)
            text = _HEADING.sub(lambda match, n=copy: f"{match.group(1)} {n}", text)
            parts.append(text + _extra_block(copy, ids))
            total += len(parts[-1].encode("utf-8"))
        if total >= size:
            return "".join(parts)
    raise AssertionError("unreachable")


def _nested_bullets(count: int, depth: int) -> str:
    lines = []
    for index in range(count):
        level = index % depth
        lines.append(f"{'  ' * level}- item {index} [x](https://arxiv.org/abs/1706.03762)\n")
    return "".join(lines)


HOSTILE: dict[str, Callable[[], str]] = {
    "one 10 MB line of links": lambda: (
        "- "
        + "[Paper](https://arxiv.org/abs/1706.03762) and **bold** (see https://x.org/y) " * 125_000
    ),
    "100k nested bullets (depth 0-99)": lambda: _nested_bullets(100_000, 100),
    "1 MB of [": lambda: "[" * MB,
    "1 MB of ( after a link text": lambda: "[x](" + "(" * MB,
    "1 MB of *": lambda: "*" * MB,
    "1 MB of [x]( nested": lambda: "[x](" * (MB // 4),
    "links nested 100k deep": lambda: (
        "[" * 100_000 + "x" + "](https://arxiv.org/abs/1706.03762)" * 100_000
    ),
    "heading with 1 MB of spaces": lambda: "# a" + " " * MB + "b\n",
    "table separator with 1 MB of spaces": lambda: "| a | b |\n|" + " " * MB + "x\n",
    "citation with a 1 MB word": lambda: "- Smith, J. (2020). Title. In ICASSP. " + "A" * MB,
    "citation with 1 MB of a.a.a": lambda: "- Smith, J. (2020). Title. In ICASSP. " + "a." * MB,
    "citation with 1 MB of A-A-A": lambda: "- Smith, J. (2020). Title. In ICASSP. " + "A-" * MB,
    "1 MB of open quotes": lambda: "- Smith, J. (2020). In ICASSP. " + "“" * (MB // 3),
    "1 MB of <img without >": lambda: "<img src=x " * (MB // 11),
    "1 MB of <a href> without </a>": lambda: '<a href="https://x.org">t ' * (MB // 26),
    "link text broken over 200k lines": lambda: "- [" * 200_000 + "\n" + "x]\n" * 200_000,
    "bullet with 200k continuation lines": lambda: "- start\n" + "   more text\n" * 200_000,
    "1 MB of random bytes": lambda: "".join(
        chr(byte) for byte in __import__("random").Random(7).randbytes(MB)
    ),
}


def _memory_kb(field: str) -> int:
    """VmRSS or VmHWM (peak) of this process in kB. ru_maxrss would not do: on Linux it keeps
    the peak of the parent that forked the child, which generated the big lists."""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith(field + ":"):
            return int(line.split()[1])
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss


def _run_case(path: Path) -> dict[str, float | int | str]:
    """In the child: read and parse one list, timing each step and the peak memory."""
    from speechgraph.errors import ReadingListError
    from speechgraph.lists.parser import parse_reading_list
    from speechgraph.lists.registry import read_list_file

    base_kb = _memory_kb("VmRSS")
    started = time.perf_counter()
    try:
        text = read_list_file(path)
    except ReadingListError as error:
        return {"refused": str(error)}
    read_s = time.perf_counter() - started
    started, cpu_started = time.perf_counter(), time.process_time()
    parsed = parse_reading_list(text, path.stem)
    parse_s, cpu_s = time.perf_counter() - started, time.process_time() - cpu_started
    peak_kb = _memory_kb("VmHWM")
    resources = len(parsed.resources) + sum(len(m.resources) for m in parsed.mentions)
    return {
        "read_s": read_s,
        "parse_s": parse_s,
        "cpu_s": cpu_s,
        "mentions": len(parsed.mentions),
        "resources": resources,
        "peak_mb": (peak_kb - base_kb) / 1024,
    }


def _measure(path: Path, timeout: float) -> dict[str, float | int | str] | None:
    command = [sys.executable, __file__, "--one", str(path)]
    try:
        done = subprocess.run(command, capture_output=True, text=True, timeout=timeout, check=True)
    except subprocess.TimeoutExpired:
        return None
    return dict(json.loads(done.stdout.splitlines()[-1]))


def _report(label: str, path: Path, timeout: float) -> float | None:
    """Print one case's line; return its parse seconds per MB (None if it did not finish)."""
    size_mb = path.stat().st_size / MB
    result = _measure(path, timeout)
    if result is None:
        print(f"{label:36} {size_mb:6.1f} MB  did not finish in {timeout:.0f} s", flush=True)
        return None
    if "refused" in result:
        print(f"{label:36} {size_mb:6.1f} MB  refused: {result['refused']}", flush=True)
        return None
    parse_s, read_s = float(result["parse_s"]), float(result["read_s"])
    cpu_s, peak = float(result["cpu_s"]), float(result["peak_mb"])
    print(
        f"{label:36} {size_mb:6.1f} MB  parse {parse_s:6.2f} s {size_mb / parse_s:5.2f} MB/s"
        f" (cpu {cpu_s:6.2f} s {size_mb / max(cpu_s, 1e-9):5.2f} MB/s)"
        f"  read+parse {read_s + parse_s:6.2f} s {size_mb / (read_s + parse_s):5.2f} MB/s"
        f"  peak {peak:6.0f} MB ({peak / size_mb:4.1f}x)  mentions {result['mentions']}",
        flush=True,
    )
    return parse_s / size_mb


def main() -> None:
    options = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    options.add_argument("--sizes", type=float, nargs="*", default=[1, 4, 16, 50])
    options.add_argument("--timeout", type=float, default=120.0, help="seconds per case")
    options.add_argument("--no-hostile", action="store_true")
    options.add_argument("--hostile-only", action="store_true")
    options.add_argument("--one", type=Path, help=argparse.SUPPRESS)
    arguments = options.parse_args()
    if arguments.one:
        print(json.dumps(_run_case(arguments.one)))
        return
    with tempfile.TemporaryDirectory() as folder:
        if not arguments.hostile_only:
            print("realistic lists (seed structure, distinct arXiv ids)")
            per_mb: dict[float, float | None] = {}
            for size in arguments.sizes:
                path = Path(folder) / f"list-{size:g}mb.md"
                path.write_text(realistic_list(int(size * MB)), encoding="utf-8")
                per_mb[size] = _report(f"{size:g} MB list", path, arguments.timeout)
            smallest = per_mb[min(per_mb)]
            for size, seconds in per_mb.items():
                if size != min(per_mb) and smallest and seconds:
                    print(
                        f"  seconds per MB at {size:g} MB / at {min(per_mb):g} MB: "
                        f"{seconds / smallest:.2f} (1.00 is linear)"
                    )
        if not arguments.no_hostile:
            print("hostile inputs")
            for label, make in HOSTILE.items():
                path = Path(folder) / "hostile.md"
                path.write_text(make(), encoding="utf-8", errors="surrogatepass")
                _report(label, path, arguments.timeout)


if __name__ == "__main__":
    main()
