"""The FAISS index: exact and IVF search, incremental add/remove, save/load and its manifest."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from conftest import SHARED_DIR
from search_fixtures import encoder_fixture, onnx_cache_fixture  # noqa: F401  (session fixtures)
from speechgraph.config import DEFAULT_MODEL
from speechgraph.errors import IndexOutOfDate
from speechgraph.search.index import (
    EXACT_LIMIT,
    FLAT,
    IVF,
    VectorIndex,
    index_kind_for,
    ivf_parameters,
    load_index,
    read_manifest,
    vectors_path,
)

DATA_DIR = Path(__file__).parent / "data"

FINGERPRINT = "test-model@abc"


def unit_vectors(count: int, dimension: int = 32, seed: int = 0) -> np.ndarray:
    vectors = np.random.default_rng(seed).normal(size=(count, dimension)).astype(np.float32)
    return vectors / np.linalg.norm(vectors, axis=1, keepdims=True)


def clustered_vectors(count: int, dimension: int = 64, seed: int = 1) -> np.ndarray:
    """Paper-like data: topics on a low-dimensional manifold that blend into each other, not
    uniform noise and not well-separated blobs (on which any ANN index looks perfect)."""
    rng = np.random.default_rng(seed)
    projection = rng.normal(size=(12, dimension)) / np.sqrt(12)
    centres = rng.normal(size=(20, 12))
    latent = centres[rng.integers(0, 20, count)] + 0.8 * rng.normal(size=(count, 12))
    vectors = (latent @ projection + 0.02 * rng.normal(size=(count, dimension))).astype(np.float32)
    return vectors / np.linalg.norm(vectors, axis=1, keepdims=True)


def build(ids: list[str], vectors: np.ndarray, kind: str | None = None) -> VectorIndex:
    return VectorIndex.build(
        ids,
        vectors,
        model="test-model",
        fingerprint="test-model@abc",
        catalogue_version=3,
        kind=kind,
    )


def exact_top(vectors: np.ndarray, query: np.ndarray, k: int) -> list[int]:
    return list(np.argsort(-(vectors @ query))[:k])


@pytest.fixture
def small_index() -> tuple[VectorIndex, list[str], np.ndarray]:
    vectors = unit_vectors(200)
    ids = [f"2001.{number:05d}" for number in range(200)]
    return build(ids, vectors), ids, vectors


def test_exact_search_agrees_with_brute_force(small_index) -> None:
    index, ids, vectors = small_index
    assert index.manifest.kind == FLAT
    for row in (0, 57, 199):
        hits = index.search(vectors[row], 10)
        assert [paper_id for paper_id, _ in hits] == [
            ids[i] for i in exact_top(vectors, vectors[row], 10)
        ]
        assert hits[0] == (ids[row], pytest.approx(1.0, abs=1e-5))
        scores = [score for _, score in hits]
        assert scores == sorted(scores, reverse=True)


def test_k_larger_than_the_index_returns_everything(small_index) -> None:
    index, _, vectors = small_index
    assert len(index.search(vectors[0], 100_000)) == 200
    assert index.search(vectors[0], 0) == []


def test_allowed_ids_filter_inside_the_search(small_index) -> None:
    index, ids, vectors = small_index
    allowed = {ids[5], ids[150], "not-indexed"}
    hits = index.search(vectors[0], 10, allowed=allowed)
    assert {paper_id for paper_id, _ in hits} == {ids[5], ids[150]}
    assert index.search(vectors[0], 10, allowed={"not-indexed"}) == []


def test_save_and_load_round_trip_with_manifest(small_index, tmp_path: Path) -> None:
    index, ids, vectors = small_index
    index.save(tmp_path)
    manifest = json.loads((tmp_path / "manifest.json").read_text())
    assert manifest["model"] == "test-model"
    assert manifest["fingerprint"] == "test-model@abc"
    assert manifest["dimension"] == 32
    assert manifest["count"] == 200
    assert manifest["ids"] == ids
    assert manifest["catalogue_version"] == 3
    assert manifest["kind"] == FLAT
    loaded = load_index(tmp_path, fingerprint="test-model@abc", catalogue_version=3)
    assert loaded.search(vectors[42], 5) == index.search(vectors[42], 5)
    np.testing.assert_allclose(loaded.vectors([ids[7]])[0], vectors[7], atol=1e-6)


def test_load_refuses_another_model_or_catalogue(small_index, tmp_path: Path) -> None:
    index, _, _ = small_index
    index.save(tmp_path)
    with pytest.raises(IndexOutOfDate, match="speechgraph index"):
        load_index(tmp_path, fingerprint="other-model@def")
    with pytest.raises(IndexOutOfDate, match=r"catalogue version 3 .* version 4"):
        load_index(tmp_path, catalogue_version=4)
    with pytest.raises(IndexOutOfDate, match="no search index"):
        load_index(tmp_path / "missing")


def test_a_corrupt_index_file_asks_for_a_rebuild(small_index, tmp_path: Path) -> None:
    index, _, _ = small_index
    index.save(tmp_path)
    vectors_path(tmp_path, read_manifest(tmp_path)).write_bytes(b"not a faiss index")
    with pytest.raises(IndexOutOfDate, match="--rebuild"):
        load_index(tmp_path)
    (tmp_path / "manifest.json").write_text("{broken")
    assert read_manifest(tmp_path) is None


def test_a_save_swaps_only_the_manifest_and_drops_the_old_vectors(
    small_index, tmp_path: Path
) -> None:
    index, _, vectors = small_index
    index.save(tmp_path)
    first = read_manifest(tmp_path)
    smaller = build([f"p{number}" for number in range(50)], vectors[:50])
    smaller.save(tmp_path)
    second = read_manifest(tmp_path)
    assert first is not None and second is not None
    # The vectors go to a new file that only the new manifest names, so a reader never pairs
    # new vectors with an old manifest; the old file goes once the manifest is swapped.
    assert second.vectors_file != first.vectors_file
    assert sorted(path.name for path in tmp_path.iterdir()) == sorted(
        ["manifest.json", second.vectors_file]
    )
    assert len(load_index(tmp_path)) == 50


@pytest.mark.parametrize("other_shape", [(100, 32), (200, 16)])
def test_vectors_that_disagree_with_the_manifest_ask_for_a_rebuild(
    small_index, tmp_path: Path, other_shape: tuple[int, int]
) -> None:
    index, _, _ = small_index
    index.save(tmp_path / "a")
    count, dimension = other_shape
    other = build([f"p{number}" for number in range(count)], unit_vectors(count, dimension))
    other.save(tmp_path / "b")
    target = vectors_path(tmp_path / "a", read_manifest(tmp_path / "a"))
    target.write_bytes(vectors_path(tmp_path / "b", read_manifest(tmp_path / "b")).read_bytes())
    with pytest.raises(IndexOutOfDate, match="speechgraph index --rebuild"):
        load_index(tmp_path / "a")


def test_faiss_thread_setting_stays_with_the_searching_thread(small_index) -> None:
    import threading

    import faiss

    index, _, vectors = small_index
    before = faiss.omp_get_max_threads()
    workers = [threading.Thread(target=index.search, args=(vectors[0], 5)) for _ in range(4)]
    for worker in workers:
        worker.start()
    index.search(vectors[1], 5)
    for worker in workers:
        worker.join()
    assert faiss.omp_get_max_threads() == before


@pytest.mark.parametrize("kind", [FLAT, IVF])
def test_incremental_add_replace_and_remove(kind: str, tmp_path: Path) -> None:
    vectors = clustered_vectors(2000)
    ids = [f"p{number}" for number in range(2000)]
    index = build(ids[:1500], vectors[:1500], kind)
    index.add(ids[1500:], vectors[1500:])
    assert len(index) == 2000
    assert index.search(vectors[1700], 1)[0][0] == "p1700"
    assert index.remove(["p1700", "p3", "never-there"]) == 2
    assert "p1700" not in index
    assert all(paper_id != "p1700" for paper_id, _ in index.search(vectors[1700], 20))
    index.add(["p3"], vectors[1700:1701])  # p3 now carries another vector
    assert index.search(vectors[1700], 1)[0][0] == "p3"
    index.save(tmp_path)
    loaded = load_index(tmp_path)
    assert len(loaded) == 1999
    assert loaded.manifest.count == len(loaded.manifest.ids) == 1999
    assert loaded.search(vectors[1700], 1)[0][0] == "p3"


def recall_at_10(index: VectorIndex, ids: list[str], vectors: np.ndarray, queries: Any) -> float:
    """Mean share of each query's 10 exact nearest neighbours that `index` finds."""
    recalls = []
    for query in queries:
        truth = {ids[i] for i in exact_top(vectors, query, 10)}
        found = {paper_id for paper_id, _ in index.search(query, 10)}
        recalls.append(len(truth & found) / 10)
    return float(np.mean(recalls))


def test_ivf_recall_against_exact_on_clustered_vectors() -> None:
    vectors = clustered_vectors(20_050)[:20_000]
    ids = [f"p{number}" for number in range(20_000)]
    approximate = build(ids, vectors, IVF)
    assert approximate.manifest.kind == IVF
    queries = clustered_vectors(20_050)[20_000:]  # held out: same topics, not in the index
    assert recall_at_10(approximate, ids, vectors, queries) >= 0.95


def test_ivf_with_a_narrow_filter_still_finds_the_allowed_ids() -> None:
    vectors = clustered_vectors(5000)
    ids = [f"p{number}" for number in range(5000)]
    index = build(ids, vectors, IVF)
    allowed = {"p1", "p2222", "p4999"}
    assert {paper_id for paper_id, _ in index.search(vectors[0], 10, allowed)} == allowed


def test_build_rejects_mismatched_ids() -> None:
    with pytest.raises(ValueError, match="unique"):
        build(["a", "a"], unit_vectors(2))
    with pytest.raises(ValueError, match="unique"):
        build(["a"], unit_vectors(2))


# --- the index chosen by size, on real vectors ---------------------------------------------------


def test_the_index_kind_follows_the_catalogue_size() -> None:
    assert index_kind_for(0) == index_kind_for(EXACT_LIMIT) == FLAT
    assert index_kind_for(EXACT_LIMIT + 1) == index_kind_for(2_000_000) == IVF
    vectors = unit_vectors(EXACT_LIMIT + 1, dimension=8)
    ids = [f"p{number}" for number in range(EXACT_LIMIT + 1)]
    assert build(ids[:-1], vectors[:-1]).manifest.kind == FLAT
    larger = build(ids, vectors)
    lists, nprobe = ivf_parameters(EXACT_LIMIT + 1)
    assert (larger.manifest.kind, larger.manifest.nprobe) == (IVF, nprobe)
    assert larger.faiss_index.nlist == lists
    assert larger.search(vectors[123], 1)[0][0] == "p123"


@pytest.mark.parametrize("kind", [FLAT, IVF])
def test_an_index_written_before_this_change_still_loads(kind: str) -> None:
    # Written by the code of commit 217aa39 (400 random 8-d vectors, 2101.00003 removed).
    loaded = load_index(DATA_DIR / "index-2026-12" / kind, fingerprint="old-model@0")
    assert (loaded.manifest.kind, len(loaded), loaded.manifest.catalogue_version) == (kind, 399, 7)
    query = loaded.vectors(["2101.00010"])[0]
    hits = [paper_id for paper_id, _ in loaded.search(query, 3)]
    assert hits == ["2101.00010", "2101.00039", "2101.00261"]
    assert "2101.00003" not in loaded


@pytest.fixture(scope="module")
def real_title_vectors(onnx_cache) -> tuple[np.ndarray, np.ndarray]:
    """Real model vectors of 3,000 real paper titles from the shared speech corpus (one narrow
    field, which is harder for IVF than the whole of arXiv) and of 200 held-out titles."""
    import gzip

    from speechgraph.search.onnx import load_onnx_encoder

    encoder = load_onnx_encoder(DEFAULT_MODEL, onnx_cache)
    if encoder is None:
        pytest.skip("needs the ONNX export (the `onnx` package)")
    with gzip.open(SHARED_DIR / "corpus" / "speech-arxiv.jsonl.gz", "rt", encoding="utf-8") as f:
        titles = list(dict.fromkeys(json.loads(line)["title"] for line in f))[:3200]
    vectors = encoder.encode(titles, batch_size=64)
    return vectors[:3000], vectors[3000:]


def test_ivf_recall_on_real_vectors_with_the_chosen_parameters(real_title_vectors) -> None:
    vectors, queries = real_title_vectors
    ids = [f"p{number}" for number in range(len(vectors))]
    approximate = build(ids, vectors, IVF)
    assert approximate.manifest.nprobe == ivf_parameters(len(vectors))[1]
    assert recall_at_10(approximate, ids, vectors, queries) >= 0.95
