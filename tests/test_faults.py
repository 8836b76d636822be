"""Fault tests on real processes and real files: `refresh`, `import`, `harvest` and `index` killed
with SIGKILL at seeded random points of their writing (at least 10 kills each), and two writers
started at once.

After every kill the catalogue is readable, sound (SQLite's checks, no row twice, no paper half
written) and holds either what it held before or a state the run passes through. A rerun from
each kind of state the kills leave must complete and leave exactly what one run without kills
leaves: the same rows, the same index, the same files. Kill points are drawn, one in each tenth,
from the time the uninterrupted run held the writer lock.
"""

from __future__ import annotations

import gzip
import itertools
import random
import subprocess
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

from conftest import SHARED_DIR, make_settings
from fake_oai import FakeOai, load_corpus
from faults import (
    Finished,
    Kill,
    assert_same_index,
    catalogue_rows,
    catalogue_version,
    check_sound,
    child_environment,
    copy_data_dir,
    file_listing,
    holder_pid,
    index_state,
    paper_ids,
    papers_are_whole,
    run,
    run_and_kill,
    run_timed,
    speechgraph,
)
from speechgraph.catalogue.queries import load_papers
from speechgraph.catalogue.store import open_db
from speechgraph.config import Settings
from speechgraph.search.hybrid import Searcher
from speechgraph.update.importer import import_metadata
from speechgraph.update.lists import remove_reading_list

pytestmark = pytest.mark.slow

CORPUS = SHARED_DIR / "corpus" / "speech-arxiv.jsonl.gz"
KILLS = 10  # kills that must land (the child still running) per command
MAX_RUNS = 30  # runs per command at most, kills and completed reruns together


@dataclass
class Scenario:
    """A writer command, the data directory it starts from, and what a kill may leave."""

    name: str
    arguments: list[str]
    start: Path
    environment: dict[str, str]
    seed: int
    check_killed: Callable[[Path, Scenario], None] = lambda _directory, _scenario: None
    before: dict[str, Any] = field(default_factory=dict)
    after: dict[str, Any] = field(default_factory=dict)

    def command(self, data_dir: Path) -> list[str]:
        return speechgraph(data_dir, *self.arguments)


@dataclass
class KillReport:
    kills: list[Kill]
    writing_seconds: float
    reruns: int  # reruns to the end from what a kill left, one per kind of state
    seconds: float

    def describe(self) -> str:
        landed = [kill for kill in self.kills if kill.killed]
        points = "; ".join(f"{kill.delay:.2f} s: {kill.left}" for kill in landed)
        return (
            f"{len(landed)} kills in {self.writing_seconds:.2f} s of writing [{points}]; "
            f"{self.reruns} reruns from the kinds of state the kills left, all equal to the "
            f"uninterrupted run; {self.seconds:.0f} s in all"
        )


def settle(scenario: Scenario, reference: Path) -> None:
    """What a run without kills leaves, kept on the scenario for the comparisons."""
    scenario.before = {"rows": catalogue_rows(scenario.start), "ids": paper_ids(scenario.start)}
    scenario.after = {
        "rows": catalogue_rows(reference),
        "index": index_state(reference),
        "files": file_listing(reference),
    }


def assert_like_reference(data_dir: Path, scenario: Scenario) -> None:
    check_sound(data_dir)
    assert catalogue_rows(data_dir) == scenario.after["rows"]
    state = index_state(data_dir)
    assert_same_index(state, scenario.after["index"])
    assert state["keywords_version"] == catalogue_version(data_dir)
    assert file_listing(data_dir) == scenario.after["files"]


def assert_readable(data_dir: Path, scenario: Scenario) -> None:
    """A reader opens what a kill left: papers load, a keyword search answers; the catalogue
    is sound and the indexes are behind it at most."""
    settings = make_settings(data_dir)
    store = open_db(settings.db_url, create=False)
    try:
        assert load_papers(store)
        with Searcher(settings, store) as searcher:
            searcher.search("speech recognition", 5, "lexical")
    finally:
        store.dispose()
    check_sound(data_dir)
    papers_are_whole(catalogue_rows(data_dir), scenario.before["rows"], scenario.after["rows"])
    state = index_state(data_dir)
    assert state["keywords_version"] is not None
    assert state["keywords_version"] <= catalogue_version(data_dir)
    if state["vectors"] is not None:
        assert set(state["vectors"]) <= paper_ids(data_dir) | scenario.before["ids"]


def exercise_kills(scenario: Scenario, work: Path) -> KillReport:
    """Kill the command at seeded random points until KILLS kills landed, each run starting
    from the scenario's start. After each kill, what is left is checked; from each kind of state
    a kill leaves (`what_is_left`), a rerun must complete and leave what the uninterrupted run
    left. A run that ends before its kill point is held to that too."""
    began = time.monotonic()
    reference = work.with_name(work.name + "-reference")
    copy_data_dir(scenario.start, reference)
    uninterrupted = run_timed(scenario.command(reference), scenario.environment, reference)
    assert uninterrupted.code == 0, uninterrupted.stderr
    assert uninterrupted.writing_seconds is not None
    settle(scenario, reference)
    points = kill_points(scenario.seed, uninterrupted.writing_seconds)
    kills: list[Kill] = []
    rerun_from: set[str] = set()
    while sum(kill.killed for kill in kills) < KILLS:
        assert len(kills) < MAX_RUNS, "the kills keep missing the run: " + describe(kills)
        copy_data_dir(scenario.start, work)
        kill = run_and_kill(scenario.command(work), scenario.environment, work, next(points))
        kills.append(kill)
        if not kill.killed:
            assert kill.code == 0, kill.stderr
            assert_like_reference(work, scenario)
            continue
        assert kill.code == -9
        assert_readable(work, scenario)
        scenario.check_killed(work, scenario)
        kill.left = what_is_left(work, scenario)
        if kill.left not in rerun_from:
            rerun_from.add(kill.left)
            rerun = run(scenario.command(work), scenario.environment)
            assert rerun.code == 0, rerun.stderr
            assert "Traceback" not in rerun.stderr
            assert_like_reference(work, scenario)
    seconds = time.monotonic() - began
    return KillReport(kills, uninterrupted.writing_seconds, len(rerun_from), seconds)


def kill_points(seed: int, seconds: float) -> Iterator[float]:
    """Seeded random delays after the lock is taken: one in each tenth of `seconds`, so that
    every stretch of the run is hit, then anywhere in it."""
    rng = random.Random(seed)
    for part in range(KILLS):
        yield rng.uniform(seconds * part / KILLS, seconds * (part + 1) / KILLS)
    while True:
        yield rng.uniform(0.0, seconds)


def describe(kills: list[Kill]) -> str:
    return ", ".join(f"{kill.delay:.2f}{'' if kill.killed else ' (done)'}" for kill in kills)


# --- what a kill may leave ---------------------------------------------------------------------


def what_is_left(data_dir: Path, scenario: Scenario) -> str:
    rows = catalogue_rows(data_dir)
    if rows == scenario.before["rows"]:
        catalogue = "catalogue as before"
    elif rows == scenario.after["rows"]:
        catalogue = "catalogue as after"
    else:
        done = len(set(rows["paper"]) - set(scenario.before["rows"]["paper"]))
        catalogue = f"{done} papers written"
    state = index_state(data_dir)
    version = catalogue_version(data_dir)
    behind = [
        name
        for name, stamp in (("keywords", "keywords_version"), ("vectors", "vectors_version"))
        if state.get(stamp) is not None and state[stamp] < version
    ]
    left = f"{catalogue}, {len(state['vectors'] or ())} vectors"
    return left + (f", {' and '.join(behind)} behind" if behind else "")


def before_or_after(data_dir: Path, scenario: Scenario) -> None:
    """One transaction: the catalogue is the one before the run or the one after, nothing else.
    What is derived from it afterwards (relations read from the texts, stored topics) follows in
    transactions of its own, and the rerun must bring it (`assert_like_reference`)."""
    facts = facts_of(catalogue_rows(data_dir))
    assert facts in (facts_of(scenario.before["rows"]), facts_of(scenario.after["rows"]))


DERIVED_META = {"topics_report"}


def facts_of(rows: dict[str, list[tuple[Any, ...]]]) -> dict[str, list[tuple[Any, ...]]]:
    """The catalogue without what `index` derives from it."""
    facts = {name: value for name, value in rows.items() if name != "relation"}
    facts["meta"] = [row for row in rows["meta"] if row[0] not in DERIVED_META]
    return facts


def between(data_dir: Path, scenario: Scenario) -> None:
    """Batches: every paper row is as it was before or as the run leaves it, and nothing that
    was there is gone."""
    papers = catalogue_rows(data_dir)["paper"]
    allowed = set(scenario.before["rows"]["paper"]) | set(scenario.after["rows"]["paper"])
    assert set(papers) <= allowed
    assert scenario.before["ids"] <= paper_ids(data_dir)


def catalogue_untouched(data_dir: Path, scenario: Scenario) -> None:
    """`index` writes derived data only (vectors, keywords, relations read from the texts,
    topics): the catalogue's facts stay as they were."""
    assert facts_of(catalogue_rows(data_dir)) == facts_of(scenario.before["rows"])


# --- starting points ---------------------------------------------------------------------------


@pytest.fixture(scope="module")
def environment() -> dict[str, str]:
    return child_environment()


@pytest.fixture(scope="module")
def seed_dir(seed_settings: Settings, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The seed catalogue with its index and warm caches (embeddings, ONNX export)."""
    return copy_data_dir(seed_settings.data_dir, tmp_path_factory.mktemp("faults") / "seed")


@pytest.fixture(scope="module")
def one_list_less(seed_dir: Path) -> Path:
    """The seed catalogue less one list: a refresh brings it back (21 papers, 36 mentions)."""
    start = copy_data_dir(seed_dir, seed_dir.with_name("one-list-less"))
    remove_reading_list(make_settings(start), "awesome-speech")
    return start


def corpus_lines(start: int, count: int) -> list[str]:
    with gzip.open(CORPUS, "rt", encoding="utf-8") as lines:
        return list(itertools.islice(lines, start, start + count))


@pytest.fixture(scope="module")
def metadata_file(seed_dir: Path) -> Path:
    path = seed_dir.with_name("metadata.jsonl")
    path.write_text("".join(corpus_lines(0, 1200)), encoding="utf-8")
    return path


@pytest.fixture(scope="module")
def waiting_for_vectors(seed_dir: Path) -> Path:
    """The seed catalogue and 16 imported papers that wait for `index` to embed them."""
    start = copy_data_dir(seed_dir, seed_dir.with_name("waiting-for-vectors"))
    extra = start.with_name("few.jsonl")
    extra.write_text("".join(corpus_lines(2000, 16)), encoding="utf-8")
    import_metadata(make_settings(start), [extra], categories="all")
    return start


@pytest.fixture(scope="module")
def oai_server() -> Iterator[FakeOai]:
    with FakeOai(load_corpus()[3000:3600], page_size=60) as server:
        yield server


# --- kills -------------------------------------------------------------------------------------


def report(request: pytest.FixtureRequest, scenario: Scenario, result: KillReport) -> None:
    line = f"{scenario.name}: {result.describe()}"
    request.config.stash.setdefault(FAULT_LINES, []).append(line)
    print(line)


FAULT_LINES = pytest.StashKey[list[str]]()


def test_refresh_survives_kills(
    request: pytest.FixtureRequest, one_list_less: Path, environment: dict[str, str], tmp_path: Path
) -> None:
    scenario = Scenario(
        "refresh --offline", ["refresh", "--offline"], one_list_less, environment, seed=101,
        check_killed=before_or_after,
    )  # fmt: skip
    report(request, scenario, exercise_kills(scenario, tmp_path / "data"))


def test_import_survives_kills(
    request: pytest.FixtureRequest,
    seed_dir: Path,
    metadata_file: Path,
    environment: dict[str, str],
    tmp_path: Path,
) -> None:
    arguments = ["import", str(metadata_file), "--category", "all", "--batch-size", "100"]
    scenario = Scenario("import", arguments, seed_dir, environment, seed=202, check_killed=between)
    report(request, scenario, exercise_kills(scenario, tmp_path / "data"))


def test_harvest_survives_kills(
    request: pytest.FixtureRequest, seed_dir: Path, oai_server: FakeOai, tmp_path: Path
) -> None:
    environment = child_environment(SPEECHGRAPH_OAI_URL=oai_server.url)
    arguments = ["harvest", "--category", "all", "--batch-size", "50"]
    scenario = Scenario("harvest", arguments, seed_dir, environment, seed=303, check_killed=between)
    report(request, scenario, exercise_kills(scenario, tmp_path / "data"))


def test_index_survives_kills(
    request: pytest.FixtureRequest,
    waiting_for_vectors: Path,
    environment: dict[str, str],
    tmp_path: Path,
) -> None:
    scenario = Scenario(
        "index", ["index"], waiting_for_vectors, environment, seed=404,
        check_killed=catalogue_untouched,
    )  # fmt: skip
    result = exercise_kills(scenario, tmp_path / "data")
    assert len(scenario.after["index"]["vectors"]) == len(scenario.before["ids"])
    report(request, scenario, result)


# --- two writers at once -----------------------------------------------------------------------


def run_together(
    first: list[str], second: list[str], environment: dict[str, str], data_dir: Path
) -> tuple[list[Finished], list[int]]:
    """Start both at once; returns how each ended and which (0, 1) held the lock first."""
    started = time.monotonic()
    children = [
        subprocess.Popen(
            command, env=environment, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
        )
        for command in (first, second)
    ]
    order: list[int] = []
    while any(child.poll() is None for child in children):
        pid = holder_pid(data_dir / "writer.lock.json")
        if pid is not None and pid not in order:
            order.append(pid)
        time.sleep(0.005)
    ended = []
    for child in children:
        stdout, stderr = child.communicate()
        ended.append(Finished(child.returncode, stdout, stderr, time.monotonic() - started))
    pids = [child.pid for child in children]
    return ended, [pids.index(pid) for pid in order if pid in pids]


PAIRS = {
    "refresh + refresh": (["refresh", "--offline"], ["refresh", "--offline"]),
    "import + refresh": (["import", "{metadata}", "--category", "all"], ["refresh", "--offline"]),
    "import + index": (["import", "{few}", "--category", "all"], ["index"]),
}


@pytest.mark.parametrize("pair", PAIRS)
def test_two_writers_at_once_equal_the_serial_run(
    pair: str,
    one_list_less: Path,
    metadata_file: Path,
    environment: dict[str, str],
    tmp_path: Path,
) -> None:
    few = tmp_path / "few.jsonl"
    few.write_text("".join(corpus_lines(2000, 16)), encoding="utf-8")
    names = {"metadata": str(metadata_file), "few": str(few)}
    first, second = (
        [argument.format(**names) for argument in arguments] for arguments in PAIRS[pair]
    )
    together = copy_data_dir(one_list_less, tmp_path / "together")
    ended, order = run_together(
        speechgraph(together, *first), speechgraph(together, *second), environment, together
    )
    for finished in ended:
        assert finished.code == 0, finished.stderr
        assert "Traceback" not in finished.stderr
    waited = [finished for finished in ended if "waiting up to" in finished.stderr]
    assert len(waited) <= 1
    for finished in waited:
        assert finished.stderr.count("waiting up to") == 1
    assert order in ([0, 1], [1, 0]), "each must have held the lock once"
    print(f"{pair}: {' then '.join(PAIRS[pair][i][0] for i in order)}, {len(waited)} waited")
    serial = copy_data_dir(one_list_less, tmp_path / "serial")
    for arguments in ([first, second][position] for position in order):
        done = run(speechgraph(serial, *arguments), environment)
        assert done.code == 0, done.stderr
    assert catalogue_rows(together) == catalogue_rows(serial)
    assert_same_index(index_state(together), index_state(serial))
    assert file_listing(together) == file_listing(serial)


def test_the_cli_batch_size_is_the_library_default() -> None:
    from speechgraph.cli.field import BATCH_SIZE as CLI_BATCH_SIZE
    from speechgraph.update.batches import BATCH_SIZE

    assert CLI_BATCH_SIZE == BATCH_SIZE
