"""ANN benchmark on real vectors: recall@10 against exact search, one-query latency p50/p95 (one
thread, as `VectorIndex.search` runs), memory and build time for FAISS flat, IVF (nlist, nprobe),
HNSW (M, efSearch), IVF-SQ8 and IVF-PQ, at the real size and at 740K. Not run by the tests.

The real vectors are title + abstract embeddings of real arXiv papers saved by
`bench/embed_bench.py --run`; at 740K the rest are SYNTHETIC: each is a real vector moved along
the offsets to its 10 nearest real neighbours, plus noise, so they keep the real vectors' topic
mix and local shape (printed: nearest-neighbour cosines, real vs synthetic).
Queries: held-out real abstracts (not in the index) and real questions (bench/eval_queries*.json)
encoded by the ONNX query path; each query's latency below includes no encoding, which is
printed on its own (p50/p95) and then added to the library's chosen index end to end.

    python bench/ann_bench.py --vectors /tmp/speechgraph-vectors            # real size
    python bench/ann_bench.py --vectors /tmp/speechgraph-vectors --total 740000
"""

from __future__ import annotations

import argparse
import json
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

import faiss
import numpy as np

from speechgraph.config import DEFAULT_MODEL
from speechgraph.search.index import VectorIndex
from speechgraph.search.onnx import load_query_encoder

BENCH_DIR = Path(__file__).parent
K = 10


# --- vectors -------------------------------------------------------------------------------------


def normalised(vectors: np.ndarray) -> np.ndarray:
    return (vectors / np.linalg.norm(vectors, axis=1, keepdims=True)).astype(np.float32)


def synthetic_around(real: np.ndarray, count: int, seed: int = 7) -> np.ndarray:
    """`count` SYNTHETIC vectors, each a real vector moved by a random mix (weights ~ N(0, 0.7))
    of the offsets to its 10 nearest real neighbours, plus isotropic noise of 0.3 of its length:
    they spread along the real manifold about as far from their base (median cosine ~0.56) as a
    real paper's nearest neighbour is from it (~0.64), rather than clumping around it."""
    rng = np.random.default_rng(seed)
    neighbours = real_neighbours(real, 10)
    synthetic = np.empty((count, real.shape[1]), dtype=np.float32)
    for start in range(0, count, 20_000):
        size = min(20_000, count - start)
        bases = rng.integers(0, len(real), size)
        weights = rng.normal(0, 0.7, (size, 10)).astype(np.float32)
        offsets = real[neighbours[bases]] - real[bases][:, None, :]
        moved = real[bases] + np.einsum("nk,nkd->nd", weights, offsets)
        noise = rng.normal(size=moved.shape).astype(np.float32) * (0.3 / np.sqrt(real.shape[1]))
        synthetic[start : start + size] = normalised(moved + noise)
    return synthetic


def real_neighbours(real: np.ndarray, k: int) -> np.ndarray:
    """Each real vector's `k` nearest other real vectors (exact)."""
    flat = faiss.IndexFlatIP(real.shape[1])
    flat.add(real)
    return flat.search(real, k + 1)[1][:, 1:]


def nearest_cosines(vectors: np.ndarray, probes: np.ndarray) -> np.ndarray:
    flat = faiss.IndexFlatIP(vectors.shape[1])
    flat.add(vectors)
    scores, _ = flat.search(probes, 2)
    return scores[:, 1]  # [0] is the probe itself


def real_questions() -> list[str]:
    questions = []
    for name in ("eval_queries.json", "eval_queries_field.json"):
        path = BENCH_DIR / name
        if path.exists():
            questions += [item["query"] for item in json.loads(path.read_text())["queries"]]
    return questions


# --- measuring one index -------------------------------------------------------------------------


def exact_truth(vectors: np.ndarray, queries: np.ndarray) -> np.ndarray:
    flat = faiss.IndexFlatIP(vectors.shape[1])
    flat.add(vectors)
    return flat.search(queries, K)[1]


def recall(found: np.ndarray, truth: np.ndarray) -> float:
    return float(np.mean([len(set(f) & set(t)) / K for f, t in zip(found, truth, strict=True)]))


def timed_search(index: faiss.Index, queries: np.ndarray) -> tuple[np.ndarray, float, float]:
    """Found ids and p50/p95 ms of one query at a time on one thread."""
    faiss.omp_set_num_threads(1)
    found, times = [], []
    for query in queries:
        started = time.perf_counter()
        found.append(index.search(query[None, :], K)[1][0])
        times.append(time.perf_counter() - started)
    faiss.omp_set_num_threads(2)
    milliseconds = np.array(times) * 1000
    return (
        np.array(found),
        float(np.percentile(milliseconds, 50)),
        float(np.percentile(milliseconds, 95)),
    )


def index_megabytes(index: faiss.Index) -> float:
    return faiss.serialize_index(index).nbytes / 1e6


def measure(
    label: str,
    make: Callable[[], faiss.Index],
    settings: list[tuple[str, Callable[[faiss.Index], None]]],
    vectors: np.ndarray,
    query_sets: dict[str, tuple[np.ndarray, np.ndarray]],
) -> None:
    faiss.omp_set_num_threads(2)
    started = time.perf_counter()
    index = make()
    if not index.is_trained:
        index.train(training_sample(vectors, index))
    index.add(vectors)
    build = time.perf_counter() - started
    memory = index_megabytes(index)
    for name, apply in settings:
        apply(index)
        cells = []
        for queries, truth in query_sets.values():
            found, p50, p95 = timed_search(index, queries)
            cells.append(f"{recall(found, truth):>6.3f} {p50:>6.2f} {p95:>6.2f}")
        print(
            f"{label:<22} {name:<14} {'   '.join(cells)}  {memory:>7.0f} {build:>7.1f}", flush=True
        )
    del index


def training_sample(vectors: np.ndarray, index: faiss.Index) -> np.ndarray:
    lists = getattr(faiss.try_extract_index_ivf(index), "nlist", 256)
    size = min(len(vectors), max(lists * 39, 10_000))
    rows = np.random.default_rng(0).choice(len(vectors), size=size, replace=False)
    return vectors[np.sort(rows)]


def ivf(dimension: int, lists: int, code: str = "Flat") -> Callable[[], faiss.Index]:
    def make() -> faiss.Index:
        index = faiss.index_factory(dimension, f"IVF{lists},{code}", faiss.METRIC_INNER_PRODUCT)
        faiss.extract_index_ivf(index).cp.niter = 10
        return index

    return make


def nprobe(value: int) -> tuple[str, Callable[[faiss.Index], None]]:
    return f"nprobe={value}", lambda index: setattr(faiss.extract_index_ivf(index), "nprobe", value)


def ef_search(value: int) -> tuple[str, Callable[[faiss.Index], None]]:
    return f"efSearch={value}", lambda index: setattr(index.hnsw, "efSearch", value)


def hnsw(dimension: int, links: int, construction: int = 40) -> Callable[[], faiss.Index]:
    def make() -> faiss.Index:
        index = faiss.IndexHNSWFlat(dimension, links, faiss.METRIC_INNER_PRODUCT)
        index.hnsw.efConstruction = construction
        return index

    return make


def sweep(vectors: np.ndarray, query_sets: dict, total: int) -> None:
    dimension = vectors.shape[1]
    print(
        f"\n{'index':<22} {'search':<14} "
        + "   ".join(f"{name + ' r@10 p50 p95 ms':<20}" for name in query_sets)
        + f"  {'MB':>7} {'build s':>7}"
    )
    flat = [("-", lambda index: None)]
    measure("flat (exact)", lambda: faiss.IndexFlatIP(dimension), flat, vectors, query_sets)
    big = total > 200_000
    # At 740K each IVF build takes minutes on 2 shared cores: one list count, the library's.
    for lists in (4096,) if big else (256, 1024):
        probes = [64, 128, 256, 410] if big else [16, 32, 64, 128]
        settings = [nprobe(p) for p in probes]
        measure(f"IVF{lists},Flat", ivf(dimension, lists), settings, vectors, query_sets)
    lists = 4096 if big else 1024
    for code in ("SQ8",) if big else ("SQ8", "PQ48"):
        settings = [nprobe(256), nprobe(410)] if big else [nprobe(64), nprobe(128)]
        measure(f"IVF{lists},{code}", ivf(dimension, lists, code), settings, vectors, query_sets)
    if not big:  # HNSW at 740K takes longer to build on 2 shared cores than this run has
        for links in (16, 32):
            settings = [ef_search(e) for e in (32, 64, 128)]
            measure(f"HNSW{links}", hnsw(dimension, links), settings, vectors, query_sets)


# --- the library's choice end to end -------------------------------------------------------------


def library_choice(vectors: np.ndarray, questions: list[str], truth: np.ndarray) -> None:
    """The index `VectorIndex.build` picks for this size, searched the way `Searcher` does: one
    question encoded by the ONNX query path, then `VectorIndex.search`."""
    ids = [f"p{row}" for row in range(len(vectors))]
    started = time.perf_counter()
    index = VectorIndex.build(
        ids, vectors, model=DEFAULT_MODEL, fingerprint="f", catalogue_version=1
    )
    build = time.perf_counter() - started
    encoder = load_query_encoder(DEFAULT_MODEL, Path(tempfile.mkdtemp(prefix="ann-bench-")))
    for question in questions[:5]:
        encoder.encode([question])
    encode_ms, total_ms, found = [], [], []
    for _ in range(3):
        for question in questions:
            started = time.perf_counter()
            query = encoder.encode([question])[0]
            middle = time.perf_counter()
            hits = index.search(query, K)
            done = time.perf_counter()
            encode_ms.append((middle - started) * 1000)
            total_ms.append((done - started) * 1000)
            found.append([int(paper_id[1:]) for paper_id, _ in hits])
    manifest = index.manifest
    asked = recall(np.array(found[: len(questions)]), truth)
    print(
        f"\nlibrary choice at {len(vectors)}: {manifest.kind} (nprobe {manifest.nprobe}), "
        f"built in {build:.1f} s; recall@10 on the questions {asked:.3f}; query encoding "
        f"{spread(encode_ms)} ms; encode + search {spread(total_ms)} ms"
    )


def spread(milliseconds: list[float]) -> str:
    return f"p50 {np.percentile(milliseconds, 50):.1f} / p95 {np.percentile(milliseconds, 95):.1f}"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--vectors", type=Path, default=Path("/tmp/speechgraph-vectors"))
    parser.add_argument("--total", type=int, default=0, help="pad with synthetic vectors to this")
    parser.add_argument("--queries", type=int, default=500, help="held-out abstracts to ask")
    parser.add_argument("--no-sweep", action="store_true", help="only the library's choice")
    arguments = parser.parse_args()
    real = np.load(arguments.vectors / "documents.npy")
    held_out = np.load(arguments.vectors / "held_out.npy")[: arguments.queries]
    vectors = real
    if arguments.total > len(real):
        synthetic = synthetic_around(real, arguments.total - len(real))
        vectors = np.vstack([real, synthetic])
        probes = np.random.default_rng(1).choice(len(real), 1000, replace=False)
        real_nn = nearest_cosines(real, real[probes])
        mixed_nn = nearest_cosines(vectors, synthetic[probes])
        print(
            f"{len(real)} REAL + {len(synthetic)} SYNTHETIC vectors; nearest-neighbour cosine "
            f"median real-among-real {np.median(real_nn):.3f}, synthetic-among-all "
            f"{np.median(mixed_nn):.3f}"
        )
        del synthetic
    else:
        print(f"{len(real)} REAL vectors (title + abstract of real arXiv papers)")
    encoder = load_query_encoder(DEFAULT_MODEL, Path(tempfile.mkdtemp(prefix="ann-bench-")))
    questions = real_questions()
    asked = encoder.encode(questions)
    query_sets = {
        "abstracts": (held_out, exact_truth(vectors, held_out)),
        "questions": (asked, exact_truth(vectors, asked)),
    }
    print(f"queries: {len(held_out)} held-out real abstracts, {len(questions)} real questions")
    if not arguments.no_sweep:
        sweep(vectors, query_sets, len(vectors))
    library_choice(vectors, questions, query_sets["questions"][1])


if __name__ == "__main__":
    main()
