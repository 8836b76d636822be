"""The Ray path on a local Ray: Ray Data actors write the same vectors into the embedding cache as
the local path, `sync_index(engine="ray")` then builds the index from the cache without
embedding again, and the `index --engine ray` command and its errors."""

from __future__ import annotations

import gzip
import json
import sys
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest
from typer.testing import CliRunner

from conftest import SHARED_DIR
from search_fixtures import (  # noqa: F401  (fixtures: encoder, onnx_cache, search_home)
    encoder_fixture,
    onnx_cache_fixture,
    search_home_fixture,
    settings_for,
    store_fixture_catalogue,
)
from speechgraph.catalogue.store import open_db
from speechgraph.catalogue.vectors import EmbeddingCache
from speechgraph.config import DEFAULT_MODEL, Settings
from speechgraph.errors import ConfigError
from speechgraph.search import encoder as embed
from speechgraph.search import onnx as embed_onnx
from speechgraph.search.distributed import embed_with_ray
from speechgraph.search.encoder import LazyEncoder, TorchEncoder
from speechgraph.search.index import load_index
from speechgraph.search.indexing import sync_index

CORPUS = SHARED_DIR / "corpus" / "speech-arxiv.jsonl.gz"
SAMPLE = 40


@pytest.fixture(scope="module")
def local_ray() -> Iterator[object]:
    """A local Ray of 2 CPUs for this module; the library joins it instead of starting one."""
    import os

    import ray

    os.environ.setdefault("RAY_USAGE_STATS_ENABLED", "0")
    ray.init(num_cpus=2, include_dashboard=False, log_to_driver=False)
    yield ray
    ray.shutdown()


@pytest.fixture(scope="module")
def abstracts() -> list[str]:
    """Real title + abstract texts from the shared corpus, as `PaperView.embedding_text`."""
    texts = []
    with gzip.open(CORPUS, "rt", encoding="utf-8") as handle:
        for line in handle:
            record = json.loads(line)
            if record.get("abstract"):
                texts.append(f"{record['title']}. {record['abstract']}")
            if len(texts) == SAMPLE:
                return texts
    return texts


def cache_dir_with_export(tmp_path: Path, onnx_cache: Path) -> Path:
    """A cache directory that shares the session's ONNX export, as `index` leaves one."""
    cache_dir = tmp_path / "cache"
    cache_dir.mkdir(parents=True)
    (cache_dir / "onnx").symlink_to(onnx_cache / "onnx")
    return cache_dir


def test_ray_writes_the_local_vectors_into_the_cache(
    local_ray, abstracts: list[str], encoder: TorchEncoder, onnx_cache: Path, tmp_path: Path
) -> None:
    cache_dir = cache_dir_with_export(tmp_path, onnx_cache)
    cache = EmbeddingCache(cache_dir / "embeddings.sqlite")
    seen: list[tuple[int, int]] = []
    run = embed_with_ray(
        abstracts,
        cache,
        model=DEFAULT_MODEL,
        cache_dir=cache_dir,
        progress=lambda done, total: seen.append((done, total)),
    )
    assert (run.embedded, run.actors, run.gpus) == (SAMPLE, 1, 0)
    assert seen[-1] == (SAMPLE, SAMPLE)
    fingerprint = embed.model_fingerprint(DEFAULT_MODEL, cache_dir)
    hashes = [embed.text_hash(text) for text in abstracts]
    stored = cache.get_many(fingerprint, hashes)
    from_ray = np.stack([stored[sha] for sha in hashes])
    local = embed_onnx.load_document_encoder(DEFAULT_MODEL, cache_dir).encode(abstracts)
    np.testing.assert_allclose(from_ray, local, atol=1e-5)
    # and both agree with the torch reference, as the shared fingerprint promises
    cosines = np.sum(from_ray * encoder.encode(abstracts), axis=1)
    assert cosines.min() >= embed_onnx.ONNX_MIN_COSINE
    again = embed_with_ray(abstracts, cache, model=DEFAULT_MODEL, cache_dir=cache_dir)
    assert again.embedded == 0


def test_index_with_the_ray_engine_builds_from_what_ray_cached(
    local_ray, search_home: Settings, onnx_cache: Path, tmp_path: Path
) -> None:
    settings = settings_for(tmp_path / "home")
    cache_dir_with_export(tmp_path / "home", onnx_cache)
    store = open_db(settings.db_url)
    lazy = LazyEncoder(settings.model, settings.cache_dir)
    try:
        store_fixture_catalogue(store)
        summary = sync_index(settings, store, encoder=lazy, engine="ray")
    finally:
        store.dispose()
    assert (summary["status"], summary["embedded"], summary["kind"]) == ("updated", 16, "flat")
    assert lazy._loaded is None  # nothing was left for the local encoder
    built = load_index(settings.index_dir)
    reference = load_index(search_home.index_dir)  # the same catalogue, embedded locally by torch
    ids = reference.manifest.ids
    cosines = np.sum(built.vectors(ids) * reference.vectors(ids), axis=1)
    assert cosines.min() >= embed_onnx.ONNX_MIN_COSINE


def run_index(settings: Settings, *args: str):
    from speechgraph.cli.app import app

    return CliRunner().invoke(app, ["--data-dir", str(settings.data_dir), "index", *args])


def test_the_index_command_embeds_on_ray_and_checks_its_options(
    local_ray, onnx_cache: Path, tmp_path: Path
) -> None:
    settings = settings_for(tmp_path / "home")
    cache_dir_with_export(tmp_path / "home", onnx_cache)
    store = open_db(settings.db_url)
    try:
        store_fixture_catalogue(store)
    finally:
        store.dispose()
    assert run_index(settings, "--address", "127.0.0.1:6379").exit_code == 2
    assert run_index(settings, "--engine", "spark").exit_code == 2
    result = run_index(settings, "--engine", "ray", "--json")
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout)["embedded"] == 16
    assert "up to date" in run_index(settings, "--engine", "ray").stdout


def test_an_unknown_engine_or_a_missing_ray_extra_is_a_one_line_error(
    search_home: Settings, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    store = open_db(search_home.db_url)
    try:
        with pytest.raises(ConfigError, match="unknown embedding engine 'spark'"):
            sync_index(search_home, store, engine="spark")
    finally:
        store.dispose()
    monkeypatch.setitem(sys.modules, "ray", None)  # as if the extra were not installed
    cache = EmbeddingCache(tmp_path / "embeddings.sqlite")
    with pytest.raises(ConfigError, match=r"pip install 'speechgraph\[ray\]'"):
        embed_with_ray(["a text"], cache, model=DEFAULT_MODEL, cache_dir=tmp_path)
