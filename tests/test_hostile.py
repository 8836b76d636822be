"""Hostile text in titles, abstracts, authors, list names, section names and link texts (script
tags, `javascript:` links, Markdown injection, spreadsheet formulas, terminal escapes,
bidirectional overrides) renders inert in the CLI's output and in every export: no CSV cell
starts a formula, BibTeX stays escaped, JSON and GraphML parse and keep the text as text, and
nothing printed can steer a terminal."""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path
from xml.etree import ElementTree

import pytest
from typer.testing import CliRunner

from conftest import make_settings
from speechgraph.cli import app
from speechgraph.config import Settings

FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
# What must never reach a terminal: ESC and CSI start escape sequences, BEL ends some, U+202E
# reverses the text after it.
STEERING = ("\x1b", "\x9b", "\x07", "\u202e", "\u2066")
LIST_NAME = '=HYPERLINK("javascript:alert(1)","lists")'
TITLES = [
    '=HYPERLINK("javascript:alert(1)","Speech synthesis")',
    "+cmd|' /C calc'!A0 speech recognition",
    "-2+3 neural vocoder",
    "@SUM(1+1) speaker verification",
    '<script>alert("title")</script> Speech enhancement',
    "[click me](javascript:alert(1)) **bold** # Heading _under_ `code` audio codec",
    "\x1b[2J\x1b]8;;javascript:alert(1)\x07Terminal title\x1b]8;;\x07 speech \u202eesrever",
    r"}\input{/etc/passwd}{ Braces and \commands in speech",
]
LIST_TEXT = """# Hostile list

## <script>alert("section")</script> Synthesis
- [=1+1 link text](https://arxiv.org/abs/2401.00001)
- [<img src=x onerror=alert(1)>](https://arxiv.org/abs/2401.00002)

## [section link](javascript:alert(1)) \x1b[31mred\x1b[0m @cmd
- [\x1b]8;;javascript:alert(1)\x07click\x1b]8;;\x07](https://arxiv.org/abs/2401.00003)
- [+plus](https://arxiv.org/abs/2401.00004) and [-minus](https://arxiv.org/abs/2401.00005)

## =SUM(A1) formulas
- [@at](https://arxiv.org/abs/2401.00006) [x](https://arxiv.org/abs/2401.00007)
- [y](https://arxiv.org/abs/2401.00008)
"""


def invoke(settings: Settings, *arguments: str) -> tuple[int, str, str]:
    """Run a command as on a terminal: click strips nothing (it removes colour codes only from
    output that is not a terminal's)."""
    result = CliRunner().invoke(app, ["--data-dir", str(settings.data_dir), *arguments], color=True)
    assert result.exception is None or isinstance(result.exception, SystemExit), result.exception
    return result.exit_code, result.stdout, result.stderr


@pytest.fixture(scope="module")
def hostile(tmp_path_factory: pytest.TempPathFactory) -> Settings:
    """A catalogue of papers with hostile text, listed in a hostile list."""
    directory = tmp_path_factory.mktemp("hostile")
    records = [
        {
            "id": f"2401.{number:05d}",
            "title": title,
            "abstract": f"{title} <a href='javascript:alert(2)'>abstract</a> =cmd() \x1b[5m",
            "authors": ["=Evil Author", "<b>Bold</b> Name", "\x1b[31mRed Author"],
            "categories": ["eess.AS"],
            "published": "2024-01-01",
        }
        for number, title in enumerate(TITLES, start=1)
    ]
    metadata = directory / "hostile.jsonl"
    metadata.write_text("".join(json.dumps(record) + "\n" for record in records), "utf-8")
    reading_list = directory / "hostile.md"
    reading_list.write_text(LIST_TEXT, encoding="utf-8")
    settings = make_settings(directory / "data")
    code, _, err = invoke(settings, "import", str(metadata), "--category", "all")
    assert code == 0, err
    code, _, err = invoke(
        settings, "refresh", "--offline", "--list", str(reading_list), "--name", LIST_NAME
    )
    assert code in (0, 3), err
    code, _, err = invoke(settings, "index")
    assert code == 0, err
    return settings


def assert_cannot_steer(text: str) -> None:
    for character in STEERING:
        assert character not in text, (character, text[:200])


def test_the_hostile_list_is_in_the_catalogue(hostile: Settings) -> None:
    code, out, _ = invoke(hostile, "lists", "--json")
    assert code == 0
    names = [item["name"] for item in json.loads(out)["lists"]]
    assert LIST_NAME in names


def test_csv_export_starts_no_formula(hostile: Settings) -> None:
    code, out, err = invoke(hostile, "export", "--format", "csv", "--scope", "field")
    assert code == 0, err
    rows = list(csv.DictReader(io.StringIO(out)))
    assert len(rows) >= len(TITLES)
    for row in rows:
        for column, cell in row.items():
            assert not cell.startswith(FORMULA_STARTS), (column, cell)
    titles = {row["title"] for row in rows}
    assert "'" + TITLES[0] in titles and "'" + TITLES[2] in titles
    lists = [row["lists"] for row in rows if row["lists"]]
    assert any(LIST_NAME in cell for cell in lists)
    assert all(not cell.startswith("=") for cell in lists)


def test_bibtex_export_keeps_commands_and_braces_escaped(hostile: Settings) -> None:
    code, out, err = invoke(hostile, "export", "--format", "bibtex", "--scope", "field")
    assert code == 0, err
    assert "\\input" not in out.replace("\\textbackslash{}input", "")
    for entry in out.split("\n@")[1:]:
        depth = 0
        for character, previous in zip(entry, " " + entry, strict=False):
            if previous == "\\":
                continue
            depth += {"{": 1, "}": -1}.get(character, 0)
            assert depth >= 0, entry[:200]
        assert depth == 0, entry[:200]


@pytest.mark.parametrize("export_format", ["json", "jsonl", "graphml"])
def test_data_exports_parse_and_keep_the_text_as_text(
    hostile: Settings, export_format: str
) -> None:
    code, out, err = invoke(hostile, "export", "--format", export_format, "--scope", "field")
    assert code == 0, err
    if export_format == "json":
        titles = {paper.get("title") for paper in json.loads(out)["papers"]}
    elif export_format == "jsonl":
        titles = {json.loads(line)["title"] for line in out.splitlines()}
    else:
        root = ElementTree.fromstring(out)
        titles = {element.text for element in root.iter() if element.text}
    assert TITLES[4] in titles and TITLES[5] in titles
    assert_cannot_steer(out)


@pytest.mark.parametrize(
    "arguments",
    [
        ["list", "--scope", "field"],
        ["list", "--json", "--scope", "field"],
        ["show", "2401.00007"],
        ["show", "2401.00001", "--json"],
        ["search", "speech", "--scope", "field"],
        ["search", "speech", "--json"],
        ["lists"],
        ["audit"],
        ["status"],
    ],
)
def test_nothing_the_cli_prints_can_steer_a_terminal(
    hostile: Settings, arguments: list[str]
) -> None:
    code, out, err = invoke(hostile, *arguments)
    assert code == 0, err
    assert out.strip()
    assert_cannot_steer(out + err)


def test_hostile_text_is_shown_literally(hostile: Settings) -> None:
    """Data stays data: the title, the authors and the list's name as given; the list's HTML
    and link syntax are read as the parser reads any list (tags and link targets dropped)."""
    code, out, _ = invoke(hostile, "show", "2401.00005", "--json")
    assert code == 0
    paper = json.loads(out)
    assert paper["title"] == TITLES[4] and "=Evil Author" in paper["authors"]
    code, out, _ = invoke(hostile, "show", "2401.00001", "--json")
    (mention,) = json.loads(out)["mentions"]
    assert mention["list"] == LIST_NAME
    assert "Synthesis" in mention["section"] and "<script>" not in mention["section"]


def test_a_terminal_escape_in_a_title_is_dropped_on_import(hostile: Settings) -> None:
    code, out, _ = invoke(hostile, "show", "2401.00007", "--json")
    assert code == 0
    title = json.loads(out)["title"]
    assert title.startswith("[2J]8;;javascript:alert(1)Terminal title]8;;")
    assert "esrever" in title


def test_exports_of_an_empty_selection_are_empty_not_errors(tmp_path: Path) -> None:
    settings = make_settings(tmp_path / "data")
    code, _, err = invoke(settings, "export", "--format", "csv")
    assert code == 1 and len(err.splitlines()) == 1
