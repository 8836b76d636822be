"""The knowledge graph, reading plans and paths on a small hand-made catalogue in real SQLite,
and on the real seed catalogue built offline."""

from __future__ import annotations

import json
from dataclasses import replace
from datetime import date
from pathlib import Path

import networkx as nx
import numpy as np
import pytest
from typer.testing import CliRunner

from speechgraph.catalogue import schema as models
from speechgraph.catalogue import store
from speechgraph.catalogue.queries import citation_pairs, load_papers
from speechgraph.cli.app import app
from speechgraph.errors import PaperNotFound
from speechgraph.graph.edges import (
    BUILDS_ON,
    CITES,
    CO_LISTED,
    COMPARES_WITH,
    EDGE_KINDS,
    MENTIONS,
    SHARES_AUTHOR,
    SIMILAR,
    build_graph,
    compare_time,
)
from speechgraph.graph.plans import MAX_DEPTH, find_path, prerequisites
from speechgraph.knowledge.derive import relations_among
from speechgraph.knowledge.names import catalogue_names, find_names, names_of
from speechgraph.records import Mention, PaperRecord, PaperView, Resolution, ResolvedList
from speechgraph.update.derive import derive_knowledge

# (id, title, published, authors, aliases, builds_on, note): real papers, our own short notes.
PAPERS = [
    ("1412.5567", "Deep Speech: Scaling up end-to-end speech recognition", date(2014, 12, 17),
     ["Awni Hannun", "Adam Coates"], ["Deep Speech"], [],
     "An end-to-end recurrent recogniser trained with CTC on lots of data."),
    ("1609.03499", "WaveNet: A Generative Model for Raw Audio", date(2016, 9, 12),
     ["Aaron van den Oord", "Heiga Zen"], ["WaveNet"], [],
     "Dilated causal convolutions that generate audio one sample at a time; later the vocoder "
     "of Tacotron 2."),
    ("1703.10135", "Tacotron: Towards End-to-End Speech Synthesis", date(2017, 3, 29),
     ["Yuxuan Wang", "RJ Skerry-Ryan"], ["Tacotron"], [],
     "Attention-based sequence-to-sequence synthesis from characters to spectrograms."),
    ("1706.03762", "Attention Is All You Need", date(2017, 6, 12),
     ["Ashish Vaswani", "Noam Shazeer"], ["Transformer"], [],
     "Self-attention replaces recurrence for sequence transduction."),
    ("1706.08612", "VoxCeleb: a large-scale speaker identification dataset", date(2017, 6, 26),
     ["Arsha Nagrani", "Joon Son Chung"], ["VoxCeleb"], [],
     "Celebrity interview audio collected automatically for speaker identification."),
    ("1712.05884", "Natural TTS Synthesis by Conditioning WaveNet on Mel Spectrogram Predictions",
     date(2017, 12, 16), ["Jonathan Shen", "Yuxuan Wang", "RJ Skerry-Ryan"], ["Tacotron 2"],
     ["Tacotron", "WaveNet"], "Predicts mel spectrograms and renders them with a WaveNet."),
    ("1811.00002", "WaveGlow: A Flow-based Generative Network for Speech Synthesis",
     date(2018, 10, 31), ["Ryan Prenger", "Rafael Valle"], ["WaveGlow"], ["WaveNet"],
     "A flow-based vocoder that is much faster than autoregressive sampling."),
    ("1905.09263", "FastSpeech: Fast, Robust and Controllable Text to Speech", date(2019, 5, 22),
     ["Yi Ren", "Xu Tan"], ["FastSpeech"], ["Transformer", "Tacotron 2"],
     "Non-autoregressive synthesis with a length regulator distilled from a teacher."),
    ("2005.07143", "ECAPA-TDNN: Emphasized Channel Attention, Propagation and Aggregation in TDNN "
     "Based Speaker Verification", date(2020, 5, 14), ["Brecht Desplanques"], ["ECAPA-TDNN"],
     ["VoxCeleb"], "A TDNN speaker embedding extractor with channel attention."),
    ("2005.08100", "Conformer: Convolution-augmented Transformer for Speech Recognition",
     date(2020, 5, 16), ["Anmol Gulati"], ["Conformer"], ["Transformer"],
     "Adds convolution modules to Transformer blocks for speech recognition."),
    ("2006.04558", "FastSpeech 2: Fast and High-Quality End-to-End Text to Speech",
     date(2020, 6, 8), ["Yi Ren", "Xu Tan", "Tao Qin"], ["FastSpeech 2"], ["FastSpeech"],
     "Trains on ground-truth targets with pitch and energy predictors instead of distillation."),
    ("2010.05646", "HiFi-GAN: Generative Adversarial Networks for Efficient and High Fidelity "
     "Speech Synthesis", date(2020, 10, 12), ["Jungil Kong"], ["HiFi-GAN"], [],
     "A GAN vocoder with multi-period discriminators, faster than WaveGlow."),
    ("2106.06103", "Conditional Variational Autoencoder with Adversarial Learning for End-to-End "
     "Text-to-Speech", date(2021, 6, 11), ["Jaehyeon Kim", "Jungil Kong"], ["VITS"], [],
     "A single model from text to waveform with a HiFi-GAN style decoder."),
    ("2203.16852", "JETS: Jointly Training FastSpeech2 and HiFi-GAN for End to End Text to Speech",
     date(2022, 3, 31), ["Dan Lim"], [], [], "Trains the acoustic model and vocoder together."),
    ("2212.04356", "Robust Speech Recognition via Large-Scale Weak Supervision",
     date(2022, 12, 6), ["Alec Radford"], ["Whisper"], [],
     "A Transformer encoder-decoder trained on weakly labelled web audio; unlike Deep Speech it "
     "needs no curated transcripts. Not to be confused with deep speech models in general."),
    ("2305.05084", "Fast Conformer with Linearly Scalable Attention for Efficient Speech "
     "Recognition", date(2023, 5, 8), ["Dima Rekesh"], ["Fast Conformer"], [],
     "Fast Conformer downsamples more aggressively than the Conformer."),
    ("2409.06656", "Sortformer: Seamless Integration of Speaker Diarization and ASR by Bridging "
     "Timestamps and Tokens", date(2024, 9, 10), ["Taejin Park"], ["Sortformer"], [],
     "A diarization model on a Fast Conformer encoder that sorts speakers by arrival time."),
]  # fmt: skip

# list name -> section -> [(paper id, link text)] in reading order
LISTS = {
    "awesome-speech": {
        "Text to Speech": [
            ("1609.03499", "WaveNet"),
            ("1703.10135", "Tacotron"),
            ("1811.00002", "FastSpeech"),  # a mislabelled link, as real lists have
            ("2010.05646", "HiFi-GAN"),
            ("2106.06103", "VITS"),
            ("2203.16852", "JETS"),
        ],
        "Recognition": [
            ("1706.03762", "Attention is All You Need"),
            ("2005.08100", "Conformer"),
            ("2212.04356", "Whisper"),
            ("2305.05084", "Fast Conformer"),
        ],
        "Speakers": [("1706.08612", "VoxCeleb"), ("2005.07143", "ECAPA-TDNN")],
    }
}


def write_catalogue(db_url: str, citations: list[tuple[str, str]] = ()) -> store.Store:
    catalogue = store.open_db(db_url)
    with catalogue.writing() as writer:
        for paper_id, title, published, authors, aliases, builds_on, note in PAPERS:
            record = PaperRecord(paper_id, title, authors, published=published, source="snapshot")
            writer.upsert_paper(record, note=note, aliases=aliases, builds_on=builds_on)
        for list_name, sections in LISTS.items():
            rows = [
                (Mention(list_name, section, text, 10 * section_number + line, "arxiv",
                         arxiv_id=paper_id), Resolution(paper_id, "link"))
                for section_number, (section, entries) in enumerate(sections.items())
                for line, (paper_id, text) in enumerate(entries)
            ]  # fmt: skip
            writer.replace_list(ResolvedList(list_name, "test", None, rows, []))
        for citing, cited in citations:
            writer.session.add(models.Citation(citing_id=citing, cited_id=cited))
    derive_knowledge(catalogue, None)
    return catalogue


@pytest.fixture
def db_url(tmp_path: Path) -> str:
    return f"sqlite:///{tmp_path}/x.db"


@pytest.fixture
def papers(db_url: str) -> list[PaperView]:
    catalogue = write_catalogue(db_url)
    return load_papers(catalogue)


@pytest.fixture
def graph(papers: list[PaperView]) -> nx.MultiDiGraph:
    return build_graph(papers, [], relations=relations_among(papers))


def edge(graph: nx.MultiDiGraph, later: str, earlier: str, kind: str) -> dict | None:
    return graph.get_edge_data(later, earlier, key=kind)


# --- edges ---


def test_every_edge_has_a_kind_evidence_and_confidence(graph: nx.MultiDiGraph) -> None:
    assert graph.number_of_nodes() == len(PAPERS)
    kinds = set()
    for first, second, data in graph.edges(data=True):
        kinds.add(data["kind"])
        assert first != second
        assert data["kind"] in EDGE_KINDS
        assert isinstance(data["evidence"], str)
        assert data["evidence"]
        assert 0.0 < data["confidence"] <= 1.0
    # no citations, no embeddings given: what the texts say, list order, shared authors
    assert kinds == {BUILDS_ON, COMPARES_WITH, MENTIONS, CO_LISTED, SHARES_AUTHOR}


def test_relations_from_titles_notes_and_curated_lists(graph: nx.MultiDiGraph) -> None:
    hifigan = edge(graph, "2203.16852", "2010.05646", BUILDS_ON)
    assert hifigan["evidence"].startswith("JETS builds on HiFi-GAN: ")
    assert "Jointly Training FastSpeech2 and HiFi-GAN" in hifigan["evidence"]  # its title
    listed = edge(graph, "1712.05884", "1703.10135", BUILDS_ON)
    assert listed["evidence"] == (
        "Tacotron 2 builds on Tacotron: our notes list 'Tacotron' among the methods it builds on"
    )
    styled = edge(graph, "2106.06103", "2010.05646", BUILDS_ON)  # "a HiFi-GAN style decoder"
    assert styled["evidence"] == (
        "VITS builds on HiFi-GAN: A single model from text to waveform "
        "with a HiFi-GAN style decoder."
    )
    # our curated lists are stronger evidence than a passing phrase in a note
    assert listed["confidence"] > styled["confidence"]
    # "faster than WaveGlow": a comparison, not a foundation
    assert edge(graph, "2010.05646", "1811.00002", COMPARES_WITH) is not None


def test_longest_name_wins_where_names_overlap(graph: nx.MultiDiGraph) -> None:
    # "FastSpeech2" in the JETS title is FastSpeech 2, not FastSpeech
    assert edge(graph, "2203.16852", "2006.04558", BUILDS_ON) is not None
    assert edge(graph, "2203.16852", "1905.09263", BUILDS_ON) is None
    # "Fast Conformer" in the Sortformer note is not the Conformer
    assert graph.get_edge_data("2409.06656", "2305.05084")
    assert not graph.get_edge_data("2409.06656", "2005.08100")
    # while Fast Conformer's own note compares it with the Conformer ("more ... than")
    assert edge(graph, "2305.05084", "2005.08100", COMPARES_WITH) is not None


def test_builds_on_never_points_to_a_later_paper(graph: nx.MultiDiGraph) -> None:
    # WaveNet's note mentions Tacotron 2, which came after it
    assert edge(graph, "1609.03499", "1712.05884", BUILDS_ON) is None
    for later, earlier, kind in graph.edges(keys=True):
        if kind == BUILDS_ON:
            assert compare_time(graph, earlier, later) in (-1, 0)


def test_plain_word_names_match_only_with_their_capitals(graph: nx.MultiDiGraph) -> None:
    whisper = edge(graph, "2212.04356", "1412.5567", COMPARES_WITH)  # "unlike Deep Speech"
    assert whisper is not None
    assert "compares with Deep Speech" in whisper["evidence"]
    names = catalogue_names(list(_views_by_id(graph).values()))
    assert [name.paper_id for _, name in find_names("Deep Speech scales up", names)] == [
        "1412.5567"
    ]
    assert find_names("we train deep speech models", names) == []


def _views_by_id(graph: nx.MultiDiGraph) -> dict[str, PaperView]:
    return {
        node: PaperView(node, data["title"], [], data["year"], data["published"], [], None, None,
                        aliases=data["aliases"])
        for node, data in graph.nodes(data=True)
    }  # fmt: skip


def test_names_are_case_and_hyphen_insensitive(papers: list[PaperView]) -> None:
    names = catalogue_names(papers)
    for text in ("uses a hifi-gan vocoder", "a HiFi GAN vocoder", "FastSpeech2 and HIFI-GAN"):
        assert "2010.05646" in {name.paper_id for _, name in find_names(text, names)}
    assert {name.paper_id for _, name in find_names("tacotron2 features", names)} == {"1712.05884"}


def test_mislabelled_link_text_is_not_a_name(papers: list[PaperView]) -> None:
    waveglow = next(paper for paper in papers if paper.id == "1811.00002")
    assert "FastSpeech" not in {name.text for name in names_of(waveglow)}
    assert "WaveGlow" in {name.text for name in names_of(waveglow)}


def test_citations_ignore_self_duplicates_unknown_and_keep_cycles(
    papers: list[PaperView],
) -> None:
    citations = [
        ("2106.06103", "2010.05646"),
        ("2106.06103", "2010.05646"),  # twice
        ("2106.06103", "2106.06103"),  # itself
        ("2106.06103", "s2:outside"),  # a stub not in the catalogue
        ("1905.09263", "2006.04558"),  # a cycle between FastSpeech and FastSpeech 2
        ("2006.04558", "1905.09263"),
    ]
    graph = build_graph(papers, citations)
    cites = [(first, second) for first, second, kind in graph.edges(keys=True) if kind == CITES]
    assert sorted(cites) == [
        ("1905.09263", "2006.04558"),
        ("2006.04558", "1905.09263"),
        ("2106.06103", "2010.05646"),
    ]
    assert edge(graph, "2106.06103", "2010.05646", CITES)["evidence"] == (
        "cited in Semantic Scholar references"
    )
    plan = prerequisites(graph, "2006.04558", depth=MAX_DEPTH)
    assert "1905.09263" in [step.id for step in plan.steps]
    assert find_path(graph, "1905.09263", "2006.04558").found


def test_similar_pairs_point_from_later_to_earlier(papers: list[PaperView]) -> None:
    pairs = [("1703.10135", "2106.06103", 0.8), ("x", "1703.10135", 0.9)]
    graph = build_graph(papers, [], pairs, relations_among(papers))
    similar = edge(graph, "2106.06103", "1703.10135", SIMILAR)
    assert similar["evidence"] == "embedding similarity 0.80"
    assert similar["confidence"] == pytest.approx(0.48)
    assert edge(graph, "1703.10135", "2106.06103", SIMILAR) is None
    assert similar["confidence"] < edge(graph, "2203.16852", "2010.05646", BUILDS_ON)["confidence"]


def test_co_listed_follows_the_order_of_the_section(graph: nx.MultiDiGraph) -> None:
    listed = edge(graph, "2106.06103", "1703.10135", CO_LISTED)
    assert listed["evidence"] == "both in 'awesome-speech > Text to Speech', Tacotron listed first"
    assert edge(graph, "1703.10135", "2106.06103", CO_LISTED) is None
    assert edge(graph, "2212.04356", "1703.10135", CO_LISTED) is None  # different sections


def test_shared_authors(graph: nx.MultiDiGraph) -> None:
    shared = edge(graph, "2006.04558", "1905.09263", SHARES_AUTHOR)
    assert shared["evidence"] == "both by Yi Ren, Xu Tan"
    assert edge(graph, "1712.05884", "1703.10135", SHARES_AUTHOR) is not None


# --- prerequisites ---


def assert_reading_order(graph: nx.MultiDiGraph, plan_ids: list[str], target: str) -> None:
    """No paper after the target; each builds_on/cites dependency before its dependent."""
    position = {paper_id: index for index, paper_id in enumerate(plan_ids)}
    for paper_id in plan_ids:
        assert compare_time(graph, paper_id, target) in (-1, 0)
        for _, dependency, kind in graph.out_edges(paper_id, keys=True):
            if kind in (CITES, BUILDS_ON) and dependency in position:
                assert position[dependency] < position[paper_id], (dependency, paper_id)


def test_plan_for_jets_lists_the_classics_in_order(graph: nx.MultiDiGraph) -> None:
    plan = prerequisites(graph, "2203.16852")
    ids = [step.id for step in plan.steps]
    for classic in ("2006.04558", "2010.05646", "1905.09263", "1609.03499", "1811.00002"):
        assert classic in ids
    assert ids.index("1905.09263") < ids.index("2006.04558")  # FastSpeech before FastSpeech 2
    assert_reading_order(graph, ids, "2203.16852")
    # what JETS builds on leads; a paper only listed near it comes earlier when a step needs it
    assert plan.steps[0].relation == BUILDS_ON
    assert ids.index("1609.03499") < ids.index("1712.05884")  # WaveNet, then Tacotron 2
    fastspeech = next(step for step in plan.steps if step.id == "1905.09263")
    assert [(e.source, e.target) for e in fastspeech.evidence] == [
        ("2203.16852", "2006.04558"),
        ("2006.04558", "1905.09263"),
    ]
    assert fastspeech.confidence == pytest.approx(
        fastspeech.evidence[0].confidence * fastspeech.evidence[1].confidence
    )
    document = plan.to_json()
    assert document["target"] == "2203.16852"
    assert set(document["plan"][0]) >= {"id", "title", "year", "confidence", "evidence", "relation"}


def test_plan_never_lists_a_later_paper(papers: list[PaperView]) -> None:
    # similarity and list order both link Tacotron to later papers; none may come before it
    graph = build_graph(papers, [("1703.10135", "2106.06103")], [("1703.10135", "2010.05646", 0.9)])
    plan = prerequisites(graph, "1703.10135", depth=MAX_DEPTH)
    assert [step.id for step in plan.steps] == ["1609.03499"]  # listed before it, and older


def test_submission_order_decides_within_a_month(papers: list[PaperView]) -> None:
    """The Transformer (1706.03762) and VoxCeleb (1706.08612) share a month: their new-style
    ids tell the order, so the Transformer may come first, and never VoxCeleb before it."""
    similar_only = build_graph(papers, [], [("1706.03762", "1706.08612", 0.95)])
    assert [s.id for s in prerequisites(similar_only, "1706.08612").steps] == ["1706.03762"]
    citing_later = build_graph(papers, [("1706.03762", "1706.08612")])
    assert prerequisites(citing_later, "1706.03762").steps == []
    same_day = build_graph(
        [replace(paper, source="arxiv") for paper in papers if paper.id.startswith("1706")],
        [("1706.08612", "1706.03762")],
    )
    same_day.nodes["1706.08612"]["when"] = same_day.nodes["1706.03762"]["when"] = date(2017, 6, 1)
    same_day = nx.relabel_nodes(same_day, {"1706.08612": "cs/0701001"})  # no id order: a tie
    assert prerequisites(same_day, "cs/0701001").steps == []


def test_citations_rank_first(papers: list[PaperView]) -> None:
    graph = build_graph(papers, [("2106.06103", "2010.05646")])
    hifigan = next(s for s in prerequisites(graph, "2106.06103").steps if s.id == "2010.05646")
    assert hifigan.evidence[0].kind == CITES
    assert hifigan.confidence == pytest.approx(0.9)


def test_plan_from_the_store_with_citations(db_url: str) -> None:
    catalogue = write_catalogue(db_url, citations=[("2212.04356", "2005.08100")])
    papers = load_papers(catalogue)
    graph = build_graph(papers, citation_pairs(catalogue), relations=relations_among(papers))
    steps = prerequisites(graph, "2212.04356", depth=1).steps
    assert ("2005.08100", CITES) in [(s.id, s.evidence[0].kind) for s in steps]


def test_depth_limits_the_chain(graph: nx.MultiDiGraph) -> None:
    direct = prerequisites(graph, "2203.16852", depth=1)
    assert all(len(step.evidence) == 1 for step in direct.steps)
    assert "1905.09263" not in [step.id for step in direct.steps]  # two links back
    assert "1905.09263" in [step.id for step in prerequisites(graph, "2203.16852", 2).steps]


def test_depth_zero_and_huge(graph: nx.MultiDiGraph) -> None:
    empty = prerequisites(graph, "2203.16852", depth=0)
    assert empty.steps == []
    assert "depth 0" in empty.message
    huge = prerequisites(graph, "2203.16852", depth=10**9)
    assert huge.depth == MAX_DEPTH
    assert "reduced" in huge.message
    assert huge.steps


def test_oldest_paper_has_an_empty_plan(graph: nx.MultiDiGraph) -> None:
    plan = prerequisites(graph, "1412.5567")
    assert plan.steps == []
    assert "no earlier catalogue paper" in plan.message


def test_plans_take_catalogue_ids_and_refuse_others(graph: nx.MultiDiGraph) -> None:
    """Names and other id forms are resolved before (knowledge.names, tested in test_names)."""
    with pytest.raises(PaperNotFound, match=r"2312\.99999 is not in the catalogue"):
        prerequisites(graph, "2312.99999")
    with pytest.raises(PaperNotFound, match="VITS is not in the catalogue"):
        prerequisites(graph, "VITS")
    assert prerequisites(graph, "2106.06103").target == "2106.06103"


# --- paths ---


def test_path_moves_forward_in_time_with_reasons(graph: nx.MultiDiGraph) -> None:
    result = find_path(graph, "1706.03762", "2409.06656")
    assert result.found
    ids = [step.id for step in result.steps]
    assert ids == ["1706.03762", "2005.08100", "2305.05084", "2409.06656"]
    assert result.steps[0].via is None
    assert all(step.via.kind in (BUILDS_ON, COMPARES_WITH, MENTIONS) for step in result.steps[1:])
    document = result.to_json()
    assert (document["from"], document["to"]) == ("1706.03762", "2409.06656")
    assert document["path"][1]["via"]["evidence"].startswith("Conformer builds on Transformer: ")


def test_path_to_itself(graph: nx.MultiDiGraph) -> None:
    result = find_path(graph, "2106.06103", "2106.06103")
    assert result.found
    assert [step.id for step in result.steps] == ["2106.06103"]
    assert "same paper" in result.message


def test_path_backwards_in_time_offers_the_other_direction(graph: nx.MultiDiGraph) -> None:
    result = find_path(graph, "2305.05084", "1706.03762")
    assert not result.found
    assert "newer" in result.message
    assert next(step.id for step in result.alternative.steps) == "1706.03762"


def test_no_path_offers_the_nearest_alternative(papers: list[PaperView]) -> None:
    # Four papers in two lists' sections; ECAPA-TDNN builds on VoxCeleb, Tacotron 2 on WaveNet,
    # and only a similarity joins the two pairs, running backwards in time (WaveNet is older
    # than VoxCeleb): nothing leads forward from VoxCeleb to Tacotron 2.
    chosen = {"1706.08612", "2005.07143", "1609.03499", "1712.05884"}
    subset = [replace(paper, mentions=[]) for paper in papers if paper.id in chosen]
    relations = [
        relation
        for relation in relations_among(subset)
        if (relation.source_id, relation.target_id)
        in {("2005.07143", "1706.08612"), ("1712.05884", "1609.03499")}
    ]
    graph = build_graph(subset, [], [("1706.08612", "1609.03499", 0.9)], relations)
    result = find_path(graph, "1706.08612", "1712.05884")  # VoxCeleb to Tacotron 2
    assert not result.found
    assert "no time-consistent" in result.message
    alternative = result.alternative
    assert alternative is not None
    assert [step.id for step in alternative.steps] == ["1706.08612", "2005.07143"]
    assert "closest reachable paper to 1712.05884: 2005.07143, 3 link(s) away" in (
        alternative.message
    )
    assert result.to_json()["alternative"]["path"][1]["via"]["kind"] == BUILDS_ON


def test_no_path_and_nothing_near(graph: nx.MultiDiGraph) -> None:
    result = find_path(graph, "1706.08612", "2409.06656")
    assert not result.found
    assert result.alternative is None
    assert result.to_json()["path"] == []


def test_path_unknown_id(graph: nx.MultiDiGraph) -> None:
    with pytest.raises(PaperNotFound):
        find_path(graph, "1706.03762", "2312.99998")


# --- commands ---


def run(db_url: str, tmp_path: Path, *arguments: str) -> tuple[int, str, str]:
    result = CliRunner().invoke(
        app, ["--db-url", db_url, "--data-dir", str(tmp_path / "data"), *arguments]
    )
    return result.exit_code, result.stdout, result.stderr


def test_prereqs_and_path_commands(db_url: str, tmp_path: Path) -> None:
    write_catalogue(db_url)
    code, out, _ = run(db_url, tmp_path, "prereqs", "2203.16852", "--json")
    assert code == 0
    document = json.loads(out)
    assert document["target"] == "2203.16852"
    assert "2010.05646" in [step["id"] for step in document["plan"]]
    code, out, _ = run(db_url, tmp_path, "path", "1706.03762", "2305.05084", "--json")
    assert code == 0
    steps = json.loads(out)["path"]
    assert [step["id"] for step in steps] == ["1706.03762", "2005.08100", "2305.05084"]
    assert set(steps[1]["via"]) >= {"kind", "evidence"}
    code, out, _ = run(db_url, tmp_path, "prereqs", "JETS")
    assert code == 0
    assert "HiFi-GAN" in out
    assert "papers to read first" in out
    assert "; then " in out or "because " in out
    code, out, _ = run(db_url, tmp_path, "prereqs", "https://arxiv.org/abs/2203.16852v2", "--json")
    assert code == 0 and json.loads(out)["target"] == "2203.16852"
    code, out, _ = run(db_url, tmp_path, "path", "arXiv:1706.03762v7", "2305.05084", "--json")
    assert code == 0 and json.loads(out)["found"]


def test_commands_fail_with_one_line(db_url: str, tmp_path: Path) -> None:
    write_catalogue(db_url)
    code, _, err = run(db_url, tmp_path, "prereqs", "2312.99999")
    assert code == 1
    assert err.strip().count("\n") == 0
    assert "not in the catalogue" in err
    code, _, err = run(db_url, tmp_path, "path", "1706.03762", "no such thing")
    assert code == 1
    assert "not an arXiv id" in err
    code, out, _ = run(db_url, tmp_path, "prereqs", "2203.16852", "--depth", "0")
    assert code == 0
    assert "depth 0" in out


def test_commands_on_an_empty_catalogue(db_url: str, tmp_path: Path) -> None:
    code, _, err = run(db_url, tmp_path, "prereqs", "2203.16852")
    assert code == 1
    assert "speechgraph refresh" in err  # no catalogue file: nothing is created
    store.open_db(db_url).dispose()  # a catalogue with no papers yet
    for command in (("prereqs", "2203.16852"), ("clusters",)):
        code, _, err = run(db_url, tmp_path, *command)
        assert code == 1
        assert "catalogue is empty" in err


# --- the real seed catalogue ---


@pytest.fixture(scope="module")
def seed_graph(seed_settings) -> nx.MultiDiGraph:
    from speechgraph.graph.build import index_neighbours, load_knowledge

    catalogue = store.open_db(seed_settings.db_url)
    try:
        return load_knowledge(catalogue, index_neighbours(seed_settings, catalogue)).graph
    finally:
        catalogue.dispose()


@pytest.mark.slow
def test_seed_plan_for_jets_reads_the_tts_classics(seed_graph: nx.MultiDiGraph) -> None:
    plan = prerequisites(seed_graph, "2203.16852")
    ids = [step.id for step in plan.steps]
    for classic in ("2006.04558", "1905.09263", "2010.05646", "1609.03499"):
        assert classic in ids, classic
    assert_reading_order(seed_graph, ids, "2203.16852")
    assert all(step.evidence for step in plan.steps)


@pytest.mark.slow
def test_seed_plan_for_vits_starts_from_wavenet_and_tacotron(seed_graph: nx.MultiDiGraph) -> None:
    ids = [step.id for step in prerequisites(seed_graph, "2106.06103").steps]
    assert {"1609.03499", "1703.10135", "1712.05884", "2010.05646"} <= set(ids)
    assert_reading_order(seed_graph, ids, "2106.06103")


@pytest.mark.slow
def test_seed_path_from_the_transformer_to_fast_conformer(seed_graph: nx.MultiDiGraph) -> None:
    result = find_path(seed_graph, "1706.03762", "2305.05084")
    assert [step.id for step in result.steps] == ["1706.03762", "2005.08100", "2305.05084"]
    for path_to in ("2212.04356", "2401.16658"):
        steps = find_path(seed_graph, "1706.03762", path_to).steps
        dates = [seed_graph.nodes[step.id]["published"] for step in steps]
        assert steps[-1].id == path_to
        assert dates == sorted(dates)


def test_a_chain_that_starts_with_similarity_stays_within_the_target_topic() -> None:
    def paper(paper_id: str, year: int, topic: str, title: str, note: str) -> PaperView:
        return PaperView(
            id=paper_id,
            title=title,
            authors=[],
            year=year,
            published=date(year, 1, 1),
            categories=[],
            abstract=None,
            note=note,
            aliases=[title.split(":")[0]],
            topic=topic,
        )

    papers = [
        paper("1601.00001", 2016, "vocoder", "VocoNet: a neural vocoder", "A vocoder."),
        paper("1701.00001", 2017, "speaker", "SpeakSet: a speaker dataset", "Speaker data."),
        paper("1801.00001", 2018, "tts", "TalkNet: speech synthesis", "Builds on VocoNet."),
        paper("2401.00001", 2024, "speaker", "VerifyNet: speaker verification", "Verifies."),
    ]
    similar = [("2401.00001", "1801.00001", 0.9), ("2401.00001", "1701.00001", 0.8)]
    topics = {
        paper.id: {"vocoder": 0, "speaker": 1, "tts": 2}[paper.topic or ""] for paper in papers
    }
    graph = build_graph(papers, [], similar, relations_among(papers), topics)
    assert edge(graph, "1801.00001", "1601.00001", BUILDS_ON) is not None
    plan = prerequisites(graph, "2401.00001", min_confidence=0.01)
    assert [step.id for step in plan.steps] == ["1701.00001"]
    assert [step.id for step in prerequisites(graph, "1801.00001").steps] == ["1601.00001"]


# --- similar pairs: memory-bounded neighbour search ---


def full_matrix_pairs(
    ids: list[str], vectors: np.ndarray, k: int, threshold: float
) -> dict[tuple[str, str], float]:
    """The reference: every cosine at once (fine for a few dozen vectors)."""
    unit = vectors / np.linalg.norm(vectors, axis=1, keepdims=True)
    cosine = unit @ unit.T
    np.fill_diagonal(cosine, -np.inf)
    pairs = {}
    for row, paper_id in enumerate(ids):
        for column in np.argsort(-cosine[row])[:k]:
            if cosine[row, column] >= threshold:
                pairs[tuple(sorted((paper_id, ids[column])))] = float(cosine[row, column])
    return pairs


@pytest.fixture(scope="module")
def seed_store(seed_settings):
    catalogue = store.open_db(seed_settings.db_url)
    yield catalogue
    catalogue.dispose()


@pytest.mark.slow
def test_index_neighbours_search_faiss_per_paper_like_exact_numpy(
    seed_settings, seed_store
) -> None:
    from speechgraph.graph.build import index_neighbours

    neighbours = index_neighbours(seed_settings, seed_store)
    ids = [paper.id for paper in load_papers(seed_store)]
    found = neighbours(ids)
    assert neighbours.notes == [] and neighbours.embeddings is not None
    embeddings = neighbours.embeddings
    exact = full_matrix_pairs(embeddings.ids, embeddings.vectors, k=5, threshold=0.45)
    assert len(found) > len(ids)  # roughly k pairs per paper, shared pairs counted once
    assert {(a, b) for a, b, _ in found} == set(exact)
    assert all(abs(score - exact[(a, b)]) < 1e-5 for a, b, score in found)


@pytest.mark.slow
def test_an_index_for_another_model_or_catalogue_is_not_used(seed_copy) -> None:
    from speechgraph.catalogue.queries import catalogue_version
    from speechgraph.graph.build import IndexNeighbours, index_neighbours, load_knowledge
    from speechgraph.search.encoder import model_fingerprint

    catalogue = store.open_db(seed_copy.db_url)
    try:
        version = catalogue_version(catalogue)
        fingerprint = model_fingerprint(seed_copy.model, seed_copy.cache_dir)
        for model, catalogue_at in (("other-model@0", version), (fingerprint, version + 1)):
            stale = IndexNeighbours(
                seed_copy.index_dir, fingerprint=model, catalogue_version=catalogue_at
            )
            knowledge = load_knowledge(catalogue, stale)
            assert stale.embeddings is None
            assert not [e for e in knowledge.graph.edges(data="kind") if e[2] == SIMILAR]
            assert len(knowledge.notes) >= 1
            assert "search index not used" in knowledge.notes[0]
            assert "speechgraph index" in knowledge.notes[0]
        current = load_knowledge(catalogue, index_neighbours(seed_copy, catalogue))
        assert [e for e in current.graph.edges(data="kind") if e[2] == SIMILAR]
        assert not any("index" in note for note in current.notes)
    finally:
        catalogue.dispose()
