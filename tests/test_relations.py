"""Tests for knowledge.sentences, knowledge.introduced and knowledge.relations on real abstracts
(read from ../shared/corpus at test time, never copied here), on sentences written for the tests,
and for the curated data in ingest/snapshot.json that these relations are checked against."""

from __future__ import annotations

import gzip
import json
import re
from datetime import date
from functools import cache
from itertools import islice

import pytest

from conftest import INGEST_DIR, SHARED_DIR
from speechgraph.knowledge.introduced import introduced_names
from speechgraph.knowledge.names import MethodName, catalogue_names, find_names, tokenize
from speechgraph.knowledge.relations import (
    BUILDS_ON,
    COMPARES_WITH,
    MENTIONS,
    NameIndex,
    TextRelation,
    expand_name_index,
    name_variants,
    prune_by_date,
    relations_of,
    submitted_before,
)
from speechgraph.knowledge.sentences import sentence_spans, split_sentences
from speechgraph.records import PaperView

CORPUS_DIR = SHARED_DIR / "corpus"


@cache
def seed_abstracts() -> dict[str, str]:
    lines = (CORPUS_DIR / "seed-papers.jsonl").read_text(encoding="utf-8").splitlines()
    return {record["id"]: record["abstract"] for record in map(json.loads, lines)}


@cache
def snapshot_papers() -> dict[str, dict]:
    data = json.loads((INGEST_DIR / "snapshot.json").read_text(encoding="utf-8"))
    return {paper["id"]: paper for paper in data["papers"]}


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


@cache
def curation_off_index() -> NameIndex:
    """Titles' "X:" names plus the names the abstracts introduce: no curated aliases."""
    papers = snapshot_papers().values()
    introduced = {
        p["id"]: introduced_names(p["title"], seed_abstracts().get(p["id"])) for p in papers
    }
    return expand_name_index(catalogue_names([view(p, curated=False) for p in papers]), introduced)


def relations_for(paper_id: str) -> list[TextRelation]:
    paper = snapshot_papers()[paper_id]
    return relations_of(paper_id, paper["title"], seed_abstracts()[paper_id], curation_off_index())


def kinds_to(relations: list[TextRelation], target: str) -> set[str]:
    return {relation.kind for relation in relations if relation.target_id == target}


def introduced(paper_id: str) -> dict[str, tuple[float, str]]:
    paper = snapshot_papers()[paper_id]
    found = introduced_names(paper["title"], seed_abstracts()[paper_id])
    return {name.text: (name.confidence, name.how) for name in found}


# --- sentences ------------------------------------------------------------------------


def test_sentences_survive_abbreviations_versions_math_and_urls() -> None:
    text = (
        "Prior systems (e.g. Tacotron 2) use attention, i.e. soft alignment. We extend wav2vec 2.0 "
        "to 53 languages and OWSM v3.1 to 4.5 times the data. Smith et al. report 2.5 points vs. "
        "the old baseline. The loss is $\\mathcal{L} = a. B$ per frame. Code: https://x.org/a.b. "
        "Done!"
    )
    assert split_sentences(text) == [
        "Prior systems (e.g. Tacotron 2) use attention, i.e. soft alignment.",
        "We extend wav2vec 2.0 to 53 languages and OWSM v3.1 to 4.5 times the data.",
        "Smith et al. report 2.5 points vs. the old baseline.",
        "The loss is $\\mathcal{L} = a. B$ per frame.",
        "Code: https://x.org/a.b.",
        "Done!",
    ]


def test_sentences_of_numbered_lists_and_missing_spaces() -> None:
    assert split_sentences("Two steps: 1. Encode it. 2. Decode it.") == [
        "Two steps: 1. Encode it.",
        "2. Decode it.",
    ]
    assert split_sentences("It is scarce.However, we cope.") == [
        "It is scarce.",
        "However, we cope.",
    ]


def test_every_sentence_of_every_real_abstract_is_a_verbatim_slice() -> None:
    abstracts = list(seed_abstracts().values())
    with gzip.open(CORPUS_DIR / "speech-arxiv.jsonl.gz", "rt", encoding="utf-8") as stream:
        abstracts += [json.loads(line)["abstract"] for line in islice(stream, 2000)]
    for abstract in abstracts:
        spans = sentence_spans(abstract)
        assert spans, abstract[:80]
        for start, end in spans:
            assert abstract[start:end] == abstract[start:end].strip() != ""
        # Nothing but whitespace is lost between sentences.
        rest = abstract
        for start, end in reversed(spans):
            rest = rest[:start] + rest[end:]
        assert not rest.strip()


def test_real_abstracts_split_where_a_reader_would() -> None:
    wav2vec2 = split_sentences(seed_abstracts()["2006.11477"])
    assert len(wav2vec2) == 6
    assert wav2vec2[1].startswith("wav2vec 2.0 masks")
    lgl = split_sentences(seed_abstracts()["2110.03869"])  # "$46.3\%$" and "$1.66\%$" stay whole
    assert len(lgl) == 7 and any("$46.3\\%$" in sentence for sentence in lgl)


# --- names a paper introduces ---------------------------------------------------------


@pytest.mark.parametrize(
    ("paper_id", "name", "how"),
    [
        ("2010.05646", "HiFi-GAN", "title"),  # title head and "we propose HiFi-GAN"
        ("1808.00158", "SincNet", "called"),
        ("1412.5567", "Deep Speech", "called"),
        ("1706.03762", "Transformer", "propose"),  # "a new ... architecture, the Transformer,"
        ("1911.05722", "Momentum Contrast", "propose"),
        ("1911.05722", "MoCo", "acronym"),
        ("1704.08063", "A-Softmax", "acronym"),
        ("2108.05679", "xi-vector", "called"),
        ("2305.05084", "Fast Conformer", "called"),
        ("2006.04558", "FastSpeech 2s", "propose"),
        ("2312.03620", "Gemini ResNet", "called"),
        ("2409.08346", "ACCENT", "acronym"),
    ],
)
def test_introduced_names_of_well_known_papers(paper_id: str, name: str, how: str) -> None:
    found = introduced(paper_id)
    assert name in found, found
    confidence, found_how = found[name]
    assert found_how == how and 0.6 <= confidence <= 1.0


def test_two_signals_agreeing_raise_the_confidence() -> None:
    assert introduced("2010.05646")["HiFi-GAN"][0] > introduced("2203.16852")["JETS"][0]


def test_names_a_paper_only_uses_are_not_introduced() -> None:
    # A-Softmax brought into speaker verification, a lab's name in a system description, two
    # earlier architectures applied to a new task, "a Bayesian formulation".
    assert "A-softmax" not in introduced("1806.03464")
    assert not {"BUT", "VoxSRC"} & set(introduced("1910.12592"))
    assert not {"ResNeXt", "Res2Net"} & set(introduced("2007.02480"))
    assert "Bayesian" not in introduced("2108.05679")
    assert "Squeeze-and-Excitation" not in introduced("2005.07143")


def test_introduced_names_on_all_seed_abstracts_agree_with_our_aliases() -> None:
    with_names = agree = with_aliases = 0
    for paper_id, abstract in seed_abstracts().items():
        paper = snapshot_papers()[paper_id]
        found = {tuple(tokenize(n.text)) for n in introduced_names(paper["title"], abstract)}
        with_names += bool(found)
        if paper["aliases"]:
            with_aliases += 1
            agree += bool(found & {tuple(tokenize(alias)) for alias in paper["aliases"]})
    assert with_names >= 58  # of the 83 abstracts (61 when measured)
    assert agree >= 0.8 * with_aliases  # 60 of 70 when measured; the rest never write their name


# --- typing relations by their cues ---------------------------------------------------

CATALOGUE = [  # real titles of real papers
    (
        "2010.05646",
        "HiFi-GAN: Generative Adversarial Networks for Efficient and High Fidelity "
        "Speech Synthesis",
    ),
    ("1811.00002", "WaveGlow: A Flow-based Generative Network for Speech Synthesis"),
    ("2005.08100", "Conformer: Convolution-augmented Transformer for Speech Recognition"),
    ("1609.03499", "WaveNet: A Generative Model for Raw Audio"),
    (
        "1810.04826",
        "VoiceFilter: Targeted Voice Separation by Speaker-Conditioned Spectrogram Masking",
    ),
]


@pytest.fixture(scope="module")
def small_index() -> NameIndex:
    entries = [{"id": i, "title": t, "aliases": []} for i, t in CATALOGUE]
    return catalogue_names([view(entry, curated=False) for entry in entries])


def typed(small_index: NameIndex, abstract: str, title: str = "A study") -> dict[str, str]:
    found = relations_of("9901.00001", title, abstract, small_index)
    return {relation.name: relation.kind for relation in found}


def test_the_cue_of_the_clause_holding_the_name_types_it(small_index: NameIndex) -> None:
    assert typed(small_index, "Unlike WaveGlow, our vocoder is based on HiFi-GAN.") == {
        "WaveGlow": COMPARES_WITH,
        "HiFi-GAN": BUILDS_ON,
    }
    assert typed(small_index, "Our model is based on HiFi-GAN, while WaveNet is far slower.") == {
        "HiFi-GAN": BUILDS_ON,
        "WaveNet": MENTIONS,
    }


@pytest.mark.parametrize(
    ("sentence", "kind"),
    [
        ("We extend HiFi-GAN with a pitch predictor.", BUILDS_ON),
        ("Our decoder is built upon HiFi-GAN.", BUILDS_ON),
        ("Following HiFi-GAN, we use two discriminators.", BUILDS_ON),
        ("The design is inspired by HiFi-GAN.", BUILDS_ON),
        ("We train a HiFi-GAN-based vocoder.", BUILDS_ON),
        ("Our model outperforms HiFi-GAN by 0.3 MOS.", COMPARES_WITH),
        ("Compared to HiFi-GAN, it is five times faster.", COMPARES_WITH),
        ("We use HiFi-GAN as a baseline.", COMPARES_WITH),
        ("It is faster than HiFi-GAN.", COMPARES_WITH),
        ("We compare with strong baselines such as HiFi-GAN and WaveGlow.", COMPARES_WITH),
        ("Neural vocoders such as HiFi-GAN changed the field.", MENTIONS),
        ("HiFi-GAN is popular.", MENTIONS),
    ],
)
def test_cue_words_type_a_relation(small_index: NameIndex, sentence: str, kind: str) -> None:
    assert typed(small_index, sentence)["HiFi-GAN"] == kind


def test_a_sentence_about_earlier_work_is_a_mention(small_index: NameIndex) -> None:
    assert typed(small_index, "Existing systems are based on WaveNet.") == {"WaveNet": MENTIONS}
    assert typed(small_index, "We build on WaveNet.") == {"WaveNet": BUILDS_ON}


def test_no_relation_to_itself_to_a_namesake_or_to_a_later_version(small_index: NameIndex) -> None:
    # Our own new "VoiceFilter" is not the catalogue's VoiceFilter; "unrelated to" is no relation;
    # "HiFi-GAN 2" is another work than HiFi-GAN.
    assert typed(small_index, "We propose VoiceFilter, a new speech enhancer.") == {}
    assert typed(small_index, "It is unrelated to WaveNet despite the name.") == {}
    assert typed(small_index, "We compare with HiFi-GAN 2 and WaveGlow.") == {
        "WaveGlow": COMPARES_WITH
    }
    found = relations_of("2010.05646", CATALOGUE[0][1], "We propose HiFi-GAN.", small_index)
    assert found == []


def test_a_title_naming_another_method_builds_on_it(small_index: NameIndex) -> None:
    found = relations_of("9901.00001", "Jointly Training Conformer and HiFi-GAN", None, small_index)
    assert {(r.name, r.kind, r.field) for r in found} == {
        ("Conformer", BUILDS_ON, "title"),
        ("HiFi-GAN", BUILDS_ON, "title"),
    }


def test_evidence_is_the_sentence_verbatim_and_confidence_ranks_kinds(
    small_index: NameIndex,
) -> None:
    abstract = "We study vocoders.  Our  system is based on HiFi-GAN. Models such as WaveNet exist."
    found = relations_of("9901.00001", "A study", abstract, small_index)
    by_name = {relation.name: relation for relation in found}
    assert by_name["HiFi-GAN"].evidence == "Our  system is based on HiFi-GAN."
    assert by_name["HiFi-GAN"].cue == "based on"
    assert by_name["HiFi-GAN"].confidence > by_name["WaveNet"].confidence > 0
    assert all(0 < relation.confidence <= 1 for relation in found)


# --- relations on real abstracts, checked by reading them ----------------------------


def test_sv2tts_builds_on_tacotron_2_and_wavenet() -> None:
    found = relations_for("1806.04558")
    tacotron2 = next(r for r in found if r.target_id == "1712.05884")
    assert tacotron2.kind == BUILDS_ON and tacotron2.cue == "based on"
    assert "based on Tacotron 2" in tacotron2.evidence
    assert tacotron2.evidence in seed_abstracts()["1806.04558"]
    assert kinds_to(found, "1609.03499") == {BUILDS_ON}  # "WaveNet-based vocoder"


def test_canary_builds_on_fast_conformer_and_beats_owsm_and_seamless() -> None:
    found = relations_for("2406.19674")
    assert kinds_to(found, "2305.05084") == {BUILDS_ON}  # "FastConformer-based"
    assert kinds_to(found, "2401.16658") == {COMPARES_WITH}  # "OWSM"
    assert kinds_to(found, "2308.11596") == {COMPARES_WITH}  # "Seamless-M4T"


def test_fast_conformer_redesigns_and_beats_conformer_but_its_own_name_is_no_mention() -> None:
    found = relations_for("2305.05084")
    assert kinds_to(found, "2005.08100") == {BUILDS_ON, COMPARES_WITH}
    assert all(relation.name != "Fast Conformer" for relation in found)


def test_examples_in_a_sentence_about_earlier_work_are_mentions() -> None:
    found = relations_for("1905.09263")  # FastSpeech: "Prominent methods (e.g., Tacotron 2) ..."
    assert kinds_to(found, "1712.05884") == {MENTIONS}
    assert kinds_to(found, "1609.03499") == {MENTIONS}
    assert BUILDS_ON in kinds_to(found, "1706.03762")  # "based on Transformer"


def test_no_seed_paper_relates_to_itself_and_pruning_removes_later_papers() -> None:
    found = [r for paper_id in seed_abstracts() for r in relations_for(paper_id)]
    assert found and all(r.source_id != r.target_id for r in found)
    months = {pid: p["published"][:7] for pid, p in snapshot_papers().items()}
    kept = prune_by_date(found, months)
    assert all(
        submitted_before(r.target_id, months[r.target_id], r.source_id, months[r.source_id])
        is not False
        for r in kept
    )
    # FunAudioLLM's abstract names CosyVoice, submitted after it in the same month.
    assert any(r.source_id == "2407.04051" and r.target_id == "2407.05407" for r in found)
    assert not any(r.source_id == "2407.04051" and r.target_id == "2407.05407" for r in kept)


def test_curated_builds_on_pairs_that_the_text_names_are_recovered() -> None:
    curated = catalogue_names([view(p, curated=True) for p in snapshot_papers().values()])
    pairs, named = set(), set()
    for paper_id, paper in snapshot_papers().items():
        for entry in paper["builds_on"]:
            pairs |= {
                (paper_id, n.paper_id)
                for _, n in find_names(entry, curated)
                if n.paper_id != paper_id
            }
        text = paper["title"] + ". " + seed_abstracts().get(paper_id, "")
        named |= {(paper_id, name.paper_id) for _, name in find_names(text, curated)}
    found = {
        (r.source_id, r.target_id)
        for pid in seed_abstracts()
        for r in relations_for(pid)
        if r.kind == BUILDS_ON
    }
    reachable = pairs & named
    assert len(reachable) >= 20
    assert len(reachable & found) >= 0.75 * len(reachable)  # 20 of 24 when measured


# --- the name index without curation ----------------------------------------------------


def test_name_variants() -> None:
    assert name_variants("Fast Conformer") == ["FastConformer"]
    assert name_variants("SeamlessM4T") == ["Seamless M4T"]
    assert name_variants("OWSM v3.1") == ["OWSM"]
    assert name_variants("HiFi-GAN") == ["Hi Fi-GAN"]


def test_expanded_index_holds_introduced_names_and_keeps_acronyms_in_capitals() -> None:
    index = curation_off_index()
    assert [n.paper_id for n in index[("sincnet",)]] == ["1808.00158"]  # "called SincNet"
    assert [n.paper_id for n in index[("fastconformer",)]] == ["2305.05084"]
    accent: MethodName = index[("accent",)][0]
    assert accent.paper_id == "2409.08346" and accent.case_sensitive
    assert find_names("Speakers with a strong accent.", index) == []
    assert [n.paper_id for _, n in find_names("We adopt ACCENT.", index)] == ["2409.08346"]


# --- the date rule ------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("a_id", "a_date", "b_id", "b_date", "expected"),
    [
        ("2407.04051", "2024-07", "2407.05407", "2024-07", True),  # same month: id order
        ("2407.05407", "2024-07", "2407.04051", "2024-07", False),
        ("2407.05407", date(2024, 7, 1), "2407.04051", date(2024, 7, 30), False),  # ids decide
        ("2305.05084", "2023-05", "2406.19674", "2024-06", True),
        ("s2:a", "2020-05-01", "s2:b", "2020-05-02", True),  # full dates
        ("s2:a", "2020-05-02", "s2:b", "2020-05-02", False),  # a tie is never a prerequisite
        ("s2:a", "2020-05", "s2:b", "2020-05-02", None),  # only the month is known for a
        ("s2:a", "2019", "s2:b", "2020-01-01", True),
        ("s2:a", None, "2005.08100", None, None),
        ("s2:a", None, "2005.08100", "2020-05", None),
        ("hep-th/9901001", None, "2005.08100", None, True),  # old-style ids carry their month
        ("2005.08100", None, "2006.04558", None, True),  # the month from the id
        ("2005.08100", None, "2005.08100", None, False),
    ],
)
def test_submitted_before(a_id, a_date, b_id, b_date, expected) -> None:
    assert submitted_before(a_id, a_date, b_id, b_date) is expected


# --- the curated data ---------------------------------------------------------------------


def test_notes_repeat_no_12_word_run_of_any_abstract() -> None:
    def runs(text: str) -> set[str]:
        words = re.findall(r"[a-z0-9]+", text.lower())
        return {" ".join(words[i : i + 12]) for i in range(len(words) - 11)}

    abstract_runs: set[str] = set()
    for abstract in seed_abstracts().values():
        abstract_runs |= runs(abstract)
    with gzip.open(CORPUS_DIR / "speech-arxiv.jsonl.gz", "rt", encoding="utf-8") as stream:
        for line in stream:
            abstract_runs |= runs(json.loads(line)["abstract"] or "")
    copied = {pid: runs(p["note"] or "") & abstract_runs for pid, p in snapshot_papers().items()}
    assert {pid: found for pid, found in copied.items() if found} == {}


def test_curated_fixes_hold() -> None:
    papers = snapshot_papers()
    assert "VoxCeleb2" not in papers["1806.04558"]["builds_on"]
    assert "18K speakers" in papers["1806.04558"]["note"]
    assert "CosyVoice" not in papers["2407.04051"]["builds_on"]
    assert "Tacotron 2" in papers["2106.06103"]["compares_with"]
    assert "wav2vec 2.0" in papers["2212.04356"]["compares_with"]
    assert "WaveGlow" in papers["2010.05646"]["compares_with"]
    assert "ContextNet" in papers["2005.08100"]["compares_with"]
    assert (
        papers["1704.08063"]["title"]
        == "SphereFace: Deep Hypersphere Embedding for Face Recognition"
    )
    assert len(papers["2305.05084"]["authors"]) == 11
    assert len(papers["2308.11596"]["authors"]) == 68
    assert len(papers["2411.05361"]["authors"]) == 80
    assert [pid for pid, p in papers.items() if not p["authors"]] == ["2407.15188"]
    for paper in papers.values():
        assert not set(paper["builds_on"]) & set(paper["compares_with"]), paper["id"]


def test_our_notes_never_type_a_curated_baseline_as_built_on() -> None:
    curated = catalogue_names([view(p, curated=True) for p in snapshot_papers().values()])
    for paper_id, paper in snapshot_papers().items():

        def targets(field: str, paper: dict = paper) -> set[str]:
            return {n.paper_id for entry in paper[field] for _, n in find_names(entry, curated)}

        # "Transformer Transducer", a Conformer baseline, resolves to the Transformer it builds on
        baselines = targets("compares_with") - targets("builds_on")
        found = relations_of(paper_id, paper["title"], None, curated, note=paper["note"])
        built_on = {r.target_id for r in found if r.field == "note" and r.kind == BUILDS_ON}
        assert not built_on & baselines, paper_id
