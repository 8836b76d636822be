"""Names and relations read from text, measured on the 84 seed papers with curation OFF.

Each paper is only what arXiv gives: id, title, date (from ingest/snapshot.json) and the real
abstract (from ../shared/corpus/seed-papers.jsonl); notes, aliases and builds-on lists are ignored.
The name index is the titles' "X:" names plus the names the abstracts introduce. The relations
found are compared with the curated `builds_on` and `compares_with` lists of the snapshot (resolved
to papers with the curated aliases), and every relation found is scored by our own reading (JUDGED
below). With --field, the 8,469 recent papers of ../shared/corpus/speech-arxiv.jsonl.gz are read
against the same seed index, and a fixed random sample of their relations is scored (JUDGED_FIELD).
Not run by the tests.

    python bench/relations_bench.py [--field] [--show-judged]
"""

from __future__ import annotations

import argparse
import gzip
import json
import random
import time
from collections import Counter
from pathlib import Path

from speechgraph.knowledge.introduced import introduced_names
from speechgraph.knowledge.names import catalogue_names, find_names, tokenize
from speechgraph.knowledge.relations import (
    BUILDS_ON,
    COMPARES_WITH,
    MENTIONS,
    NameIndex,
    TextRelation,
    expand_name_index,
    prune_by_date,
    relations_of,
)
from speechgraph.records import PaperView

KINDS = (BUILDS_ON, COMPARES_WITH, MENTIONS)

REPO = Path(__file__).resolve().parent.parent
SNAPSHOT = REPO / "ingest" / "snapshot.json"
ABSTRACTS = REPO.parent / "shared" / "corpus" / "seed-papers.jsonl"
FIELD = REPO.parent / "shared" / "corpus" / "speech-arxiv.jsonl.gz"
FIELD_SAMPLE = 40  # field relations read by hand
SAMPLE_SEED = 7
EVIDENCE_CHARS = 150

# Relations found beyond the curated lists, judged by reading the evidence sentence:
# (source, target, kind) -> (right?, why). Kept here so the precision figure can be re-checked.
JUDGED: dict[tuple[str, str, str], tuple[bool, str]] = {
    ("1712.05884", "1609.03499", BUILDS_ON): (True, "a modified WaveNet is its vocoder"),
    ("1806.03464", "1704.08063", BUILDS_ON): (True, "trains with SphereFace's A-Softmax"),
    ("1806.04558", "1609.03499", BUILDS_ON): (True, "WaveNet-based vocoder"),
    ("1806.04558", "1712.05884", BUILDS_ON): (True, "synthesizer based on Tacotron 2"),
    ("1811.00002", "1609.03499", BUILDS_ON): (True, "combines ideas of Glow and WaveNet"),
    ("1905.09263", "1706.03762", BUILDS_ON): (True, "feed-forward network based on Transformer"),
    ("1905.09263", "1706.03762", COMPARES_WITH): (
        False,
        "the system compared is Transformer TTS, another paper; only its first word matched",
    ),
    ("1905.09263", "1609.03499", MENTIONS): (True, "named among what earlier systems use"),
    ("1905.09263", "1712.05884", MENTIONS): (True, "an example of earlier systems"),
    ("1910.12592", "1706.08612", BUILDS_ON): (True, "evaluated on the VoxCeleb test sets"),
    ("2005.07143", "1706.08612", BUILDS_ON): (True, "evaluated on the VoxCeleb test sets"),
    ("2005.08100", "1706.03762", COMPARES_WITH): (True, "beats earlier Transformer models"),
    ("2005.08100", "1706.03762", BUILDS_ON): (True, "a convolution-augmented Transformer"),
    ("2006.04558", "1905.09263", COMPARES_WITH): (True, "measured against FastSpeech"),
    ("2007.02480", "1706.08612", BUILDS_ON): (True, "experiments on VoxCeleb"),
    ("2010.14751", "1706.08612", BUILDS_ON): (True, "experiments on VoxCeleb"),
    ("2104.14294", "1706.03762", MENTIONS): (True, "Vision Transformers are Transformers"),
    ("2110.03869", "1706.08612", BUILDS_ON): (True, "tested on VoxCeleb1"),
    ("2110.03869", "1806.05622", BUILDS_ON): (True, "trained on VoxCeleb2"),
    ("2203.16502", "1706.03762", BUILDS_ON): (True, "a dual-tower Transformer"),
    ("2203.16852", "2006.04558", BUILDS_ON): (True, "trains FastSpeech 2 jointly"),
    ("2203.16852", "2010.05646", BUILDS_ON): (True, "trains HiFi-GAN jointly"),
    ("2303.00332", "1706.08612", BUILDS_ON): (True, "experiments on VoxCeleb"),
    ("2303.00332", "2005.07143", MENTIONS): (True, "named as the strong but slow variant"),
    ("2305.05084", "2005.08100", BUILDS_ON): (True, "a redesigned Conformer"),
    ("2305.05084", "2005.08100", COMPARES_WITH): (True, "faster than the original Conformer"),
    ("2305.05084", "1706.03762", BUILDS_ON): (True, "paired with a Transformer decoder"),
    ("2312.03620", "1706.08612", BUILDS_ON): (True, "improvements reported on VoxCeleb"),
    ("2401.16658", "1706.03762", MENTIONS): (True, "what earlier OWSM versions used"),
    ("2406.19674", "2305.05084", BUILDS_ON): (True, "a FastConformer-based encoder"),
    ("2406.19674", "2401.16658", COMPARES_WITH): (True, "outperforms OWSM"),
    ("2406.19674", "2308.11596", COMPARES_WITH): (True, "outperforms Seamless-M4T"),
    ("2410.06885", "1706.03762", BUILDS_ON): (True, "its Diffusion Transformer is a Transformer"),
}
# Introduced names that our reading finds wrong (all the others were read and are right).
WRONG_INTRODUCED = {
    ("2303.11816", "Personalized Lightweight Text-to-Speech"): "the title's opening words",
    ("2404.06395", "LRS"): "an abbreviation of 'learning rate scheduler', a generic term",
}
JUDGED_FIELD: dict[tuple[str, str, str], tuple[bool, str]] = {
    ("2510.02597", "1706.03762", BUILDS_ON): (True, "a Transformer-based stage of its pipeline"),
    ("2506.07294", "2006.11477", BUILDS_ON): (True, "leverages wav2vec 2.0 features"),
    ("2512.19090", "1706.03762", BUILDS_ON): (True, "employs a Transformer-DiT architecture"),
    ("2107.09817", "1706.03762", MENTIONS): (
        True,
        "a full Transformer network (builds on, in fact)",
    ),
    ("2502.00358", "1706.03762", MENTIONS): (True, "names transformer architectures of others"),
    ("2605.31295", "1706.03762", BUILDS_ON): (
        False,
        "the sentence speaks of the field, not the paper",
    ),
    ("2503.23542", "1706.03762", BUILDS_ON): (True, "reports results of transformer-based ASR"),
    ("2511.11825", "1706.03762", BUILDS_ON): (True, "a transformer-based framework"),
    ("2606.26144", "1706.08612", BUILDS_ON): (True, "evaluated on VoxCeleb"),
    ("2310.18450", "1904.08779", COMPARES_WITH): (True, "a SpecAugment baseline"),
    ("2604.22290", "1706.03762", BUILDS_ON): (True, "Transformer-based, per its title"),
    ("2507.22094", "1706.03762", BUILDS_ON): (True, "Transformer models, per its title"),
    ("2107.01573", "1706.03762", COMPARES_WITH): (True, "compared with a transformer system"),
    ("2502.20857", "1706.03762", BUILDS_ON): (True, "its model is a Transformer"),
    ("2602.01861", "1706.03762", BUILDS_ON): (True, "a Transformer, per its title"),
    ("2601.16150", "1706.03762", MENTIONS): (True, "earlier transformer approaches"),
    ("2501.12682", "1706.03762", BUILDS_ON): (True, "combines CNNs and Transformer-based models"),
    ("2508.10456", "2005.08100", COMPARES_WITH): (True, "measured against a Conformer model"),
    ("2503.16432", "1706.03762", BUILDS_ON): (True, "a transformer-based model"),
    ("2606.09050", "1706.03762", MENTIONS): (True, "diffusion transformer decoder layers"),
    ("2601.19109", "2501.01108", MENTIONS): (True, "uses MuQ-MuLan embeddings"),
    ("2412.18614", "1706.03762", BUILDS_ON): (True, "a Transformer-based model"),
    ("2606.16843", "2006.11477", MENTIONS): (True, "evaluates wav2vec 2.0 representations"),
    ("2505.17816", "1706.03762", BUILDS_ON): (True, "a transformer-based translation system"),
    ("2508.04418", "2104.14294", BUILDS_ON): (
        False,
        "Grounding-DINO is another DINO (a detector), not the self-supervised one",
    ),
    ("2608.07385", "1706.03762", COMPARES_WITH): (True, "compared to transformer-based methods"),
    ("2608.04433", "1706.03762", MENTIONS): (True, "its encoder is a transformer"),
    ("2412.19200", "1706.03762", BUILDS_ON): (True, "uses an attention transformer"),
    ("2606.23228", "2005.08100", BUILDS_ON): (True, "based on Conformer, per its title"),
    ("2606.30312", "1706.03762", BUILDS_ON): (True, "experiments with transformer-based models"),
    ("2512.21706", "1706.03762", MENTIONS): (True, "a multimodal transformer"),
    ("2107.11414", "2006.11477", BUILDS_ON): (True, "uses wav2vec 2.0, per its title"),
    ("2508.03166", "1706.03762", BUILDS_ON): (True, "Transformer-based, per its title"),
    ("2107.05907", "2005.08100", COMPARES_WITH): (True, "error reduction over the conformer"),
    ("2606.11542", "2006.11477", COMPARES_WITH): (True, "compares fine-tuned Wav2Vec2 and HuBERT"),
    ("2505.23688", "2006.11477", BUILDS_ON): (True, "with wav2vec2.0, per its title"),
    ("2509.14136", "1706.03762", COMPARES_WITH): (True, "outperforms a Transformer student"),
    ("2601.16989", "1706.03762", BUILDS_ON): (True, "two transformer-based architectures"),
    ("2506.03378", "1706.03762", BUILDS_ON): (True, "employs a transformer encoder"),
    ("2606.02980", "1706.03762", BUILDS_ON): (True, "Transformer-based, per its title"),
    ("2608.07944", "1706.03762", BUILDS_ON): (True, "uses a Diffusion Transformer"),
    ("2608.04433", "2005.07143", MENTIONS): (True, "an ECAPA-TDNN head is appended"),
}


def load_papers() -> tuple[list[dict], dict[str, str]]:
    snapshot = json.loads(SNAPSHOT.read_text(encoding="utf-8"))
    abstracts = {}
    for line in ABSTRACTS.read_text(encoding="utf-8").splitlines():
        record = json.loads(line)
        abstracts[record["id"]] = record["abstract"]
    return snapshot["papers"], abstracts


def view(entry: dict, *, curated: bool) -> PaperView:
    return PaperView(
        id=entry["id"],
        title=entry["title"],
        authors=[],
        year=None,
        published=None,
        categories=[],
        abstract=None,
        note=None,
        aliases=list(entry["aliases"]) if curated else [],
    )


def curated_pairs(papers: list[dict], field: str) -> set[tuple[str, str]]:
    """(source, target) pairs of a curated list, targets resolved with the curated names."""
    names = catalogue_names([view(entry, curated=True) for entry in papers])
    pairs = set()
    for entry in papers:
        for item in entry.get(field) or []:
            for _, name in find_names(item, names):
                if name.paper_id != entry["id"]:
                    pairs.add((entry["id"], name.paper_id))
    return pairs


def month(entry: dict) -> str | None:
    # The snapshot's dates carry year and month only (the day is a placeholder).
    return entry["published"][:7] if entry.get("published") else None


def report_introduced(papers: list[dict], abstracts: dict[str, str]) -> None:
    found = {e["id"]: introduced_names(e["title"], abstracts.get(e["id"])) for e in papers}
    total = sum(len(names) for names in found.values())
    wrong = [
        key for key in WRONG_INTRODUCED if any(n.text == key[1] for n in found.get(key[0], []))
    ]
    with_alias = [e for e in papers if e["aliases"]]
    agree = sum(
        bool(
            {tuple(tokenize(n.text)) for n in found[e["id"]]}
            & {tuple(tokenize(a)) for a in e["aliases"]}
        )
        for e in with_alias
    )
    print(
        f"introduced names {total} in {sum(map(bool, found.values()))} of {len(papers)} papers; "
        f"right by our reading {total - len(wrong)}/{total}; "
        f"one of them is a curated alias for {agree} of the {len(with_alias)} papers with aliases"
    )


def seed_index(papers: list[dict], abstracts: dict[str, str]) -> NameIndex:
    """Curation off: the titles' "X:" names and the names the abstracts introduce."""
    introduced = {e["id"]: introduced_names(e["title"], abstracts.get(e["id"])) for e in papers}
    return expand_name_index(catalogue_names([view(e, curated=False) for e in papers]), introduced)


def find_relations(papers: list[dict], abstracts: dict[str, str]) -> list[TextRelation]:
    names = seed_index(papers, abstracts)
    found = []
    for entry in papers:
        found += relations_of(entry["id"], entry["title"], abstracts.get(entry["id"]), names)
    return prune_by_date(found, {entry["id"]: month(entry) for entry in papers})


def named_in_text(papers: list[dict], abstracts: dict[str, str]) -> set[tuple[str, str]]:
    """(source, target) pairs where the source's title or abstract writes one of the target's
    curated names: the pairs that reading the text can reach at all."""
    names = catalogue_names([view(entry, curated=True) for entry in papers])
    pairs = set()
    for entry in papers:
        text = entry["title"] + ". " + (abstracts.get(entry["id"]) or "")
        pairs |= {(entry["id"], name.paper_id) for _, name in find_names(text, names)}
    return pairs


def show_relation(relation: TextRelation) -> str:
    head = f"{relation.source_id} -> {relation.target_id} {relation.kind} [{relation.cue}]"
    return f"{head} {relation.name!r}: {relation.evidence[:EVIDENCE_CHARS]}"


def recall(pairs: set[tuple[str, str]], found: list[TextRelation], kind: str | None = None) -> str:
    hit = {(r.source_id, r.target_id) for r in found if kind is None or r.kind == kind}
    share = len(pairs & hit) / len(pairs) if pairs else 0.0
    return f"{len(pairs & hit)}/{len(pairs)} = {share:.0%}"


def report_seeds(papers: list[dict], abstracts: dict[str, str], show_judged: bool) -> None:
    found = find_relations(papers, abstracts)
    builds, compares = curated_pairs(papers, "builds_on"), curated_pairs(papers, "compares_with")
    kinds = Counter(r.kind for r in found)
    print(f"papers {len(papers)}, abstracts {len(abstracts)}")
    report_introduced(papers, abstracts)
    print(f"relations {len(found)}: " + ", ".join(f"{k} {kinds[k]}" for k in KINDS))
    reachable = named_in_text(papers, abstracts)
    for kind, pairs in ((BUILDS_ON, builds), (COMPARES_WITH, compares)):
        named = pairs & reachable
        print(f"curated {kind} pairs: {len(pairs)}, the text names the target in {len(named)}")
        print(
            f"  recovered: any kind {recall(pairs, found)}, as {kind} {recall(pairs, found, kind)}"
        )
        print(
            f"  of those named: any kind {recall(named, found)}, as {kind} "
            f"{recall(named, found, kind)}"
        )
    extra = [r for r in found if (r.source_id, r.target_id) not in builds | compares]
    print(f"relations beyond the curated lists: {len(extra)}")
    print_precision(found, JUDGED, show_judged)


def print_precision(
    found: list[TextRelation], judged: dict[tuple[str, str, str], tuple[bool, str]], show: bool
) -> None:
    keys = [(r.source_id, r.target_id, r.kind) for r in found]
    read = [judged[key][0] for key in keys if key in judged]
    share = sum(read) / len(read) if read else 0.0
    print(
        f"precision by our reading: {sum(read)}/{len(read)} = {share:.0%} (not yet read: "
        f"{len(keys) - len(read)})"
    )
    for relation, key in zip(found, keys, strict=True):
        if show or key not in judged:
            mark = "?" if key not in judged else ("right" if judged[key][0] else "WRONG")
            print(f"  {mark:5} {show_relation(relation)}")


def report_field(papers: list[dict], abstracts: dict[str, str], show_judged: bool) -> None:
    """Relations from the 8,469 recent papers of the speech corpus to the seed papers."""
    names = seed_index(papers, abstracts)
    with gzip.open(FIELD, "rt", encoding="utf-8") as stream:
        records = [json.loads(line) for line in stream]
    started = time.perf_counter()
    found: list[TextRelation] = []
    named = 0
    for record in records:
        named += bool(introduced_names(record["title"], record["abstract"]))
        found += relations_of(record["id"], record["title"], record["abstract"], names)
    seconds = time.perf_counter() - started
    dates = {entry["id"]: month(entry) for entry in papers}
    dates |= {record["id"]: record.get("published") or None for record in records}
    found = prune_by_date(found, dates)
    kinds = Counter(r.kind for r in found)
    print(f"field: {len(records)} papers read in {seconds:.1f} s; {named} introduce a name")
    print(
        f"relations to seed papers {len(found)} from {len({r.source_id for r in found})} papers: "
        + ", ".join(f"{k} {kinds[k]}" for k in KINDS)
    )
    targets = Counter(r.name for r in found).most_common(8)
    print("most named: " + ", ".join(f"{name} {count}" for name, count in targets))
    sample = random.Random(SAMPLE_SEED).sample(
        sorted(found, key=lambda r: (r.source_id, r.target_id, r.kind)), FIELD_SAMPLE
    )
    print_precision(sample, JUDGED_FIELD, show_judged)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--show-judged", action="store_true", help="print judged relations too")
    parser.add_argument("--field", action="store_true", help="also the 8,469 recent papers")
    args = parser.parse_args()
    papers, abstracts = load_papers()
    report_seeds(papers, abstracts, args.show_judged)
    if args.field:
        report_field(papers, abstracts, args.show_judged)


if __name__ == "__main__":
    main()
