"""What kind of thing a link points at: an arXiv paper, a DOI, a publisher's page, code, a video,
an image, a model card, a blog, docs. Pure functions over strings; ids come from `ids`.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from urllib.parse import unquote, urlsplit

from speechgraph.ids import absolute_url, parse_arxiv_url

__all__ = ["RESEARCH_BLOG_HOSTS", "classify_url", "is_research_blog"]


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
    absolute = absolute_url(url)
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
    return _host_in((urlsplit(absolute_url(url)).hostname or "").lower(), RESEARCH_BLOG_HOSTS)
