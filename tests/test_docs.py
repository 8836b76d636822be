"""Documentation checks: every command and setting is in the README, and CI runs the README's
test command (then ruff and mypy, pinned, as a step of their own)."""

from __future__ import annotations

import re
from dataclasses import fields

from typer.testing import CliRunner

from conftest import REPO_DIR
from speechgraph.cli.app import app
from speechgraph.config import ENVIRONMENT_VARIABLES, Settings

README = (REPO_DIR / "README.md").read_text(encoding="utf-8")


def command_names() -> list[str]:
    return [command.name or "" for command in app.registered_commands]


def test_every_command_has_help_and_is_in_the_readme() -> None:
    runner = CliRunner()
    for name in command_names():
        result = runner.invoke(app, [name, "--help"])
        assert result.exit_code == 0, name
        assert f"`{name}" in README, f"README does not document `{name}`"


def test_every_setting_is_documented() -> None:
    for setting in fields(Settings):
        assert f"| {setting.name} |" in README, setting.name
        assert f"`{ENVIRONMENT_VARIABLES[setting.name]}`" in README, setting.name


def test_readme_opens_with_the_two_setup_commands_and_ci_runs_the_second() -> None:
    block = re.search(r"```bash\n(.*?)\n```", README, re.DOTALL)
    assert block is not None and README.index(block.group(0)) < 600
    install_and_run, install_and_test = block.group(1).splitlines()
    assert "speechgraph refresh --offline" in install_and_run
    assert install_and_test.endswith("pytest")
    ci_script = (REPO_DIR / ".ci" / "run").read_text(encoding="utf-8")
    assert install_and_test in ci_script
    assert "ruff check" in ci_script and "ruff format --check" in ci_script and "mypy" in ci_script
