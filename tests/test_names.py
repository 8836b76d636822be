"""One resolver of "which paper does the user mean": the same names give the same paper in every
command and in the UI."""

from __future__ import annotations

import json

import pytest
from streamlit.testing.v1 import AppTest
from typer.testing import CliRunner

from conftest import REPO_DIR
from speechgraph.cli import app
from speechgraph.config import Settings
from speechgraph.errors import InvalidPaperId, PaperNotFound
from speechgraph.knowledge.names import lookup_names, match_paper

# Names a user types, and the paper each means in the seed catalogue.
NAMES = {
    "Less is More": "2406.19674",  # the head of a title, plain words
    "vits": "2106.06103",  # an alias, any case
    "HiFi GAN": "2010.05646",  # punctuation does not matter
    "Attention Is All You Need": "1706.03762",  # a whole title
    "https://arxiv.org/pdf/2212.04356v1": "2212.04356",  # an id in URL form with a version
}


def test_match_paper_takes_ids_in_any_form_and_unique_names() -> None:
    papers = {
        "2106.06103": lookup_names("Conditional Variational Autoencoder …", ["VITS"]),
        "1712.05884": lookup_names("Natural TTS Synthesis …", ["Tacotron 2"]),
        "1703.10135": lookup_names("Tacotron: Towards End-to-End Speech Synthesis", []),
        "s2:abc": lookup_names("Shared", []),
    }
    assert match_paper("https://arxiv.org/pdf/2106.06103v2", papers, papers) == "2106.06103"
    assert match_paper("vits", papers, papers) == "2106.06103"
    assert match_paper("Tacotron 2", papers, papers) == "1712.05884"
    assert match_paper("tacotron", papers, papers) == "1703.10135"
    assert match_paper("s2:abc", papers, papers) == "s2:abc"
    with pytest.raises(PaperNotFound, match=r"2312\.99999 is not in the catalogue.*import"):
        match_paper("2312.99999", papers, papers)
    for unknown in ("", "   ", "no such paper"):
        with pytest.raises(InvalidPaperId):
            match_paper(unknown, papers, papers)
    papers["1703.10135"].append("vits")
    with pytest.raises(InvalidPaperId, match="names several papers"):
        match_paper("VITS", papers, papers)


def invoke(settings: Settings, *arguments: str) -> dict:
    result = CliRunner().invoke(app, ["--data-dir", str(settings.data_dir), *arguments, "--json"])
    assert result.exit_code == 0, result.output
    return json.loads(result.stdout)


@pytest.mark.slow
@pytest.mark.parametrize(("name", "paper_id"), NAMES.items())
def test_every_command_resolves_a_name_to_the_same_paper(
    seed_settings: Settings, name: str, paper_id: str
) -> None:
    assert invoke(seed_settings, "show", name)["id"] == paper_id
    assert invoke(seed_settings, "similar", name, "-k", "2")["paper"] == paper_id
    assert invoke(seed_settings, "prereqs", name)["target"] == paper_id
    assert invoke(seed_settings, "path", "1609.03499", name)["to"] == paper_id


@pytest.mark.slow
def test_the_ui_resolves_the_same_names(
    seed_settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("SPEECHGRAPH_DATA_DIR", str(seed_settings.data_dir))
    monkeypatch.syspath_prepend(str(REPO_DIR / "ui"))
    for name, paper_id in NAMES.items():
        page = AppTest.from_file(str(REPO_DIR / "ui" / "app.py"), default_timeout=60)
        page.query_params["id"] = name
        page.run()
        page.switch_page("app_pages/paper.py").run()
        assert not page.exception and not page.error, name
        assert page.selectbox(key="paper_choice").value == paper_id, name


@pytest.mark.slow
def test_an_unknown_paper_is_named_in_the_ui_never_replaced(
    seed_settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("SPEECHGRAPH_DATA_DIR", str(seed_settings.data_dir))
    monkeypatch.syspath_prepend(str(REPO_DIR / "ui"))
    for page_file in ("app_pages/paper.py", "app_pages/reading_path.py"):
        page = AppTest.from_file(str(REPO_DIR / "ui" / "app.py"), default_timeout=60)
        page.query_params["id"] = "2501.99999"
        page.run()
        page.switch_page(page_file).run()
        assert not page.exception
        assert [error.value for error in page.error] and "2501.99999 is not in the catalogue" in (
            page.error[0].value.replace("\\", "")
        )
        assert "speechgraph import FILE" in page.error[0].value.replace("\\", "")
        assert not page.get("selectbox"), page_file  # no other paper shown in its place
        assert not page.get("text_input"), page_file
