"""Embedding benchmark on real abstracts (title + ". " + abstract, as `PaperView.embedding_text`):
documents per second of torch sentence-transformers against ONNX Runtime by batch size, length
sorting, intra-op threads, graph fusion, max sequence length and int8, each with its cosine to the
torch reference; then one long run of the default document path, whose vectors it saves for
bench/ann_bench.py. Not run by the tests.

    python bench/embed_bench.py --table 768                    # the CPU table
    python bench/embed_bench.py --run 50000 --out /tmp/speechgraph-vectors [--cache DIR]
    python bench/embed_bench.py --ray 1000                     # local path vs a local Ray

Reads arXiv's snapshot JSON lines (default /tmp/arxiv-740k.jsonl.gz) or our corpus format; every
14th record with an abstract goes to the documents, the 7th of each 14 to held-out queries.
"""

from __future__ import annotations

import argparse
import gzip
import json
import os
import shutil
import statistics
import tempfile
import time
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path

import numpy as np

from speechgraph.config import DEFAULT_MODEL
from speechgraph.search.encoder import (
    EmbeddingCache,
    TorchEncoder,
    embed_texts,
    load_encoder,
    text_hash,
)
from speechgraph.search.onnx import (
    OnnxEncoder,
    _open_onnx,
    export_onnx,
    load_document_encoder,
    onnx_dir_for,
)

SOURCE = Path("/tmp/arxiv-740k.jsonl.gz")
FALLBACK = Path(__file__).resolve().parents[2] / "shared" / "corpus" / "speech-arxiv.jsonl.gz"
STRIDE = 14


# --- real texts ----------------------------------------------------------------------------------


def records(path: Path) -> Iterator[dict]:
    opener = gzip.open if path.suffix == ".gz" else open
    with opener(path, "rt", encoding="utf-8") as handle:
        for line in handle:
            try:
                yield json.loads(line)
            except ValueError:
                return  # a file still being written ends in a partial line


def embedding_text(record: dict) -> str | None:
    title = " ".join(str(record.get("title") or "").split())
    abstract = " ".join(str(record.get("abstract") or "").split())
    return f"{title}. {abstract}".strip() if title and abstract else None


def sample(path: Path, documents: int, queries: int) -> tuple[list[tuple[str, str]], list[str]]:
    """(id, text) of up to `documents` papers and the texts of up to `queries` others."""
    chosen: list[tuple[str, str]] = []
    held_out: list[str] = []
    position = 0
    for record in records(path):
        text = embedding_text(record)
        if text is None:
            continue
        if position % STRIDE == 0 and len(chosen) < documents:
            chosen.append((str(record["id"]), text))
        elif position % STRIDE == STRIDE // 2 and len(held_out) < queries:
            held_out.append(text)
        position += 1
        if len(chosen) >= documents and len(held_out) >= queries:
            break
    return chosen, held_out


# --- the table -----------------------------------------------------------------------------------


def rate(encode: Callable[[Sequence[str]], np.ndarray], texts: list[str], repeats: int) -> tuple:
    """(docs per wall second, docs per CPU second of this process, the vectors), each the best
    of `repeats`. The machine is shared: CPU seconds (all threads) do not count the time other
    processes held the cores, so they compare paths fairly; wall seconds are what a user waits."""
    encode(texts[:16])
    wall, cpu, vectors = 0.0, 0.0, np.zeros(0)
    for _ in range(repeats):
        started, started_cpu = time.perf_counter(), time.process_time()
        vectors = encode(texts)
        wall = max(wall, len(texts) / (time.perf_counter() - started))
        cpu = max(cpu, len(texts) / (time.process_time() - started_cpu))
    return wall, cpu, vectors


def unsorted_batches(encoder: OnnxEncoder, batch_size: int) -> Callable:
    """Yesterday's ONNX path: batches in the order given, each padded to its longest text."""

    def encode(texts: Sequence[str]) -> np.ndarray:
        return np.vstack(
            [
                encoder.encode(texts[start : start + batch_size], batch_size)
                for start in range(0, len(texts), batch_size)
            ]
        )

    return encode


def variant(base: Path, work: Path, name: str, make: Callable[[Path, Path], None]) -> Path:
    """A copy of the export in `base` whose model.onnx `make(source, target)` writes."""
    target = work / name
    shutil.copytree(base, target, ignore=shutil.ignore_patterns("model.onnx"))
    make(base / "model.onnx", target / "model.onnx")
    return target


def fused(source: Path, target: Path) -> None:
    from onnxruntime.transformers.optimizer import optimize_model

    optimize_model(str(source), model_type="bert", num_heads=0, hidden_size=0).save_model_to_file(
        str(target)
    )


def int8(source: Path, target: Path) -> None:
    from onnxruntime.quantization import QuantType, quantize_dynamic

    quantize_dynamic(str(source), str(target), weight_type=QuantType.QInt8)


def int8_per_channel(source: Path, target: Path) -> None:
    from onnxruntime.quantization import QuantType, quantize_dynamic

    quantize_dynamic(
        str(source), str(target), weight_type=QuantType.QInt8, per_channel=True, reduce_range=True
    )


def open_variant(
    directory: Path, threads: int | None = None, max_length: int | None = None, spinning=True
):
    meta = json.loads((directory / "export.json").read_text())
    if max_length:
        meta["max_length"] = max_length
    return _open_onnx(DEFAULT_MODEL, directory, meta, threads, spinning)


def table(texts: list[str], repeats: int) -> None:
    work = Path(tempfile.mkdtemp(prefix="speechgraph-embed-bench-"))
    torch_encoder = load_encoder(DEFAULT_MODEL, work)
    export_onnx(torch_encoder, work)
    export = onnx_dir_for(work, torch_encoder.fingerprint)
    onnx = open_variant(export)
    lengths = [len(encoding.ids) for encoding in onnx.tokenizer.encode_batch(texts)]
    print(
        f"{len(texts)} real abstracts, {os.cpu_count()} cores; tokens per text median "
        f"{statistics.median(lengths):.0f}, truncated at 256: "
        f"{np.mean(np.array(lengths) >= 256):.0%}, longer than 128: "
        f"{np.mean(np.array(lengths) > 128):.0%}; best of {repeats} runs; load average "
        f"{os.getloadavg()[0]:.1f} (the machine is shared)\n"
    )
    reference_wall, reference_rate, reference = rate(
        lambda t: torch_encoder.encode(t, 32), texts, repeats
    )
    print(f"{'path':<52} {'docs/s wall':>11} {'docs/CPU-s':>10} {'ratio':>6}  cosine to torch")
    print(
        f"{'torch sentence-transformers, batch 32 (reference)':<52} {reference_wall:>11.1f} "
        f"{reference_rate:>10.2f} {'x1.00':>6}",
        flush=True,
    )

    def add(label: str, encode: Callable) -> None:
        wall, docs_per_cpu_second, vectors = rate(encode, texts, repeats)
        cosines = np.sum(vectors * reference, axis=1)
        print(
            f"{label:<52} {wall:>11.1f} {docs_per_cpu_second:>10.2f} "
            f"{'x' + format(docs_per_cpu_second / reference_rate, '.2f'):>6}  "
            f"min {cosines.min():.5f} mean {cosines.mean():.6f}",
            flush=True,
        )

    import torch

    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    add("torch, batch 32, 1 thread", lambda t: torch_encoder.encode(t, 32))
    torch.set_num_threads(threads)
    add("onnx, batch 32 in given order (before)", unsorted_batches(onnx, 32))
    for batch_size in (16, 32, 64):
        add(f"onnx, length-sorted, batch {batch_size}", lambda t, b=batch_size: onnx.encode(t, b))
    one_thread = open_variant(export, threads=1)
    add("onnx, length-sorted, batch 32, 1 thread", lambda t: one_thread.encode(t, 32))
    calm = open_variant(export, spinning=False)
    add("onnx, length-sorted, batch 32, threads do not spin", lambda t: calm.encode(t, 32))
    short = open_variant(export, max_length=128)
    add("onnx, length-sorted, batch 32, max length 128", lambda t: short.encode(t, 32))
    fused_dir = variant(export, work, "fused", fused)
    fused_calm = open_variant(fused_dir, spinning=False)
    add("onnx fused (ORT transformers optimizer), no spin", lambda t: fused_calm.encode(t, 32))
    fused_one = open_variant(fused_dir, threads=1)
    add("onnx fused, 1 thread", lambda t: fused_one.encode(t, 32))
    quantised = open_variant(variant(export, work, "int8", int8), spinning=False)
    add("onnx int8 dynamic quantisation, no spin", lambda t: quantised.encode(t, 32))
    per_channel = open_variant(
        variant(export, work, "int8-channel", int8_per_channel), spinning=False
    )
    add("onnx int8 per-channel weights, no spin", lambda t: per_channel.encode(t, 32))
    shutil.rmtree(work, ignore_errors=True)


# --- the long run --------------------------------------------------------------------------------


def long_run(
    chosen: list[tuple[str, str]], held_out: list[str], out: Path, cache_dir: Path | None
) -> None:
    """Embed `chosen` with the default document path through an embedding cache, as
    `speechgraph index` does; save the vectors, ids and held-out query vectors under `out`.

    With `cache_dir` (kept afterwards) an interrupted run resumes: only what it lacks is embedded.
    """
    out.mkdir(parents=True, exist_ok=True)
    work = cache_dir or Path(tempfile.mkdtemp(prefix="speechgraph-embed-run-"))
    work.mkdir(parents=True, exist_ok=True)
    started = time.perf_counter()
    encoder = load_document_encoder(DEFAULT_MODEL, work)
    load_seconds = time.perf_counter() - started
    kind = "torch" if isinstance(encoder, TorchEncoder) else "onnx"
    cache = EmbeddingCache(work / "embeddings.sqlite")
    texts = [text for _, text in chosen]
    reported = [0]
    started = time.perf_counter()

    def progress(done: int, total: int) -> None:
        if done - reported[0] >= total // 20 or done == total:
            reported[0] = done
            elapsed = time.perf_counter() - started
            print(f"  {done:>6}/{total} {elapsed:7.1f} s {done / elapsed:6.1f} docs/s", flush=True)

    started_cpu = time.process_time()
    vectors, embedded = embed_texts(encoder, texts, cache, progress=progress)
    seconds, cpu_seconds = time.perf_counter() - started, time.process_time() - started_cpu
    print(
        f"embedded {embedded} real abstracts with the default document path ({kind}, model load "
        f"and export {load_seconds:.1f} s) in {seconds:.0f} s: {embedded / seconds:.1f} docs/s, "
        f"{embedded / max(cpu_seconds, 1e-9):.1f} docs per CPU-second; "
        f"load average {os.getloadavg()[1]:.1f} over the last 5 minutes (the machine is shared)"
    )
    np.save(out / "documents.npy", vectors)
    (out / "documents.json").write_text(json.dumps([paper_id for paper_id, _ in chosen]))
    np.save(out / "held_out.npy", encoder.encode(held_out, 32))
    print(f"saved {vectors.shape} documents and {len(held_out)} held-out queries to {out}")
    if cache_dir is None:
        shutil.rmtree(work, ignore_errors=True)


# --- Ray against the local path ----------------------------------------------------------------


def ray_comparison(texts: list[str]) -> None:
    """docs/s of the local path against Ray Data on a local Ray of 2 CPUs (one actor of 2 threads,
    then two of one), with Ray's start and stop times, on the same texts."""
    import ray

    from speechgraph.search import distributed

    work = Path(tempfile.mkdtemp(prefix="speechgraph-ray-bench-"))
    local_encoder = load_document_encoder(DEFAULT_MODEL, work)  # exports ONNX into work/
    local_encoder.encode(texts[:16])
    started = time.perf_counter()
    local, _ = embed_texts(local_encoder, texts, EmbeddingCache(work / "local.sqlite"))
    local_rate = len(texts) / (time.perf_counter() - started)
    print(f"\nlocal path: {len(texts)} real abstracts at {local_rate:.1f} docs/s")
    os.environ.setdefault("RAY_USAGE_STATS_ENABLED", "0")
    distributed.BLOCK_SIZE = max(32, len(texts) // 8)  # several blocks, to see the steady rate
    for per_actor in (2, 1):
        distributed.CPUS_PER_ACTOR = per_actor
        started = time.perf_counter()
        ray.init(num_cpus=2, include_dashboard=False, log_to_driver=False)
        startup = time.perf_counter() - started
        cache = EmbeddingCache(work / f"ray-{per_actor}.sqlite")
        blocks: list[tuple[float, int]] = []
        started = time.perf_counter()
        run = distributed.embed_with_ray(
            texts,
            cache,
            model=DEFAULT_MODEL,
            cache_dir=work,
            progress=lambda done, total, seen=blocks: seen.append((time.perf_counter(), done)),
        )
        seconds = time.perf_counter() - started
        started = time.perf_counter()
        ray.shutdown()
        stop = time.perf_counter() - started
        stored = cache.get_many(local_encoder.fingerprint, [text_hash(t) for t in texts])
        difference = np.abs(np.stack([stored[text_hash(t)] for t in texts]) - local).max()
        # After the first block back, the actors are up: the rest is the steady rate.
        (first_time, first_done), (last_time, last_done) = blocks[0], blocks[-1]
        steady = (last_done - first_done) / (last_time - first_time) if len(blocks) > 1 else 0
        print(
            f"local Ray, {run.actors} actor(s) x {per_actor} CPU: ray.init {startup:.1f} s, "
            f"embedding {seconds:.1f} s incl. actor start = {len(texts) / seconds:.1f} docs/s "
            f"(x{len(texts) / seconds / local_rate:.2f} of local); after the first block "
            f"{steady:.1f} docs/s (x{steady / local_rate:.2f}); ray.shutdown {stop:.1f} s; "
            f"max |ray - local| {difference:.2e}",
            flush=True,
        )
    shutil.rmtree(work, ignore_errors=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--source", type=Path, default=SOURCE if SOURCE.exists() else FALLBACK)
    parser.add_argument("--table", type=int, default=0, help="texts for the CPU table")
    parser.add_argument("--repeats", type=int, default=2)
    parser.add_argument("--run", type=int, default=0, help="texts for the long run")
    parser.add_argument("--queries", type=int, default=2000, help="held-out texts to save")
    parser.add_argument("--ray", type=int, default=0, help="texts for local vs local Ray")
    parser.add_argument("--cache", type=Path, help="embedding cache directory to resume from")
    parser.add_argument("--out", type=Path, default=Path("/tmp/speechgraph-vectors"))
    arguments = parser.parse_args()
    wanted = max(arguments.run, arguments.table * 20, arguments.ray)
    chosen, held_out = sample(arguments.source, wanted, arguments.queries)
    print(
        f"read {len(chosen)} documents and {len(held_out)} held-out texts from {arguments.source}"
    )
    if arguments.table:
        picks = np.random.default_rng(0).choice(len(chosen), arguments.table, replace=False)
        table([chosen[row][1] for row in picks], arguments.repeats)
    if arguments.ray:
        ray_comparison([text for _, text in chosen[: arguments.ray]])
    if arguments.run:
        long_run(chosen[: arguments.run], held_out, arguments.out, arguments.cache)


if __name__ == "__main__":
    main()
