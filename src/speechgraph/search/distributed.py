"""Distributed embedding on Ray Data: the texts that the embedding cache lacks are embedded by a
pool of actors, each loading the model once (on a GPU when the cluster has GPUs), and the driver
writes their vectors into the same cache under the same fingerprint and text hash, so that
`sync_index` then builds the index from the cache exactly as after a local run.

The only module that imports ray, an optional extra: `pip install 'speechgraph[ray]'`.

On a cluster: install the same speechgraph (with the `ray` extra) and the same model on every
node, start the head with `ray start --head --port=6379` and each worker with
`ray start --address=HEAD:6379`, then on the head (or any machine holding the catalogue) run
`speechgraph index --engine ray --address HEAD:6379`. The catalogue, the embedding cache and the
index stay on the machine that runs the command; only texts go out and vectors come back. Each
worker checks that its model has the driver's fingerprint, so a node with other weights fails
the run instead of poisoning the cache. Without `--address` a local Ray is started for the run
and stopped after it.
"""

from __future__ import annotations

import logging
import os
import tempfile
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from speechgraph.catalogue.vectors import EmbeddingCache
from speechgraph.errors import ClusterUnavailable, ConfigError
from speechgraph.search import encoder as embed
from speechgraph.search import onnx as embed_onnx

log = logging.getLogger(__name__)

Progress = Callable[[int, int], None]

RAY_EXTRA = "pip install 'speechgraph[ray]'"
# One block of texts per actor call: large enough that a GPU batch is full and Ray's per-block
# overhead is small, small enough that progress and the cache advance often.
BLOCK_SIZE = 512
# Two cores per CPU actor: ONNX Runtime's threads share one model copy; measured on 2 cores
# (bench/embed_bench.py --ray) against two one-thread actors.
CPUS_PER_ACTOR = 2


@dataclass(frozen=True)
class RayRun:
    """What one distributed run did: texts embedded, actors and GPUs used, seconds spent
    starting (or connecting to) Ray and embedding."""

    embedded: int
    actors: int
    gpus: int
    startup_seconds: float
    embedding_seconds: float


def embed_with_ray(
    texts: Sequence[str],
    cache: EmbeddingCache,
    *,
    model: str,
    cache_dir: Path,
    address: str | None = None,
    progress: Progress | None = None,
) -> RayRun:
    """Embed the `texts` that `cache` lacks for `model` on Ray and store them in `cache`.

    Starts a local Ray for the run when `address` is None and none is running in this process;
    connects to the cluster at `address` otherwise. Raises ConfigError when ray is not installed
    and ClusterUnavailable when the cluster cannot be reached or its workers fail.
    """
    fingerprint = embed.model_fingerprint(model, cache_dir)
    text_of = {embed.text_hash(text): text for text in texts}
    # Shortest first, as the local path: each block then pads little.
    missing = sorted(cache.missing(fingerprint, list(text_of)), key=lambda sha: len(text_of[sha]))
    if not missing:
        return RayRun(0, 0, 0, 0.0, 0.0)
    ray = _import_ray()
    _prepare_onnx_export(model, cache_dir)
    started = time.perf_counter()
    with _connected(ray, address):
        startup = time.perf_counter() - started
        plan = _plan(ray)
        log.info("embedding %d texts on Ray with %s", len(missing), plan)
        started = time.perf_counter()
        done = 0
        for hashes, vectors in _embedded_blocks(ray, missing, text_of, model, cache_dir, plan):
            cache.put_many(fingerprint, hashes, vectors)
            done += len(hashes)
            if progress is not None:
                progress(done, len(missing))
    return RayRun(done, plan.actors, plan.gpus, startup, time.perf_counter() - started)


class DocumentEmbedder:
    """A Ray Data actor: loads the model once, then embeds one block of texts per call."""

    def __init__(self, model: str, fingerprint: str, cache_dir: str, threads: int) -> None:
        self.encoder = _worker_encoder(model, Path(cache_dir), threads)
        if self.encoder.fingerprint != fingerprint:
            raise ConfigError(
                f"model {model} on this Ray worker is {self.encoder.fingerprint}, not the "
                f"driver's {fingerprint}: install the same model on every node"
            )

    def __call__(self, batch: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
        # The same batching as the local path (a GPU encoder raises it to a GPU's size).
        texts = [str(text) for text in batch["text"]]
        vectors = self.encoder.encode(texts, embed.DOCUMENT_BATCH)
        return {"sha": batch["sha"], "vector": vectors}


# --- the cluster ---------------------------------------------------------------------------


@dataclass(frozen=True)
class _Plan:
    actors: int
    gpus: int
    cpus_per_actor: int

    def __str__(self) -> str:
        devices = f"{self.gpus} GPU" if self.gpus else f"{self.cpus_per_actor} CPUs"
        return f"{self.actors} actor(s) of {devices} each"


def _plan(ray: Any) -> _Plan:
    resources = ray.cluster_resources()
    gpus = int(resources.get("GPU", 0))
    if gpus:
        return _Plan(actors=gpus, gpus=gpus, cpus_per_actor=1)
    cpus = max(1, int(resources.get("CPU", 1)))
    per_actor = min(CPUS_PER_ACTOR, cpus)
    return _Plan(actors=max(1, cpus // per_actor), gpus=0, cpus_per_actor=per_actor)


def _import_ray() -> Any:
    try:
        import ray
        import ray.data
    except ImportError:
        raise ConfigError(f"--engine ray needs the Ray extra: run `{RAY_EXTRA}`") from None
    return ray


@contextmanager
def _connected(ray: Any, address: str | None) -> Iterator[None]:
    """Ray for the duration of a run: the one this process already joined, the cluster at
    `address`, or a local one started now and stopped after."""
    if ray.is_initialized():
        yield
        return
    # Ray reports usage statistics to its authors unless told not to; a local tool stays quiet.
    os.environ.setdefault("RAY_USAGE_STATS_ENABLED", "0")
    try:
        if address:
            ray.init(address=address, logging_level=logging.WARNING, log_to_driver=False)
        else:
            ray.init(include_dashboard=False, logging_level=logging.WARNING, log_to_driver=False)
    except (ConnectionError, RuntimeError, ValueError) as error:
        where = f"at {address}" if address else "locally"
        raise ClusterUnavailable(
            f"cannot start or reach Ray {where} ({str(error).splitlines()[0]}): check the "
            "address, or run without --address for a local Ray"
        ) from None
    try:
        yield
    finally:
        ray.shutdown()


def _embedded_blocks(
    ray: Any,
    missing: list[str],
    text_of: dict[str, str],
    model: str,
    cache_dir: Path,
    plan: _Plan,
) -> Iterator[tuple[list[str], np.ndarray]]:
    import pyarrow

    # The caller reports progress; Ray Data's bars and INFO lines (execution plans) would
    # interleave with it on stderr.
    logging.getLogger("ray.data").setLevel(logging.ERROR)
    ray.data.DataContext.get_current().enable_progress_bars = False
    blocks = [
        pyarrow.table({"sha": chunk, "text": [text_of[sha] for sha in chunk]})
        for chunk in _chunks(missing, BLOCK_SIZE)
    ]
    dataset = ray.data.from_arrow(blocks).map_batches(
        DocumentEmbedder,
        fn_constructor_kwargs={
            "model": model,
            "fingerprint": embed.model_fingerprint(model, cache_dir),
            "cache_dir": str(cache_dir),
            "threads": plan.cpus_per_actor,
        },
        batch_size=BLOCK_SIZE,
        batch_format="numpy",
        concurrency=plan.actors,
        num_cpus=plan.cpus_per_actor,
        num_gpus=1 if plan.gpus else 0,
    )
    try:
        for batch in dataset.iter_batches(batch_size=None, batch_format="numpy"):
            yield [str(sha) for sha in batch["sha"]], np.asarray(batch["vector"], np.float32)
    except ray.exceptions.RayError as error:
        raise ClusterUnavailable(
            f"the Ray workers failed to embed ({_first_line(error)}): see the Ray logs, or run "
            "`speechgraph index` without --engine ray"
        ) from None


def _chunks(items: list[str], size: int) -> Iterator[list[str]]:
    for start in range(0, len(items), size):
        yield items[start : start + size]


def _first_line(error: BaseException) -> str:
    lines = [line for line in str(error).splitlines() if line.strip()]
    return lines[-1] if lines else type(error).__name__


# --- the model on the driver and the workers -----------------------------------------------------


def _prepare_onnx_export(model: str, cache_dir: Path) -> None:
    """Export the model to ONNX once on the driver, so that the actors of a local Ray (or of a
    cluster sharing the cache directory) open it instead of exporting it each."""
    fingerprint = embed.model_fingerprint(model, cache_dir)
    if embed_onnx.export_record(cache_dir, fingerprint) is None and embed_onnx.can_export():
        embed_onnx.export_onnx(embed.load_encoder(model, cache_dir), cache_dir)


def _worker_encoder(model: str, cache_dir: Path, threads: int) -> embed.Encoder:
    if not cache_dir.is_dir():
        # A node that cannot see the driver's cache keeps its own (memo, export) per actor.
        cache_dir = Path(tempfile.mkdtemp(prefix="speechgraph-ray-"))
    if embed.cuda_available():
        return embed.load_encoder(model, cache_dir)
    encoder = embed_onnx.load_onnx_encoder(model, cache_dir, threads, spinning=False)
    if encoder is not None:
        return encoder
    fallback = embed_onnx.load_document_encoder(model, cache_dir)  # exports when it can
    return embed_onnx.load_onnx_encoder(model, cache_dir, threads, spinning=False) or fallback
