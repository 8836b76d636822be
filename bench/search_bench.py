"""Search benchmark: index build time and memory, latency p50/p95 end to end (query encode + index
+ fetching the hits from the store) next to the floor (query encode + FAISS alone), ANN recall@10
against exact search, embedding throughput against raw SentenceTransformer.encode, and cold/warm
CLI timings on the seed catalogue. Not run by the tests.

Synthetic catalogues are clustered, paper-like unit vectors (384-d) stored with a paper row each;
queries are real questions encoded by the real model (the ONNX query path). ANN recall and
latency on real abstract vectors (and at 740K) are bench/ann_bench.py's; document embedding
rates are bench/embed_bench.py's.

    python bench/search_bench.py                # 10K and 100K
    python bench/search_bench.py --full         # and 1M (a few more minutes, ~4 GB of memory)
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

from speechgraph.catalogue.keywords import KeywordDocument, build_keyword_index
from speechgraph.catalogue.store import open_db
from speechgraph.catalogue.vectors import EmbeddingCache
from speechgraph.config import Settings
from speechgraph.search.encoder import embed_texts, load_encoder
from speechgraph.search.hybrid import Searcher
from speechgraph.search.index import FLAT, VectorIndex
from speechgraph.search.onnx import export_onnx

DIMENSION = 384
QUERIES = [
    item["query"]
    for item in json.loads(Path(__file__).with_name("eval_queries.json").read_text())["queries"]
]
WORDS = [
    "speech",
    "speaker",
    "neural",
    "vocoder",
    "recognition",
    "synthesis",
    "diarization",
    "language",
    "model",
    "audio",
    "transformer",
    "self-supervised",
    "separation",
    "verification",
    "embedding",
    "spectrogram",
    "waveform",
    "multilingual",
    "streaming",
    "robust",
    "efficient",
    "zero-shot",
    "codec",
    "diffusion",
    "flow",
    "contrastive",
]


# --- synthetic catalogues ------------------------------------------------------------------------


def clustered_vectors(count: int, seed: int = 0) -> np.ndarray:
    """Paper-like unit vectors: 40 fields on a 32-d manifold mapped into 384-d, plus noise and a
    shared direction (sentence embeddings are anisotropic). Neighbours sit at cosine ~0.85 and
    random pairs near 0.09, and topics blend into each other, so IVF recall is not a given
    (well-separated blobs would make any ANN index look perfect)."""
    rng = np.random.default_rng(seed)
    latent, fields = 32, 40
    projection = rng.normal(size=(latent, DIMENSION)).astype(np.float32) / np.sqrt(latent)
    centres = rng.normal(size=(fields, latent)).astype(np.float32)
    shared = np.full(DIMENSION, 0.3 / np.sqrt(DIMENSION), dtype=np.float32)
    vectors = np.empty((count, DIMENSION), dtype=np.float32)
    for start in range(0, count, 100_000):
        stop = min(count, start + 100_000)
        points = centres[rng.integers(0, fields, stop - start)]
        points += 0.8 * rng.normal(size=points.shape).astype(np.float32)
        block = points @ projection + 0.02 * rng.normal(size=(stop - start, DIMENSION))
        block = block.astype(np.float32)
        block += shared * np.linalg.norm(block, axis=1, keepdims=True)
        vectors[start:stop] = block / np.linalg.norm(block, axis=1, keepdims=True)
    return vectors


def synthetic_catalogue(settings: Settings, count: int) -> list[str]:
    """Paper rows written straight into a migrated SQLite catalogue (1M ORM upserts take hours)."""
    open_db(settings.db_url).dispose()
    ids = [f"9{number // 100_000:03d}.{number % 100_000:05d}" for number in range(count)]
    rng = np.random.default_rng(1)
    with sqlite3.connect(settings.data_dir / "speechgraph.db") as connection:
        connection.executemany(
            "INSERT INTO paper (id, title, year, aliases, builds_on, source, is_stub) "
            "VALUES (?, ?, ?, '[]', '[]', 'snapshot', 0)",
            (
                (paper_id, " ".join(rng.choice(WORDS, 6)), 2000 + number % 25)
                for number, paper_id in enumerate(ids)
            ),
        )
        connection.execute("INSERT INTO author (id, name) VALUES (1, 'A. Researcher')")
        connection.executemany(
            "INSERT INTO paperauthor (paper_id, position, author_id) VALUES (?, 0, 1)",
            ((paper_id,) for paper_id in ids),
        )
        connection.execute("INSERT INTO meta (key, value) VALUES ('catalogue_version', '1')")
    return ids


def rss_megabytes() -> float:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return float("nan")


# --- measurements --------------------------------------------------------------------------------


def percentiles(samples: list[float]) -> tuple[float, float]:
    ordered = sorted(samples)
    return statistics.median(ordered), ordered[int(0.95 * (len(ordered) - 1))]


def scale_row(count: int, encoder_settings: Settings, rounds: int) -> dict[str, object]:
    home = Path(tempfile.mkdtemp(prefix=f"speechgraph-bench-{count}-"))
    settings = Settings.load(data_dir=home, db_url=f"sqlite:///{home / 'speechgraph.db'}")
    ids = synthetic_catalogue(settings, count)
    drawn = clustered_vectors(count + 200)  # the last 200: held-out queries near the same topics
    vectors, held_out = drawn[:count], drawn[count:]
    rss_before = rss_megabytes()
    started = time.perf_counter()
    index = VectorIndex.build(
        ids,
        vectors,
        model=encoder_settings.model,
        fingerprint=_fingerprint(encoder_settings),
        catalogue_version=1,
    )
    build_seconds = time.perf_counter() - started
    memory = rss_megabytes() - rss_before
    vectors_file = index.save(settings.index_dir)
    file_megabytes = vectors_file.stat().st_size / 1e6
    documents = [KeywordDocument(i, "", "", "", "") for i in ids[:1]]
    build_keyword_index(settings.index_dir, documents, 1)
    shutil.copytree(encoder_settings.cache_dir, settings.cache_dir, dirs_exist_ok=True)
    searcher = Searcher(settings)
    encoder = searcher.encoder
    floor, end_to_end = [], []
    for _ in range(rounds):
        for query in QUERIES:
            start = time.perf_counter()
            searcher.index.search(encoder.encode([query])[0], 10)
            middle = time.perf_counter()
            searcher.search(query, 10, "dense")
            end_to_end.append(time.perf_counter() - middle)
            floor.append(middle - start)
    row: dict[str, object] = {
        "papers": count,
        "kind": index.manifest.kind,
        "build_s": build_seconds,
        "memory_mb": memory,
        "file_mb": file_megabytes,
        "floor": percentiles(floor),
        "e2e": percentiles(end_to_end),
        "recall": ann_recall(index, vectors, ids, held_out) if index.manifest.kind != FLAT else 1.0,
        "exact_ms": exact_search_ms(vectors) if count <= 1_000_000 else float("nan"),
    }
    searcher.store.dispose()
    del searcher, index, vectors
    shutil.rmtree(home, ignore_errors=True)
    return row


def ann_recall(
    index: VectorIndex, vectors: np.ndarray, ids: list[str], queries: np.ndarray
) -> float:
    """recall@10 against exact search for held-out paper-like queries."""
    exact = VectorIndex.build(
        ids, vectors, model="m", fingerprint="f", catalogue_version=1, kind=FLAT
    )
    found = [
        len({i for i, _ in index.search(q, 10)} & {i for i, _ in exact.search(q, 10)}) / 10
        for q in queries
    ]
    return float(np.mean(found))


def exact_search_ms(vectors: np.ndarray) -> float:
    import faiss

    flat = faiss.IndexFlatIP(DIMENSION)
    flat.add(vectors)
    queries = clustered_vectors(30, seed=9)
    faiss.omp_set_num_threads(1)
    start = time.perf_counter()
    for query in queries:
        flat.search(query[None, :], 10)
    faiss.omp_set_num_threads(os.cpu_count() or 1)
    return (time.perf_counter() - start) / len(queries) * 1000


def _fingerprint(settings: Settings) -> str:
    from speechgraph.search.encoder import model_fingerprint

    return model_fingerprint(settings.model, settings.cache_dir)


def embedding_throughput(settings: Settings) -> dict[str, float]:
    """docs/s of our batched, cached embedding vs raw SentenceTransformer.encode."""
    notes = [
        f"{query.capitalize()}. " + " ".join(WORDS[(n + i) % len(WORDS)] for i in range(150))
        for n, query in enumerate(QUERIES * 2)
    ]
    encoder = load_encoder(settings.model, settings.cache_dir)
    encoder.model.encode(notes[:4])
    raw, ours = 0.0, 0.0
    for attempt in range(3):  # alternate and keep the best: the machine is shared
        start = time.perf_counter()
        encoder.model.encode(notes, batch_size=32, normalize_embeddings=True)
        raw = max(raw, len(notes) / (time.perf_counter() - start))
        cache = EmbeddingCache(settings.cache_dir / f"bench-embeddings-{attempt}.sqlite")
        start = time.perf_counter()
        embed_texts(encoder, notes, cache)
        ours = max(ours, len(notes) / (time.perf_counter() - start))
    start = time.perf_counter()
    embed_texts(encoder, notes, cache)
    cached = len(notes) / (time.perf_counter() - start)
    torch_query = []
    for query in QUERIES:
        start = time.perf_counter()
        encoder.encode([query])
        torch_query.append(time.perf_counter() - start)
    return {
        "texts": len(notes),
        "raw": raw,
        "ours": ours,
        "cached": cached,
        "torch_query_ms": statistics.median(torch_query) * 1000,
    }


def cli_timings(seed_home: Path, runs: int = 5) -> dict[str, list[float]]:
    command = [sys.executable, "-m", "speechgraph.cli.app", "--data-dir", str(seed_home), "search"]
    entry = Path(sys.executable).with_name("speechgraph")
    if entry.exists():
        command = [str(entry), "--data-dir", str(seed_home), "search"]
    walls = []
    for query in QUERIES[:runs]:
        start = time.perf_counter()
        subprocess.run([*command, query, "--json"], check=True, capture_output=True)
        walls.append(time.perf_counter() - start)
    searcher = Searcher(Settings.load(data_dir=seed_home))
    floor, warm = [], []
    for _ in range(5):
        for query in QUERIES:
            start = time.perf_counter()
            searcher.index.search(searcher.encoder.encode([query])[0], 10)
            middle = time.perf_counter()
            searcher.search(query, 10)
            warm.append(time.perf_counter() - middle)
            floor.append(middle - start)
    return {"cold": walls, "warm": warm, "floor": floor}


# --- the report ----------------------------------------------------------------------------------


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--full", action="store_true", help="also the 1M catalogue")
    parser.add_argument("--seed-dir", type=Path, help="indexed seed catalogue for CLI timings")
    parser.add_argument("--rounds", type=int, default=3, help="passes over the query set")
    arguments = parser.parse_args()
    model_home = Path(tempfile.mkdtemp(prefix="speechgraph-bench-model-"))
    settings = Settings.load(data_dir=model_home)
    export_onnx(load_encoder(settings.model, settings.cache_dir), settings.cache_dir)

    print(
        f"machine: {os.cpu_count()} cores; {len(QUERIES)} real questions x {arguments.rounds}; "
        "floor = ONNX query encode + FAISS; e2e = Searcher.search(mode=dense) incl. store fetch\n"
    )
    sizes = [10_000, 100_000] + ([1_000_000] if arguments.full else [])
    print(
        f"{'papers':>9} {'index':>5} {'build s':>8} {'RSS MB':>7} {'file MB':>7} {'exact ms':>8} "
        f"{'floor p50/p95 ms':>17} {'e2e p50/p95 ms':>15} {'ratio p50':>9} {'recall@10':>9}"
    )
    for count in sizes:
        row = scale_row(count, settings, arguments.rounds)
        floor, e2e = row["floor"], row["e2e"]
        print(
            f"{count:>9} {row['kind']:>5} {row['build_s']:>8.1f} {row['memory_mb']:>7.0f} "
            f"{row['file_mb']:>7.0f} "
            f"{row['exact_ms']:>8.1f} {floor[0] * 1e3:>8.1f}/{floor[1] * 1e3:<8.1f}"
            f"{e2e[0] * 1e3:>7.1f}/{e2e[1] * 1e3:<7.1f} {e2e[0] / floor[0]:>9.2f} "
            f"{row['recall']:>9.3f}",
            flush=True,
        )

    throughput = embedding_throughput(settings)
    print(
        f"\nembedding {throughput['texts']} abstract-length texts: raw SentenceTransformer.encode "
        f"{throughput['raw']:.1f} docs/s, embed_texts {throughput['ours']:.1f} docs/s "
        f"(ratio {throughput['ours'] / throughput['raw']:.2f}), re-run from cache "
        f"{throughput['cached']:.0f} docs/s; one query through torch "
        f"{throughput['torch_query_ms']:.1f} ms (p50), vs ONNX in the floor above"
    )
    if arguments.seed_dir:
        timings = cli_timings(arguments.seed_dir)
        warm, floor = percentiles(timings["warm"]), percentiles(timings["floor"])
        print(
            f"\nseed catalogue CLI: cold `speechgraph search` wall "
            f"{' '.join(f'{wall:.2f}' for wall in timings['cold'])} s (median "
            f"{statistics.median(timings['cold']):.2f} s); warm hybrid p50 {warm[0] * 1e3:.1f} ms "
            f"vs floor {floor[0] * 1e3:.1f} ms (ratio {warm[0] / floor[0]:.2f})"
        )
    shutil.rmtree(model_home, ignore_errors=True)


if __name__ == "__main__":
    main()
