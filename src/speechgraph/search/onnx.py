"""Fast query encoding: the model exported once to ONNX, run by ONNX Runtime with the fast
tokenizer, so a cold search never imports torch; verified against torch (cosine >= 0.999).

torch is imported only inside the export function.
"""

from __future__ import annotations

import importlib.util
import json
import logging
import shutil
import warnings
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from speechgraph.files import atomic_write_text, is_writable_directory, warn_once
from speechgraph.search.encoder import (
    Encoder,
    LazyEncoder,
    Progress,
    TorchEncoder,
    cuda_available,
    load_encoder,
    model_fingerprint,
)

log = logging.getLogger(__name__)

ONNX_MIN_COSINE = 0.999
EXPORT_FILE = "export.json"
# Texts that exercise padding, truncation and unusual characters when checking an export.
CHECK_TEXTS = [
    "how do I get a waveform from a spectrogram?",
    "speaker embeddings robust to short clips",
    "WaveNet: A Generative Model for Raw Audio. A deep autoregressive network over raw samples.",
    "x",
    "Ünïcödé façade — 音声認識 ✓ " * 3,
    "long " * 400,
]


@dataclass
class OnnxEncoder:
    """The same model run by ONNX Runtime with the fast tokenizer: no torch import, ~0.3 s load.

    Texts are tokenised once, then batched in order of token count, each batch padded only to its
    own longest text: abstracts vary from 50 to 256 tokens, so this halves the padded work.
    """

    name: str
    fingerprint: str
    dimension: int
    session: Any
    tokenizer: Any
    pooling: str
    pad_id: int = 0

    def encode(
        self, texts: Sequence[str], batch_size: int = 32, progress: Progress | None = None
    ) -> np.ndarray:
        vectors = np.zeros((len(texts), self.dimension), dtype=np.float32)
        encodings = self.tokenizer.encode_batch(list(texts))
        order = sorted(range(len(texts)), key=lambda row: len(encodings[row].ids))
        for start in range(0, len(order), batch_size):
            rows = order[start : start + batch_size]
            vectors[rows] = self._encode_batch([encodings[row] for row in rows])
            if progress is not None:
                progress(min(start + batch_size, len(texts)), len(texts))
        return vectors

    def _encode_batch(self, encodings: list[Any]) -> np.ndarray:
        width = max(len(encoding.ids) for encoding in encodings)
        input_ids = np.full((len(encodings), width), self.pad_id, dtype=np.int64)
        mask = np.zeros((len(encodings), width), dtype=np.int64)
        type_ids = np.zeros((len(encodings), width), dtype=np.int64)
        for row, encoding in enumerate(encodings):
            length = len(encoding.ids)
            input_ids[row, :length] = encoding.ids
            mask[row, :length] = 1
            type_ids[row, :length] = encoding.type_ids
        feeds = {"input_ids": input_ids, "attention_mask": mask}
        if "token_type_ids" in {i.name for i in self.session.get_inputs()}:
            feeds["token_type_ids"] = type_ids
        hidden = self.session.run(None, feeds)[0]
        if self.pooling == "cls":
            pooled = hidden[:, 0, :]
        else:
            weights = mask[:, :, None].astype(np.float32)
            pooled = (hidden * weights).sum(axis=1) / np.clip(weights.sum(axis=1), 1e-9, None)
        norms = np.linalg.norm(pooled, axis=1, keepdims=True)
        return np.ascontiguousarray(pooled / np.clip(norms, 1e-12, None), dtype=np.float32)


def onnx_dir_for(cache_dir: Path, fingerprint: str) -> Path:
    safe = "".join(c if c.isalnum() or c in "-_." else "_" for c in fingerprint)
    return cache_dir / "onnx" / safe


def export_record(cache_dir: Path, fingerprint: str) -> dict[str, Any] | None:
    """What an earlier export of the model `fingerprint` left: `verified` true for a usable
    export, false with a `reason` when the model cannot be exported; None when there is none
    (or only an interrupted attempt), so an export is worth trying. Reads one small file."""
    directory = onnx_dir_for(cache_dir, fingerprint)
    try:
        meta = json.loads((directory / EXPORT_FILE).read_text(encoding="utf-8"))
    except FileNotFoundError:
        return None
    except (OSError, ValueError) as error:
        _discard_broken(directory, error)
        return None
    if not isinstance(meta, dict) or meta.get("fingerprint") != fingerprint:
        return None
    if meta.get("verified") or meta.get("reason"):
        return meta
    return None


def load_onnx_encoder(
    model: str, cache_dir: Path, threads: int | None = None, *, spinning: bool = True
) -> OnnxEncoder | None:
    """The cached ONNX export of `model` if one was made and verified, else None. No torch.

    `threads` caps ONNX Runtime's intra-op threads (default: one per core), for several encoders
    sharing a machine; `spinning=False` lets idle threads sleep instead of spinning (see
    `load_document_encoder`).

    A broken export (unreadable export.json or model, as a crash mid-write leaves) is removed
    with a warning, so the caller falls back to torch and the next export replaces it.
    """
    fingerprint = model_fingerprint(model, cache_dir)
    meta = export_record(cache_dir, fingerprint)
    if meta is None or not meta.get("verified"):
        return None
    directory = onnx_dir_for(cache_dir, fingerprint)
    broken: tuple[type[Exception], ...] = (
        OSError,
        ValueError,
        KeyError,
        RuntimeError,
        *_onnxruntime_errors(),
    )
    try:
        return _open_onnx(model, directory, meta, threads, spinning)
    except broken as error:
        _discard_broken(directory, error)
        return None


def _onnxruntime_errors() -> tuple[type[Exception], ...]:
    # ONNX Runtime raises its own classes (InvalidProtobuf, NoSuchFile, Fail, …), which share no
    # base class but Exception; they all live in this module.
    try:
        from onnxruntime.capi import onnxruntime_pybind11_state as state
    except ImportError:
        return ()
    return tuple(
        value
        for value in vars(state).values()
        if isinstance(value, type) and issubclass(value, Exception)
    )


def _discard_broken(directory: Path, error: Exception) -> None:
    warn_once(
        log,
        f"onnx-broken:{directory}",
        "the ONNX export in %s is broken (%s): removing it",
        directory,
        error,
    )
    shutil.rmtree(directory, ignore_errors=True)


def can_export() -> bool:
    """Whether ONNX export is possible here: torch.onnx.export needs the `onnx` package."""
    return importlib.util.find_spec("onnx") is not None


def export_onnx(encoder: TorchEncoder, cache_dir: Path) -> OnnxEncoder | None:
    """Export `encoder`'s transformer to ONNX once, check it against torch, and load it.

    Returns None (queries then use torch) when the model is not a plain transformer with mean or
    CLS pooling, the `onnx` package is missing, or the export's vectors disagree with torch.
    A model that cannot be exported is recorded (see `export_record`) so that no later run
    tries again.
    """
    directory = onnx_dir_for(cache_dir, encoder.fingerprint)
    shape = _pipeline_shape(encoder.model)
    if shape is None:
        _record_failure(encoder, directory, "not a plain transformer + mean/CLS pooling model")
        return None
    if not can_export():
        # Not recorded: installing `onnx` later should enable the export.
        log.warning("the `onnx` package is not installed: cold searches will load torch")
        return None
    model_errors: tuple[type[Exception], ...] = (RuntimeError, ValueError, *_onnxruntime_errors())
    try:
        _write_export(encoder, shape, directory)
    except (ImportError, OSError) as error:
        # The environment (a missing package, a full disk), not the model: try again next time.
        warn_once(
            log,
            "onnx-export",
            "ONNX export of %s failed (%s); queries use torch",
            encoder.name,
            error,
        )
        shutil.rmtree(directory, ignore_errors=True)
        return None
    except model_errors as error:
        shutil.rmtree(directory, ignore_errors=True)
        _record_failure(encoder, directory, f"export failed: {error}")
        return None
    loaded = load_onnx_encoder(encoder.name, cache_dir)
    return loaded if loaded is not None and loaded.fingerprint == encoder.fingerprint else None


def _record_failure(encoder: TorchEncoder, directory: Path, reason: str) -> None:
    log.warning("no ONNX export of %s (%s); queries use torch", encoder.name, reason)
    meta = {"model": encoder.name, "fingerprint": encoder.fingerprint, "verified": False}
    try:
        directory.mkdir(parents=True, exist_ok=True)
        atomic_write_text(directory / EXPORT_FILE, json.dumps({**meta, "reason": reason}))
    except OSError as error:
        log.debug("cannot record the failed export in %s: %s", directory, error)


def _pipeline_shape(model: Any) -> dict[str, Any] | None:
    modules = list(model)
    if len(modules) < 2 or type(modules[0]).__name__ != "Transformer":
        return None
    if type(modules[1]).__name__ != "Pooling" or any(
        type(extra).__name__ != "Normalize" for extra in modules[2:]
    ):
        return None
    mode = str(getattr(modules[1], "pooling_mode", "")) or _legacy_pooling_mode(modules[1])
    if mode not in ("mean", "cls"):
        return None
    transformer = modules[0]
    tokenizer = getattr(transformer, "tokenizer", None)
    if tokenizer is None or not getattr(tokenizer, "is_fast", False):
        return None
    auto_model = getattr(transformer, "auto_model", None) or getattr(transformer, "model", None)
    return {
        "pooling": mode,
        "max_length": int(getattr(transformer, "max_seq_length", 256) or 256),
        "tokenizer": tokenizer,
        "auto_model": auto_model,
    }


def _legacy_pooling_mode(pooling: Any) -> str:
    if getattr(pooling, "pooling_mode_mean_tokens", False):
        return "mean"
    if getattr(pooling, "pooling_mode_cls_token", False):
        return "cls"
    return ""


def _write_export(encoder: TorchEncoder, shape: dict[str, Any], directory: Path) -> None:
    import torch

    directory.mkdir(parents=True, exist_ok=True)
    tokenizer = shape["tokenizer"]
    tokenizer.backend_tokenizer.save(str(directory / "tokenizer.json"))
    auto_model = shape["auto_model"].to("cpu").eval()
    sample = tokenizer(["a short one", "a somewhat longer sample sentence"], padding=True)
    names = [n for n in ("input_ids", "attention_mask", "token_type_ids") if n in sample]
    inputs = tuple(torch.tensor(sample[name]) for name in names)

    class _Hidden(torch.nn.Module):
        def __init__(self, inner: Any) -> None:
            super().__init__()
            self.inner = inner

        def forward(self, *tensors: Any) -> Any:
            return self.inner(**dict(zip(names, tensors, strict=True))).last_hidden_state

    axes = {name: {0: "batch", 1: "tokens"} for name in [*names, "hidden"]}
    # The TorchScript exporter: the dynamo one needs onnxscript and is slower to export.
    with torch.no_grad(), warnings.catch_warnings():
        warnings.simplefilter("ignore")  # tracer warnings about shapes that stay dynamic here
        torch.onnx.export(
            _Hidden(auto_model),
            inputs,
            str(directory / "model.onnx"),
            input_names=names,
            output_names=["hidden"],
            dynamic_axes=axes,
            opset_version=17,
            dynamo=False,
        )
    meta = {
        "model": encoder.name,
        "fingerprint": encoder.fingerprint,
        "dimension": encoder.dimension,
        "pooling": shape["pooling"],
        "max_length": shape["max_length"],
        "pad_id": int(tokenizer.pad_token_id or 0),
        "verified": False,
    }
    atomic_write_text(directory / EXPORT_FILE, json.dumps(meta, indent=1))
    onnx_encoder = _open_onnx(encoder.name, directory, meta)
    cosine = float(
        np.min(np.sum(onnx_encoder.encode(CHECK_TEXTS) * encoder.encode(CHECK_TEXTS), axis=1))
    )
    if cosine < ONNX_MIN_COSINE:
        raise ValueError(f"ONNX vectors differ from torch (min cosine {cosine:.5f})")
    meta.update(verified=True, min_cosine=round(cosine, 6))
    atomic_write_text(directory / EXPORT_FILE, json.dumps(meta, indent=1))
    log.info("exported %s to ONNX (min cosine vs torch %.5f)", encoder.name, cosine)


def _open_onnx(
    name: str,
    directory: Path,
    meta: dict[str, Any],
    threads: int | None = None,
    spinning: bool = True,
) -> OnnxEncoder:
    import onnxruntime
    from tokenizers import Tokenizer

    options = onnxruntime.SessionOptions()
    options.log_severity_level = 3
    if threads:
        options.intra_op_num_threads = threads
    if not spinning:
        options.add_session_config_entry("session.intra_op.allow_spinning", "0")
    session = onnxruntime.InferenceSession(
        str(directory / "model.onnx"), options, providers=["CPUExecutionProvider"]
    )
    tokenizer = Tokenizer.from_file(str(directory / "tokenizer.json"))
    tokenizer.enable_truncation(int(meta["max_length"]))
    tokenizer.no_padding()  # OnnxEncoder pads each length-sorted batch itself
    return OnnxEncoder(
        name=name,
        fingerprint=str(meta["fingerprint"]),
        dimension=int(meta["dimension"]),
        session=session,
        tokenizer=tokenizer,
        pooling=str(meta["pooling"]),
        pad_id=int(meta.get("pad_id", 0)),
    )


def load_document_encoder(model: str, cache_dir: Path) -> Encoder:
    """The fastest document encoder that keeps torch's vectors: torch on the GPU when there is
    one, else the verified ONNX export (made now if missing and not known to fail), else torch.

    ONNX agrees with torch to cosine >= 0.999 (checked at export), so both share the model's
    fingerprint and one embedding cache. Its threads do not spin between batches: on 2 cores that
    did 17.3 documents per CPU-second against 14.8 spinning and torch's 13.5 (bench/embed_bench.py).
    """
    if cuda_available():
        return load_encoder(model, cache_dir)
    exported = load_onnx_encoder(model, cache_dir, spinning=False)
    if exported is not None:
        return exported
    fallback = load_query_encoder(model, cache_dir)  # exports the model when it can
    return load_onnx_encoder(model, cache_dir, spinning=False) or fallback


def lazy_document_encoder(model: str, cache_dir: Path) -> LazyEncoder:
    """`load_document_encoder`, deferred until a text is missing from the cache."""
    return LazyEncoder(model, cache_dir, loader=lambda: load_document_encoder(model, cache_dir))


def load_query_encoder(model: str, cache_dir: Path) -> Encoder:
    """The fastest query encoder: the verified ONNX export (made now if missing and not known to
    fail), else torch."""
    cached = load_onnx_encoder(model, cache_dir)
    if cached is not None:
        return cached
    encoder = load_encoder(model, cache_dir)
    if export_record(cache_dir, encoder.fingerprint) is not None:
        return encoder  # this model is known not to export
    if not is_writable_directory(cache_dir):
        # A read-only copy of the data directory: queries use torch, as they would without it.
        log.debug("no ONNX export: %s is not writable", cache_dir)
        return encoder
    exported = export_onnx(encoder, cache_dir)
    return exported if exported is not None else encoder
