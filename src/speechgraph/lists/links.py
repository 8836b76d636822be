"""arXiv ids, DOIs and URL kinds: every form an arXiv id or a DOI is written in (abs/pdf/html
links, ar5iv, `arXiv:` prose, old-style `hep-th/9901001`, publisher paths), and what kind of
thing a link points at. Pure functions over strings; imports only `errors`.
"""

from __future__ import annotations

import re
from collections.abc import Container, Iterable, Mapping
from urllib.parse import unquote, urlsplit

from speechgraph.errors import InvalidPaperId, PaperNotFound

__all__ = [
    "RESEARCH_BLOG_HOSTS",
    "classify_url",
    "find_arxiv_ids_in_text",
    "is_research_blog",
    "normalize_arxiv_id",
    "parse_arxiv_url",
    "parse_doi",
]


# --- arXiv ids and DOIs -------------------------------------------------------------

_NEW_ID = r"(?P<new>\d{4}\.\d{4,5})"
_OLD_ID = r"(?P<old>[a-z]+(?:-[a-z]+)?)(?:\.[A-Za-z][A-Za-z-]+)?/(?P<number>\d{7})"
_ID_WITH_VERSION = rf"(?:{_NEW_ID}|{_OLD_ID})(?:v(?P<version>\d+))?(?![\d])"
_ARXIV_HOST = re.compile(r"^(?:(?:www|export)\.)?arxiv\.org$|^ar5iv(?:\.labs\.arxiv)?\.org$")
_ARXIV_PATH = re.compile(
    rf"^/(?:abs|pdf|html|format|ps|src|e-print|view)/(?:arxiv:)?{_ID_WITH_VERSION}", re.I
)
_ARXIV_IN_TEXT = re.compile(rf"\barxiv:\s?{_ID_WITH_VERSION}", re.I)
_ARXIV_URL_IN_TEXT = re.compile(r"(?:https?://)?(?:[\w-]+\.)*(?:arxiv|ar5iv)\.org/[^\s)\]>\"']+")
_BARE_ID = re.compile(rf"^(?:arxiv:)?{_ID_WITH_VERSION}$", re.I)
_DOI = re.compile(r"\b10\.\d{4,9}/[^\s\"<>]+")


def _id_from_match(match: re.Match[str]) -> tuple[str, int | None] | None:
    version = int(match.group("version")) if match.group("version") else None
    if match.group("new"):
        paper_id = match.group("new")
        year_month, number = paper_id.split(".")
        month = int(year_month[2:])
        # Five-digit numbers started in January 2015; four digits before.
        if not 1 <= month <= 12 or (len(number) == 5) != (year_month >= "1501"):
            return None
        return paper_id, version
    return f"{match.group('old').lower()}/{match.group('number')}", version


def _absolute(url: str) -> str:
    url = url.strip().strip("<>")
    if url.startswith("//"):
        return "https:" + url
    if not re.match(r"^[a-z][a-z0-9+.-]*:", url, re.I) and re.match(r"^(?:www\.)?[\w-]+\.", url):
        host = url.split("/", 1)[0]
        if re.search(r"\.(?:org|com|net|io|co|edu|dev|ai|science|pub|press|cc|tv)$", host):
            return "https://" + url
    return url


def parse_arxiv_url(url: str) -> tuple[str, int | None] | None:
    """(id without version, version) for an arXiv or ar5iv link in any form, else None."""
    parts = urlsplit(_absolute(url))
    if not _ARXIV_HOST.match((parts.hostname or "").lower()):
        return None
    match = _ARXIV_PATH.match(unquote(parts.path))
    return _id_from_match(match) if match else None


def find_arxiv_ids_in_text(text: str) -> list[tuple[str, int | None]]:
    """arXiv ids cited in prose (`arXiv:2005.07143`, arXiv URLs), first occurrence order."""
    found: list[tuple[str, int | None]] = []
    candidates = [(m.start(), _id_from_match(m)) for m in _ARXIV_IN_TEXT.finditer(text)]
    candidates += [
        (m.start(), parse_arxiv_url(m.group())) for m in _ARXIV_URL_IN_TEXT.finditer(text)
    ]
    seen: set[str] = set()
    for _, paper in sorted(candidates, key=lambda item: item[0]):
        if paper is not None and paper[0] not in seen:
            seen.add(paper[0])
            found.append(paper)
    return found


def normalize_arxiv_id(raw: str) -> tuple[str, int | None]:
    """(id, version) from `2006.11477v2`, `arXiv:2006.11477`, `hep-th/9901001` or an arXiv URL.

    Raises InvalidPaperId when `raw` is none of these.
    """
    text = raw.strip()
    match = _BARE_ID.match(text)
    paper = _id_from_match(match) if match else parse_arxiv_url(text)
    if paper is None:
        raise InvalidPaperId(
            f"{raw!r} is not an arXiv id; write it like 2006.11477, 2006.11477v2 or hep-th/9901001"
        )
    return paper


def parse_doi(url_or_text: str) -> str | None:
    """The lowercased DOI in a doi.org link, `doi:` text, or a publisher URL that embeds one."""
    parts = urlsplit(_absolute(url_or_text))
    host = (parts.hostname or "").lower()
    if parts.scheme in ("http", "https") and host:
        path = unquote(parts.path).lstrip("/")
        if host in ("doi.org", "dx.doi.org", "www.doi.org"):
            return path.rstrip("/").lower() if path.startswith("10.") else None
        # Publisher paths put the DOI between other segments: keep its first suffix segment.
        match = re.search(r"\b10\.\d{4,9}/[^/?#\s]+", path)
        if match is None:
            return None
        return re.sub(r"\.(?:pdf|html?)$", "", match.group(), flags=re.I).lower()
    match = _DOI.search(url_or_text)
    return match.group().rstrip(".,;:)]}").lower() if match else None


# --- URL kinds ---------------------------------------------------------------------

_PUBLISHER_HOSTS = frozenset({
    "ieeexplore.ieee.org", "aclanthology.org", "aclweb.org", "openaccess.thecvf.com",
    "proceedings.mlr.press", "isca-archive.org", "isca-speech.org", "sciencedirect.com",
    "mdpi.com", "direct.mit.edu", "springer.com", "dl.acm.org", "openreview.net",
    "proceedings.neurips.cc", "papers.nips.cc", "neurips.cc", "icml.cc", "jmlr.org", "distill.pub",
    "hal.science", "archives-ouvertes.fr", "nature.com", "aaai.org", "ijcai.org", "ecva.net",
    "tandfonline.com", "wiley.com", "frontiersin.org", "cambridge.org", "iopscience.iop.org",
    "pubs.aip.org"
})  # fmt: skip
_VIDEO_HOSTS = frozenset({
    "youtube.com", "youtu.be", "youtube-nocookie.com", "bilibili.com", "b23.tv", "vimeo.com"
})  # fmt: skip
_CODE_HOSTS = frozenset({
    "github.com", "gitlab.com", "bitbucket.org", "colab.research.google.com", "nbviewer.org",
    "sourceforge.net", "codeberg.org"
})  # fmt: skip
_IMAGE_HOSTS = frozenset({
    "shields.io", "badgen.net", "camo.githubusercontent.com", "googleusercontent.com",
    "bp.blogspot.com"
})  # fmt: skip
_BLOG_HOSTS = ("medium.com", "github.io", "substack.com", "towardsdatascience.com")
_IMAGE_SUFFIX = re.compile(r"\.(?:png|jpe?g|gif|svg|webp|bmp)$", re.I)
_HF_HOSTS = ("huggingface.co", "hf.co")
_HF_DOCS = frozenset({"docs", "learn", "course", "tasks", "join", "pricing", "models", "papers"})
# Research labs publish papers as blog posts; a bare bullet link there is a paper mention.
RESEARCH_BLOG_HOSTS = frozenset({
    "blog.research.google", "research.google", "ai.googleblog.com", "ai.meta.com",
    "ai.facebook.com", "deepmind.com", "deepmind.google", "machinelearning.apple.com",
    "microsoft.com"
})  # fmt: skip


def _host_in(host: str, hosts: Iterable[str]) -> bool:
    return any(host == known or host.endswith("." + known) for known in hosts)


def _huggingface_kind(path: str) -> str:
    segments = [segment for segment in path.split("/") if segment]
    if not segments:
        return "other"
    if segments[0] == "spaces":
        return "code"
    if segments[0] == "blog":
        return "blog"
    if segments[0] in _HF_DOCS:
        return "docs"
    return "model" if len(segments) >= 2 and segments[0] != "datasets" else "other"


def classify_url(url: str) -> str:
    """What a link points at: "arxiv", "doi", "publisher", "code", "video", "image",
    "model", "blog", "docs" or "other" (relative links to the list's own files are "other")."""
    absolute = _absolute(url)
    parts = urlsplit(absolute)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        return "other"
    host, path = parts.hostname.lower(), unquote(parts.path)
    if parse_arxiv_url(absolute):
        return "arxiv"
    if host in ("doi.org", "dx.doi.org", "www.doi.org"):
        return "doi"
    if _IMAGE_SUFFIX.search(path) or _host_in(host, _IMAGE_HOSTS):
        return "image"
    if _host_in(host, _VIDEO_HOSTS):
        return "video"
    if _host_in(host, _HF_HOSTS):
        return _huggingface_kind(path)
    if _host_in(host, _CODE_HOSTS) or (host.endswith("kaggle.com") and "/code" in path):
        return "code"
    if host == "catalog.ngc.nvidia.com" or host.endswith("modelscope.cn"):
        return "model"
    if _host_in(host, _PUBLISHER_HOSTS) or path.lower().endswith(".pdf"):
        return "publisher"
    if _host_in(host, _BLOG_HOSTS) or "blog" in host or re.search(r"/blogs?(?:/|$)", path):
        return "blog"
    if host.startswith(("docs.", "developer.")) or "readthedocs" in host or "/docs/" in path:
        return "docs"
    return "other"


def is_research_blog(url: str) -> bool:
    """True for a link to a research lab's blog, where papers are published as posts."""
    return _host_in((urlsplit(_absolute(url)).hostname or "").lower(), RESEARCH_BLOG_HOSTS)


def find_paper_id(raw: str, ids: Container[str], names: Mapping[str, Iterable[str]]) -> str:
    """The catalogue id that `raw` names: an arXiv id in any form, an `s2:` id, or the
    well-known name of exactly one paper (`names`: paper id -> its names; any case).

    Raises PaperNotFound for a well-formed id the catalogue lacks, InvalidPaperId otherwise.
    """
    text = raw.strip()
    try:
        text, _version = normalize_arxiv_id(text)
        is_id = True
    except InvalidPaperId:
        is_id = text.startswith("s2:")
    if text in ids:
        return text
    if is_id:
        raise PaperNotFound(
            f"{text} is not in the catalogue: run `speechgraph list` to see its papers "
            "or `speechgraph search` to find one"
        )
    wanted = text.lower()
    matches = sorted(
        paper_id
        for paper_id, paper_names in names.items()
        if wanted and wanted in {name.lower() for name in paper_names if name}
    )
    if len(matches) == 1:
        return matches[0]
    if matches:
        raise InvalidPaperId(f"{raw!r} names several papers ({', '.join(matches)}): give its id")
    raise InvalidPaperId(
        f"{raw!r} is not an arXiv id (like 2106.06103) nor the name of one catalogue paper: "
        "run `speechgraph search` to find its id"
    )
