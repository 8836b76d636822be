"""The UI's plain-data helpers: safe text and links, paper panels, search rows, drawings."""

from __future__ import annotations

from datetime import date

import networkx as nx
import numpy as np
import pytest

from speechgraph.catalogue.queries import (
    get_paper,
    listed_ids,
    listings,
    load_papers,
    paper_cards,
)
from speechgraph.catalogue.store import open_db
from speechgraph.config import Settings
from speechgraph.errors import SearchInputError
from speechgraph.graph.build import index_neighbours, load_knowledge
from speechgraph.graph.plans import find_path, prerequisites
from speechgraph.graph.topics import cluster_catalogue
from speechgraph.records import MentionView, PaperView, ResourceView
from speechgraph.search.hybrid import Filters, Searcher
from speechgraph.views.catalogue import (
    ABSTRACT_LABEL,
    NO_SUMMARY_LABEL,
    NOTE_LABEL,
    describe_last_refresh,
    describe_why,
    escape_markdown,
    markdown_link,
    paper_facts,
    paper_links,
    paper_relations,
    paper_summary,
    safe_url,
    search_rows,
    stats_rows,
    status_rows,
)
from speechgraph.views.graph import (
    path_drawing,
    path_rows,
    plan_drawing,
    plan_rows,
)
from speechgraph.views.pickers import FIELD, LISTS, paper_matches, scope_filters
from speechgraph.views.status import describe_event, describe_origins
from speechgraph.views.topic_map import (
    MapLayout,
    describe_map,
    map_layout,
    sample_map,
    topic_heading,
    topic_members,
)

VITS = "2106.06103"
HIFI_GAN = "2010.05646"
WAVENET = "1609.03499"


def paper(**changes: object) -> PaperView:
    base = PaperView(
        id="2010.05646",
        title="HiFi-GAN: Generative Adversarial Networks",
        authors=["Jungil Kong"],
        year=2020,
        published=date(2020, 10, 12),
        categories=["cs.SD"],
        abstract=None,
        note=None,
    )
    for name, value in changes.items():
        setattr(base, name, value)
    return base


# --- text ------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("raw", "escaped"),
    [
        ("**bold**", "\\*\\*bold\\*\\*"),
        ("<script>alert(1)</script>", "\\<script\\>alert\\(1\\)\\</script\\>"),
        ("[x](javascript:y)", "\\[x\\]\\(javascript\\:y\\)"),
        (":red[alarm] :smile:", "\\:red\\[alarm\\] \\:smile\\:"),
        ("$E=mc^2$", "\\$E\\=mc\\^2\\$"),
        ("# heading\n- item", "\\# heading \\- item"),
        ("a_b `c` ~d~ |e| &amp;", "a\\_b \\`c\\` \\~d\\~ \\|e\\| \\&amp;"),
        ("back\\slash", "back\\\\slash"),
        ("wav2vec 2.0", "wav2vec 2\\.0"),
        ("", ""),
        (None, ""),
    ],
)
def test_escape_markdown(raw: str | None, escaped: str) -> None:
    assert escape_markdown(raw) == escaped


def test_safe_url_keeps_http_and_encodes_what_breaks_markdown() -> None:
    assert safe_url("https://arxiv.org/abs/2106.06103") == "https://arxiv.org/abs/2106.06103"
    assert safe_url("https://x.org/a b(c)<d>") == "https://x.org/a%20b%28c%29%3Cd%3E"
    assert safe_url("javascript:alert(1)") is None
    assert safe_url("data:text/html,hi") is None
    assert safe_url("/relative/path") is None
    assert safe_url(None) is None


def test_markdown_link_escapes_its_text() -> None:
    assert (
        markdown_link("**code**", "https://github.com/x")
        == "[\\*\\*code\\*\\*](https://github.com/x)"
    )
    assert markdown_link("click", "javascript:alert(1)") == "click"


# --- one paper -------------------------------------------------------------------------------


def test_paper_summary_labels_abstract_and_note() -> None:
    assert paper_summary(paper(abstract="We propose.", note="Ours.")) == (
        ABSTRACT_LABEL,
        "We propose.",
    )
    assert paper_summary(paper(note="Ours.")) == (NOTE_LABEL, "Ours.")
    assert paper_summary(paper()) == (NO_SUMMARY_LABEL, "")


def test_paper_links_arxiv_pdf_doi_and_list_resources() -> None:
    resources = [
        ResourceView("https://github.com/jik876/hifi-gan", "code", "code", "awesome", "TTS"),
        ResourceView("javascript:alert(1)", "code", "bad", "awesome", "TTS"),
        ResourceView("https://github.com/jik876/hifi-gan", "code", "again", "other", "TTS"),
    ]
    links = paper_links(paper(doi="10.1/x", resources=resources))
    assert [link.kind for link in links] == ["arxiv", "pdf", "doi", "list"]
    assert links[0].url == "https://arxiv.org/abs/2010.05646"
    assert links[3].label == "code (code, from awesome)"


def test_paper_facts_are_plain_pairs() -> None:
    facts = dict(paper_facts(paper(aliases=["HiFi-GAN"], version=3)))
    assert facts["arXiv id"] == "2010.05646 (v3)"
    assert facts["Authors"] == "Jungil Kong"
    assert facts["Known as"] == "HiFi-GAN"
    assert facts["Facts from"] == "the offline snapshot shipped with speechgraph"


# --- against the seed catalogue --------------------------------------------------------------


@pytest.fixture(scope="module")
def seed(seed_settings: Settings):
    store = open_db(seed_settings.db_url)
    neighbours = index_neighbours(seed_settings, store)
    knowledge = load_knowledge(store, neighbours)
    yield seed_settings, store, knowledge, neighbours.embeddings
    store.dispose()


def test_paper_relations_from_the_graph(seed) -> None:
    _, store, knowledge, _ = seed
    relations = paper_relations(store, knowledge.graph, HIFI_GAN)
    assert VITS in [item.id for item in relations.built_on_by]
    assert WAVENET not in [item.id for item in relations.builds_on]  # a baseline it compares with
    relations = paper_relations(store, knowledge.graph, VITS)
    assert HIFI_GAN in [item.id for item in relations.builds_on]
    assert relations.cites == relations.cited_by == []  # offline: no citation data
    assert all(item.evidence for item in relations.builds_on)


def test_listings_and_search_rows(seed) -> None:
    settings, store, _, _ = seed
    searcher = Searcher(settings, store)
    places = listings(store, [VITS])
    rows = search_rows(searcher, store, "neural vocoder", k=5)
    only = search_rows(searcher, store, "neural vocoder", k=5, within={WAVENET, VITS})
    dated = search_rows(
        searcher, store, "speech", k=5, filters=Filters(year_from=2021, year_to=2021)
    )
    assert places[VITS] and all(" > " in place for place in places[VITS])
    assert len(rows) == 5 and rows[0].listed and "meaning similarity" in rows[0].why
    assert {row.id for row in only} <= {WAVENET, VITS} and only
    assert {row.year for row in dated} == {2021}


def test_plan_and_path_rows_and_drawings(seed) -> None:
    _, _, knowledge, _ = seed
    plan = prerequisites(knowledge.graph, VITS)
    rows = plan_rows(plan)
    assert WAVENET in [row["id"] for row in rows] and all(row["because"] for row in rows)
    drawing = plan_drawing(plan, knowledge.graph)
    target = next(node for node in drawing.nodes if node["role"] == "target")
    assert target["id"] == VITS and target["x"] == 0.0
    assert all(node["x"] < 0 for node in drawing.nodes if node["role"] != "target")
    ids = {node["id"] for node in drawing.nodes}
    assert all(edge["source"] in ids and edge["target"] in ids for edge in drawing.edges)
    path = find_path(knowledge.graph, WAVENET, VITS)
    assert path.found
    assert path_rows(path)[0]["link"] == "start" and path_rows(path)[-1]["id"] == VITS
    drawn = path_drawing(path)
    assert len(drawn.edges) == len(path.steps) - 1
    assert drawn.edges[0]["source"] == WAVENET


def test_drawing_labels_are_short_names_with_the_id_as_fallback() -> None:
    graph = nx.MultiDiGraph()
    graph.add_node("1706.03762", title="Attention Is All You Need", year=2017, aliases=[])
    graph.add_node("2005.08100", title="Conformer: Convolution-augmented", year=2020, aliases=[])
    graph.add_node("2106.06103", title="Conditional VAE", year=2021, aliases=["VITS"])
    for later, earlier in (("2005.08100", "1706.03762"), ("2106.06103", "2005.08100")):
        graph.add_edge(later, earlier, key="cites", kind="cites", evidence="c", confidence=0.9)
    path = find_path(graph, "1706.03762", "2106.06103")
    labels = [node["label"] for node in path_drawing(path, graph).nodes]
    assert labels == ["1706.03762 (2017)", "Conformer (2020)", "VITS (2021)"]
    without_graph = [node["label"] for node in path_drawing(path).nodes]
    assert without_graph == ["1706.03762 (2017)", "Conformer (2020)", "2106.06103 (2021)"]
    plan = prerequisites(graph, "2106.06103")
    assert {node["label"] for node in plan_drawing(plan, graph).nodes} == set(labels)


def test_drawing_points_from_dependency_to_dependent() -> None:
    graph = nx.MultiDiGraph()
    graph.add_node("a", title="A", year=2016, published=date(2016, 1, 1), aliases=[])
    graph.add_node("b", title="B", year=2020, published=date(2020, 1, 1), aliases=[])
    graph.add_edge(
        "b", "a", key="builds_on", kind="builds_on", evidence="b names A", confidence=0.9
    )
    plan = prerequisites(graph, "b")
    drawing = plan_drawing(plan, graph)
    assert drawing.edges == [
        {
            "source": "a",
            "target": "b",
            "kind": "builds_on",
            "evidence": "b names A",
            "confidence": 0.9,
        }
    ]


def test_map_layout_and_members_of_the_seed_topics(seed) -> None:
    _, store, knowledge, embeddings = seed
    report = cluster_catalogue(knowledge, embeddings)
    listed = listed_ids(store)
    layout = map_layout(report, listed)
    drawn = sample_map(layout).with_cards(paper_cards(store, layout.ids))
    assert len(layout) == drawn.shown == drawn.total == 84  # all of a small catalogue
    assert all(drawn.listed) and drawn.titles[drawn.ids.index(VITS)].startswith("Conditional")
    assert set(drawn.topic) == {f"{cluster.id}: {cluster.label}" for cluster in report.clusters}
    assert sum(centre.size for centre in drawn.centres) == 84
    topics = topic_members(report, listed)
    assert sum(size for _, size, _ in topics) == 84
    assert sum(len(ids) for _, _, ids in topics) == 84
    assert [size for _, size, _ in topics] == sorted((size for _, size, _ in topics), reverse=True)


def synthetic_layout(count: int, topics: int = 12, listed_every: int = 400) -> MapLayout:
    """`count` papers in `topics` Gaussian blobs of uneven sizes, every `listed_every`-th listed."""
    rng = np.random.default_rng(0)
    weights = np.arange(1, topics + 1, dtype=float)
    assignment = rng.choice(topics, size=count, p=weights / weights.sum()).astype(np.int32)
    centres = rng.normal(0, 10, size=(topics, 2))
    xy = (centres[assignment] + rng.normal(0, 1, size=(count, 2))).astype(np.float32)
    return MapLayout(
        ids=[f"p{number}" for number in range(count)],
        xy=xy,
        topics=assignment,
        labels=[f"{number}: topic {number}" for number in range(topics)],
        listed=np.arange(count) % listed_every == 0,
    )


def test_the_map_samples_each_topic_keeps_every_listed_paper_and_is_seeded() -> None:
    layout = synthetic_layout(60_000)
    drawn = sample_map(layout, budget=2000, minimum=40)
    listed = int(layout.listed.sum())
    assert drawn.total == 60_000
    assert sum(drawn.listed) == listed  # every listed paper, marked
    assert 1990 <= drawn.shown - listed <= 2000  # the budget, less rounding per topic
    assert len(drawn.centres) == 12 and sum(c.size for c in drawn.centres) == 60_000
    smallest = min(drawn.centres, key=lambda centre: centre.size).label
    assert drawn.topic.count(smallest) >= 40  # a small topic still shows its shape
    again = sample_map(layout, budget=2000, minimum=40)
    assert again.ids == drawn.ids and sample_map(layout, budget=2000, seed=8).ids != drawn.ids
    assert describe_map(drawn, FIELD).startswith(f"{drawn.shown} of 60000 papers: a seeded")


def test_the_lists_map_shows_only_listed_papers() -> None:
    layout = synthetic_layout(20_000)
    drawn = sample_map(layout, scope=LISTS)
    assert drawn.total == drawn.shown == int(layout.listed.sum()) and all(drawn.listed)
    assert sum(centre.size for centre in drawn.centres) == drawn.total
    assert describe_map(drawn, LISTS).startswith(f"All {drawn.total} papers the reading lists")


def test_topic_members_are_bounded_listed_first() -> None:
    from speechgraph.graph.clusters import Cluster, ClusterReport

    members = [f"p{number}" for number in range(500)]
    report = ClusterReport([Cluster(0, "codecs", ["codec"], members)], {}, "kmeans", None, None)
    [(label, size, shown)] = topic_members(report, {"p499", "p7"}, limit=10)
    assert (label, size, len(shown)) == ("0: codecs", 500, 10)
    assert shown[:2] == ["p7", "p499"] and shown[2] == "p0"
    assert topic_members(report, {"p7"}, scope=LISTS)[0][1:] == (1, ["p7"])
    assert topic_heading(label, size, len(shown)) == "0: codecs (500 papers, 10 shown)"
    assert topic_heading("1: x", 1, 1) == "1: x (1 paper)"


def test_stats_and_last_refresh_text(seed) -> None:
    from speechgraph.catalogue.queries import catalogue_stats

    _, store, _, _ = seed
    stats = catalogue_stats(store)
    vits = get_paper(store, VITS)
    assert ("Papers", 84) in stats_rows(stats)
    assert "(offline)" in describe_last_refresh(stats)
    assert describe_last_refresh({}) == "never refreshed"
    assert isinstance(vits.mentions[0], MentionView)


def test_describe_why() -> None:
    why = {
        "matched_terms": ["vocoder"],
        "dense_similarity": 0.61234,
        "dense_rank": 2,
        "lexical_rank": 1,
        "bm25": 3.2,
        "summary_source": "note",
    }
    assert describe_why(why) == (
        "keywords: vocoder; keyword rank 1 (BM25 3.20); meaning similarity 0.61, rank 2; "
        "matched on title and note"
    )
    assert describe_why({}) == "similar in meaning"


def test_load_papers_unchanged_by_views(seed) -> None:
    _, store, _, _ = seed
    assert len(load_papers(store)) == 84


# --- pickers and scopes ----------------------------------------------------------------------


def test_scope_filters() -> None:
    assert scope_filters(FIELD) == Filters()
    assert scope_filters(LISTS).listed_only
    narrowed = scope_filters(LISTS, Filters(year_from=2020))
    assert narrowed.listed_only and narrowed.year_from == 2020
    with pytest.raises(SearchInputError, match="unknown scope 'everything'"):
        scope_filters("everything")


def test_pickers_offer_the_exact_paper_first_then_search_hits(seed) -> None:
    settings, store, _, _ = seed
    searcher = Searcher(settings, store)
    by_name = paper_matches(store, searcher, "hifi gan")
    assert by_name.exact is not None and by_name.exact.id == HIFI_GAN
    assert by_name.exact.label == (
        "HiFi-GAN: Generative Adversarial Networks for Efficient and High Fidelity Speec… "
        "(2020) · 2010.05646 · listed"
    )
    assert len({choice.id for choice in by_name.choices}) == len(by_name.choices) > 1
    by_id = paper_matches(store, searcher, f"https://arxiv.org/abs/{VITS}v2")
    assert by_id.choices[0].id == VITS and by_id.message is None
    words = paper_matches(store, searcher, "neural vocoder")
    assert words.exact is None and words.choices and words.message is None
    assert paper_matches(store, searcher, "   ") == paper_matches(store, None, "")
    offline = paper_matches(store, None, "VITS")
    assert [choice.id for choice in offline.choices] == [VITS]


def test_a_picker_never_offers_another_paper_for_an_unknown_id(seed) -> None:
    settings, store, _, _ = seed
    missing = paper_matches(store, Searcher(settings, store), "2501.99999")
    assert missing.choices == []
    assert missing.message is not None and "2501.99999 is not in the catalogue" in missing.message
    assert "speechgraph import FILE" in missing.message
    nothing = paper_matches(store, None, "zzqx unheard of words")
    assert nothing.choices == [] and "no paper matches" in (nothing.message or "")


def test_status_rows_and_lines() -> None:
    view = {
        "papers": 8283,
        "listed": 84,
        "with_abstract": 8199,
        "with_vector": 8000,
        "lists": 5,
        "by_origin": {"list": 84, "snapshot": 84, "arxiv": 0, "import": 8199, "harvest": 0},
        "last_import": {"at": "2026-12-07T00:58:27+00:00", "read": 8469, "imported": 8199,
                        "files": ["corpus.jsonl.gz"]},
        "last_harvest": None,
    }  # fmt: skip
    assert status_rows(view)[:2] == [("Papers", 8283), ("Listed", 84)]
    assert describe_origins(view) == "84 list, 84 snapshot, 8199 import"
    assert describe_origins({}) == "nothing yet"
    assert describe_event(view["last_import"]) == (
        "2026-12-07T00:58:27+00:00: 8469 read, 8199 imported (from corpus.jsonl.gz)"
    )
    assert describe_event(None) == "never"
