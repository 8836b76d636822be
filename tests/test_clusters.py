"""Topic clusters: real embeddings from the packaged model, the graph, labels, quality figures."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from typer.testing import CliRunner

from speechgraph.catalogue import store
from speechgraph.cli.app import app
from speechgraph.graph.clusters import cluster_papers, distinctive_terms
from speechgraph.graph.edges import build_graph

# (id, title, our note, topic)
PAPERS = [
    ("1609.03499", "WaveNet: A Generative Model for Raw Audio",
     "Autoregressive waveform generation, the first neural vocoder for speech synthesis.", "tts"),
    ("1712.05884", "Natural TTS Synthesis by Conditioning WaveNet on Mel Spectrogram Predictions",
     "Text-to-speech: predicts mel spectrograms from text and vocodes them.", "tts"),
    ("1905.09263", "FastSpeech: Fast, Robust and Controllable Text to Speech",
     "Non-autoregressive text-to-speech synthesis with a duration predictor.", "tts"),
    ("2010.05646", "HiFi-GAN: Generative Adversarial Networks for Efficient and High Fidelity "
     "Speech Synthesis", "A GAN vocoder turning mel spectrograms into waveforms for TTS.", "tts"),
    ("1706.08612", "VoxCeleb: a large-scale speaker identification dataset",
     "Speaker identification and verification data from celebrity interviews.", "speaker"),
    ("2005.07143", "ECAPA-TDNN: Emphasized Channel Attention, Propagation and Aggregation in TDNN "
     "Based Speaker Verification", "Speaker embeddings for speaker verification.", "speaker"),
    ("2303.00332", "CAM++: A Fast and Efficient Network for Speaker Verification Using "
     "Context-Aware Masking", "An efficient speaker verification network.", "speaker"),
    ("2406.02167", "ERes2NetV2: Boosting Short-Duration Speaker Verification Performance with "
     "Computational Efficiency", "Speaker verification on short utterances.", "speaker"),
    ("2308.08747", "An Empirical Study of Catastrophic Forgetting in Large Language Models During "
     "Continual Fine-tuning", "Large language models forget general knowledge when fine-tuned.",
     "llm"),
    ("2401.05605", "Scaling Laws for Forgetting When Fine-Tuning Large Language Models",
     "How forgetting in fine-tuned language models grows with the number of parameters updated.",
     "llm"),
    ("2405.09673", "LoRA Learns Less and Forgets Less",
     "Low-rank adaptation of large language models forgets less than full fine-tuning.", "llm"),
    ("2309.07875", "Safety-Tuned LLaMAs: Lessons From Improving the Safety of Large Language "
     "Models that Follow Instructions", "Safety data in instruction tuning of language models.",
     "llm"),
]  # fmt: skip
IDS = [paper[0] for paper in PAPERS]
TEXTS = [f"{title}. {note}" for _, title, note, _ in PAPERS]
TOPICS = {paper_id: topic for paper_id, _, _, topic in PAPERS}


@pytest.fixture(scope="module")
def vectors() -> np.ndarray:
    """Real embeddings from the default model, loaded once for this module."""
    from speechgraph.search.encoder import load_encoder

    return load_encoder().encode(TEXTS)


@pytest.mark.slow
def test_embedding_clusters_follow_the_topics(vectors: np.ndarray) -> None:
    report = cluster_papers(IDS, TEXTS, vectors, topics=TOPICS, sections=TOPICS)
    assert report.nmi_topics is not None
    assert report.nmi_topics >= 0.7
    assert report.nmi_sections == report.nmi_topics
    assert report.silhouette is not None
    assert report.silhouette > 0.05
    assert report.modularity is None  # no graph given
    cluster_of = {member: cluster.id for cluster in report.clusters for member in cluster.members}
    assert cluster_of["1712.05884"] != cluster_of["2005.07143"] != cluster_of["2401.05605"]
    assert sorted(cluster_of) == sorted(IDS)


@pytest.mark.slow
def test_labels_are_distinctive_terms(vectors: np.ndarray) -> None:
    report = cluster_papers(IDS, TEXTS, vectors)
    labels = {member: cluster for cluster in report.clusters for member in cluster.members}
    assert "speaker" in " ".join(labels["2005.07143"].terms)
    assert any(word in " ".join(labels["2401.05605"].terms) for word in ("language", "forgetting"))
    for cluster in report.clusters:
        assert 1 <= len(cluster.terms) <= 4
        assert cluster.label == ", ".join(cluster.terms[:3])
        assert not {"the", "of", "and", "model", "paper"} & set(cluster.label.split(", "))


@pytest.mark.slow
def test_clusters_are_deterministic_with_coordinates(vectors: np.ndarray) -> None:
    first = cluster_papers(IDS, TEXTS, vectors).to_json()
    second = cluster_papers(IDS, TEXTS, vectors).to_json()
    assert first == second
    assert set(first["coordinates"]) == set(IDS)
    for x, y in first["coordinates"].values():
        assert -1.0 <= x <= 1.0
        assert -1.0 <= y <= 1.0
    assert set(first["clusters"][0]) >= {"id", "label", "terms", "members"}
    assert first["candidates"][0]["score"] >= first["candidates"][-1]["score"]


def test_graph_only_clusters_use_modularity(tmp_path: Path) -> None:
    from speechgraph.catalogue.queries import load_papers
    from speechgraph.knowledge.derive import relations_among
    from test_graph import write_catalogue

    catalogue = write_catalogue(f"sqlite:///{tmp_path}/x.db")
    papers = load_papers(catalogue)
    graph = build_graph(papers, [], relations=relations_among(papers))
    ids = [paper.id for paper in papers]
    report = cluster_papers(ids, [paper.title for paper in papers], None, graph)
    assert report.method.startswith("louvain")
    assert report.silhouette is None
    assert report.modularity is not None
    assert report.modularity > 0.2
    assert sorted(m for c in report.clusters for m in c.members) == sorted(ids)
    assert len(report.coordinates) == len(ids)


def test_without_embeddings_or_links_one_cluster_with_a_message() -> None:
    report = cluster_papers(IDS, TEXTS)
    assert [cluster.members for cluster in report.clusters] == [IDS]
    assert "no embeddings" in report.message
    tiny = cluster_papers(IDS[:2], TEXTS[:2], np.eye(2))
    assert "too few" in tiny.message
    assert cluster_papers([], []).clusters == []


def test_class_based_tfidf_prefers_words_of_one_class() -> None:
    terms = distinctive_terms(
        [
            "speech synthesis with a vocoder. speech vocoder on mel frames",
            "speech from one speaker. speech speaker embeddings",
            "speech language model. speech language forgetting",
        ]
    )
    assert all("speech" not in document for document in terms)  # in every class: no label
    assert terms[0][0] == "vocoder"
    assert terms[1][0] == "speaker"
    assert terms[2][0] == "language"
    assert distinctive_terms(["the of and", ""]) == [[], []]


def test_clusters_command_without_an_index(tmp_path: Path) -> None:
    from test_graph import write_catalogue

    db_url = f"sqlite:///{tmp_path}/x.db"
    write_catalogue(db_url)
    result = CliRunner().invoke(
        app, ["--db-url", db_url, "--data-dir", str(tmp_path / "data"), "clusters", "--json"]
    )
    assert result.exit_code == 0, result.stderr
    document = json.loads(result.stdout)
    assert set(document) >= {"clusters", "coordinates"}
    assert len(document["coordinates"]) == 17
    text = CliRunner().invoke(
        app, ["--db-url", db_url, "--data-dir", str(tmp_path / "data"), "clusters"]
    )
    assert text.exit_code == 0
    assert "clusters found by louvain" in text.stdout


@pytest.mark.slow
def test_seed_clusters_separate_the_main_topics(seed_settings) -> None:
    from speechgraph.graph.build import index_neighbours, load_knowledge

    catalogue = store.open_db(seed_settings.db_url)
    neighbours = index_neighbours(seed_settings, catalogue)
    knowledge = load_knowledge(catalogue, neighbours)
    catalogue.dispose()
    embeddings = neighbours.embeddings
    by_id = {paper.id: paper for paper in knowledge.papers}
    papers = [by_id[paper_id] for paper_id in embeddings.ids]
    report = cluster_papers(
        embeddings.ids,
        [f"{paper.title}. {paper.note or ''}" for paper in papers],
        embeddings.vectors,
        knowledge.graph,
        sections={p.id: f"{p.mentions[0].list} > {p.mentions[0].section}" for p in papers},
        topics={paper.id: paper.topic for paper in papers if paper.topic},
    )
    assert report.nmi_topics > 0.5
    assert report.nmi_sections > 0.4
    cluster_of = {member: cluster for cluster in report.clusters for member in cluster.members}
    tts, speaker, llm = (cluster_of[i] for i in ("1712.05884", "2005.07143", "2401.05605"))
    assert len({tts.id, speaker.id, llm.id}) == 3
    assert "speaker" in speaker.label
    assert cluster_of["2010.05646"] is tts  # HiFi-GAN with Tacotron 2
    assert cluster_of["2006.04558"] is cluster_of["1905.09263"]  # FastSpeech 2 with FastSpeech
    assert cluster_of["2303.00332"] is speaker  # CAM++ with ECAPA-TDNN


def test_big_catalogues_sample_the_silhouette_and_skip_agglomerative(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from sklearn.metrics import silhouette_score

    from speechgraph.graph import clusters

    generator = np.random.default_rng(3)
    centres = generator.normal(size=(3, 8))
    points = centres[np.arange(60) % 3] + 0.3 * generator.normal(size=(60, 8))
    ids = [f"p{number}" for number in range(60)]
    texts = [f"paper {number}" for number in range(60)]
    small = cluster_papers(ids, texts, points)
    assert any(c.method.startswith("agglomerative") for c in small.candidates)

    monkeypatch.setattr(clusters, "AGGLOMERATIVE_LIMIT", 50)
    monkeypatch.setattr(clusters, "SILHOUETTE_SAMPLE", 40)
    big = cluster_papers(ids, texts, points)
    assert big.candidates and not any(c.method.startswith("agglomerative") for c in big.candidates)
    unit = points / np.linalg.norm(points, axis=1, keepdims=True)
    for candidate in big.candidates:
        sampled = silhouette_score(
            unit,
            list(candidate.assignment),
            metric="cosine",
            sample_size=40,
            random_state=clusters.SEED,
        )
        assert candidate.silhouette == pytest.approx(sampled)
    assert big.to_json() == cluster_papers(ids, texts, points).to_json()  # seeded: repeatable


@pytest.mark.slow
def test_papers_without_a_vector_are_noted_and_joined_by_their_links(seed_copy) -> None:
    from speechgraph.graph.build import index_neighbours, load_knowledge
    from speechgraph.graph.topics import cluster_catalogue
    from speechgraph.search.index import load_index

    missing = ["2106.06103", "2010.05646", "1706.03762"]  # VITS, HiFi-GAN, the Transformer
    index = load_index(seed_copy.index_dir)
    index.remove(missing)
    index.save(seed_copy.index_dir)
    catalogue = store.open_db(seed_copy.db_url)
    try:
        neighbours = index_neighbours(seed_copy, catalogue)
        knowledge = load_knowledge(catalogue, neighbours)
    finally:
        catalogue.dispose()
    assert "3 papers have no vector yet: run `speechgraph index`" in knowledge.notes
    assert neighbours.embeddings is not None and len(neighbours.embeddings.ids) == 81

    report = cluster_catalogue(knowledge, neighbours.embeddings)
    cluster_of = {member: cluster for cluster in report.clusters for member in cluster.members}
    assert report.message is not None
    assert "3 papers have no vector yet (run `speechgraph index`)" in report.message
    joined = [paper_id for paper_id in missing if paper_id in cluster_of]
    assert joined == missing  # each is linked to catalogue papers by named methods or lists
    assert all(paper_id in report.coordinates for paper_id in missing)
    assert len(cluster_of) == 84
    assert cluster_of["2106.06103"] is cluster_of["2006.04558"]  # VITS with FastSpeech 2
