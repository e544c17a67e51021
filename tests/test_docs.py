"""The documentation: the site builds with no warning (MkDocs in strict mode checks every link
and anchor), a broken link fails it, and every make target, setting and variable the README
and the docs name exists, so a renamed one cannot leave the docs behind."""

from __future__ import annotations

import fnmatch
import functools
import importlib.util
import re
import shutil
import subprocess
import sys
from collections.abc import Iterable
from pathlib import Path
from types import ModuleType

import pytest
from pydantic import Field
from pydantic_settings import BaseSettings

from chaos.scenarios import SCENARIOS
from harness.cli import DEBUG_ENV
from harness.settings import PROJECT_ROOT

DOCS = PROJECT_ROOT / "docs"
README = PROJECT_ROOT / "README.md"
CHANGELOG = PROJECT_ROOT / "CHANGELOG.md"
README_MAX_LINES = 250
# Names the docs mention that are no setting of ours: variables of other programs (the ones
# the app does not read, said so), and MkDocs' own.
OTHER_VARIABLES = {
    "SSL_CERT_FILE",
    "WEB_CONCURRENCY",
    "SERVER_SOFTWARE",
    "PATH",
    "NO_MKDOCS_2_WARNING",
}
# Error codes of SQLite, Hrana and libsql-client look like variables and are not.
ERROR_CODE = re.compile(r"^(SQLITE_|HRANA_|SQL_|ARGS_|CLIENT_|TRANSACTION_|STREAM_|AUTH_)")
CODE_SPAN = re.compile(r"`([^`\n]+)`")
FENCE = re.compile(r"^```.*?^```", re.MULTILINE | re.DOTALL)
# `make bench-*` names a family of targets.
MAKE_TARGET = re.compile(r"\bmake ([a-z][a-z0-9-]*\*?)")
# `NAME=value` anywhere; `NAME` alone in a code span; and, in prose too, any name with the
# prefix of one of our programs' settings.
ASSIGNED = re.compile(r"(?<![\w$({])([A-Z][A-Z0-9_]{2,})=")
SPANNED = re.compile(r"^([A-Z][A-Z0-9_]{2,})(?:=.*)?$")
PREFIXED = re.compile(r"\b((?:APP|LOCALTURSO|TURSO|TOXIPROXY|SQLD|HARNESS)_[A-Z0-9_]+)")
# Capitals in code spans that are no variable: HTTP and SQL words, signals, git's HEAD, the
# gate's statuses, and a placeholder in a command line.
NOT_VARIABLES = {
    *("GET", "POST", "PATCH", "DELETE", "HEAD", "HTTP", "SELECT", "WITH", "VALUES", "BEGIN"),
    *("COMMIT", "SIGSTOP", "SIGCONT", "SIGTERM", "SIGINT", "SIGKILL", "SIGHUP"),
    *("MISSING", "REGRESSED", "PASS", "FAIL", "APP_PID"),
}
LINK = re.compile(r"\]\(([^)\s]+)\)")


@functools.cache
def _hook() -> ModuleType:
    path = DOCS / "hooks" / "generated_reference.py"
    spec = importlib.util.spec_from_file_location("generated_reference", path)
    assert spec
    assert spec.loader
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def doc_pages() -> list[Path]:
    """What a user reads: the README and the site's pages (the changelog is history: it may
    name what no longer exists)."""
    return [README, *sorted(DOCS.rglob("*.md"))]


def code_of(text: str) -> list[str]:
    """The code spans and fenced blocks of a markdown text."""
    return [*CODE_SPAN.findall(FENCE.sub("", text)), *FENCE.findall(text)]


def make_targets_named(text: str) -> set[str]:
    """Targets in code, and hyphenated ones in prose too (plain "make sure" is English)."""
    in_code = {target for code in code_of(text) for target in MAKE_TARGET.findall(code)}
    return in_code | {t for t in MAKE_TARGET.findall(text) if "-" in t}


def variables_named(text: str) -> set[str]:
    names = set(ASSIGNED.findall(text)) | set(PREFIXED.findall(text))
    for span in CODE_SPAN.findall(FENCE.sub("", text)):
        if match := SPANNED.match(span):
            names.add(match.group(1))
    return {name for name in names if not ERROR_CODE.match(name)} - NOT_VARIABLES


def makefile_targets() -> set[str]:
    text = (PROJECT_ROOT / "Makefile").read_text()
    return set(re.findall(r"^([a-z][a-z0-9-]*):", text, re.MULTILINE))


def makefile_variables() -> set[str]:
    text = (PROJECT_ROOT / "Makefile").read_text()
    defined = re.findall(r"^([A-Z][A-Z0-9_]*) *[?:]?=", text, re.MULTILINE)
    return {*defined, *re.findall(r"\$\(([A-Z][A-Z0-9_]*)\)", text)}


def compose_variables() -> set[str]:
    return set(re.findall(r"\$\{([A-Z][A-Z0-9_]*)", (PROJECT_ROOT / "compose.yaml").read_text()))


def known_variables() -> set[str]:
    ours = _hook().setting_names() | makefile_variables() | compose_variables() | {DEBUG_ENV}
    return ours | OTHER_VARIABLES


def unknown(named: Iterable[str], known: set[str]) -> list[str]:
    return sorted(name for name in set(named) if not fnmatch.filter(known, name))


def broken_links(page: Path) -> list[str]:
    """Relative links of a page outside the site (README, CHANGELOG) whose file or heading
    is missing; MkDocs checks the site's own pages."""
    broken = []
    for target in LINK.findall(page.read_text()):
        if re.match(r"^[a-z]+:", target):
            continue
        path, _, anchor = target.partition("#")
        file = (page.parent / path).resolve() if path else page
        if not file.exists() or (anchor and anchor not in heading_slugs(file)):
            broken.append(target)
    return broken


def heading_slugs(page: Path) -> set[str]:
    """Heading anchors as MkDocs' toc extension and GitHub make them."""
    headings = re.findall(r"^#+ (.+)$", FENCE.sub("", page.read_text()), re.MULTILINE)
    return {re.sub(r"[\s]+", "-", re.sub(r"[^\w\s-]", "", h).strip().lower()) for h in headings}


def build_site(config: Path, site_dir: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [
            sys.executable,
            "-m",
            "mkdocs",
            "build",
            "--strict",
            "--config-file",
            str(config),
            "--site-dir",
            str(site_dir),
        ],
        capture_output=True,
        text=True,
        timeout=180,
        env={"NO_MKDOCS_2_WARNING": "1", "PATH": "/usr/bin:/bin"},
        check=False,
    )


def test_the_site_builds_with_no_warning(tmp_path: Path) -> None:
    built = build_site(PROJECT_ROOT / "mkdocs.yml", tmp_path / "site")
    assert built.returncode == 0, built.stderr
    assert "WARNING" not in built.stderr, built.stderr
    settings_page = (tmp_path / "site" / "reference" / "settings" / "index.html").read_text()
    assert "APP_REQUEST_DEADLINE_MS" in settings_page
    assert "LOCALTURSO_PORT" in settings_page
    assert "TOXIPROXY_URL" in settings_page
    scenarios_page = (tmp_path / "site" / "guides" / "chaos-scenarios" / "index.html").read_text()
    assert all(f'id="{name}"' in scenarios_page for name in SCENARIOS)


def test_every_generated_section_is_asked_for_with_a_marker_the_hook_knows() -> None:
    """A misspelt marker would leave its page without the section, and no build warns."""
    for page in DOCS.rglob("*.md"):
        for line in page.read_text().splitlines():
            if "generated" in line and line.startswith("<!--"):
                assert _hook().MARKER.match(line), f"{page.name}: {line}"
                _hook().generated(_hook().MARKER.match(line)["what"])


def test_a_broken_link_or_anchor_fails_the_build(tmp_path: Path) -> None:
    copy = tmp_path / "project"
    shutil.copytree(DOCS, copy / "docs")
    shutil.copy(PROJECT_ROOT / "mkdocs.yml", copy / "mkdocs.yml")
    page = copy / "docs" / "guides" / "gate.md"
    page.write_text(page.read_text() + "\nSee [the old page](nowhere.md).\n")
    built = build_site(copy / "mkdocs.yml", tmp_path / "site")
    assert built.returncode != 0
    assert "nowhere.md" in built.stderr
    page.write_text(page.read_text().replace("nowhere.md", "chaos.md#no-such-heading"))
    built = build_site(copy / "mkdocs.yml", tmp_path / "site")
    assert built.returncode != 0
    assert "no-such-heading" in built.stderr


def test_the_readme_is_short_and_its_links_resolve() -> None:
    assert len(README.read_text().splitlines()) <= README_MAX_LINES
    assert broken_links(README) == []
    assert broken_links(CHANGELOG) == []


def test_a_missing_file_or_heading_is_a_broken_link(tmp_path: Path) -> None:
    (tmp_path / "guide.md").write_text("# Guide\n\n## In CI\n")
    page = tmp_path / "README.md"
    page.write_text("[a](guide.md#in-ci) [b](gone.md) [c](guide.md#in-cd) [d](https://x.org)")
    assert broken_links(page) == ["gone.md", "guide.md#in-cd"]


@pytest.mark.parametrize("page", doc_pages(), ids=lambda page: page.name)
def test_every_make_target_named_exists(page: Path) -> None:
    assert unknown(make_targets_named(page.read_text()), makefile_targets()) == []


@pytest.mark.parametrize("page", doc_pages(), ids=lambda page: page.name)
def test_every_setting_and_variable_named_exists(page: Path) -> None:
    assert unknown(variables_named(page.read_text()), known_variables()) == []


def test_a_renamed_setting_or_target_is_caught() -> None:
    text = (
        "Set `APP_REQUEST_DEADLINE` (was `APP_REQUEST_DEADLINE_MS`), run\n"
        "```sh\nTRIAL=3 make gate-all\n```\nand `SQLITE_BUSY` is an error code.\n"
        "| `DURATON` | `30s` |\nor set APP_BATCH_WINDOW to 5, and `GET` is a method.\n"
    )
    assert unknown(variables_named(text), known_variables()) == [
        "APP_BATCH_WINDOW",
        "APP_REQUEST_DEADLINE",
        "DURATON",
        "TRIAL",
    ]
    assert unknown(make_targets_named(text), makefile_targets()) == ["gate-all"]


def test_every_setting_has_a_description_for_the_reference() -> None:
    hook = _hook()
    for module, attribute, flags in hook.SETTINGS_OBJECTS.values():
        table = hook.settings_table(module, attribute, flags)
        assert table.count("\n") >= 3

    class Undescribed(BaseSettings):
        documented: int = Field(default=1, description="Said.")
        forgotten: int = 2

    sys.modules["undescribed_settings"] = ModuleType("undescribed_settings")
    sys.modules["undescribed_settings"].Settings = Undescribed  # type: ignore[attr-defined]
    try:
        with pytest.raises(ValueError, match="forgotten has no description"):
            hook.settings_table("undescribed_settings", "Settings", None)
    finally:
        del sys.modules["undescribed_settings"]


def test_a_setting_the_command_line_lacks_fails_the_reference() -> None:
    with pytest.raises(ValueError, match="has no --no-such-setting"):
        _hook().flag_of("localturso.__main__", "no_such_setting")


def test_the_settings_reference_names_every_variable_and_its_default() -> None:
    table = _hook().generated("settings app")
    assert "| `APP_REQUEST_DEADLINE_MS` | int > 0, ≤ 300000 | `2000` |" in table
    assert "`TURSO_DATABASE_URL`<br>`TURSO_CONNECTION_URL`" in table
    flags = _hook().generated("settings localturso")
    assert "| `--port`<br>`LOCALTURSO_PORT` | int ≥ 0, ≤ 65535 | `8080` |" in flags
    with pytest.raises(ValueError, match="unknown generated section"):
        _hook().generated("settings nobody")


# Each section of the summary.json reference, and the modules that write its records.
SUMMARY_WRITERS = {
    "make bench": ("stackbench/__main__.py", "stackbench/provenance.py"),
    "make chaos": ("chaos/report.py", "chaos/runner.py"),
    "make gate": ("stackbench/gate.py", "stackbench/provenance.py"),
}


def fields_by_section(page: Path) -> dict[str, set[str]]:
    """The field names in the first column of each `## ` section's tables."""
    sections = re.split(r"^## ", page.read_text(), flags=re.MULTILINE)[1:]
    fields = {}
    for section in sections:
        heading, _, body = section.partition("\n")
        rows = re.findall(r"^\| ([^|]+) \|", body, re.MULTILINE)
        names = {name for row in rows for name in re.findall(r"`([a-z][a-z0-9_]*)`", row)}
        fields[heading.split(":")[0].strip("` ")] = names
    return fields


def written_by(name: str, sources: str) -> bool:
    """A key the code writes: a string literal, or a field of a dataclass it dumps."""
    return bool(re.search(rf'"{name}"|^\s+{name}: ', sources, re.MULTILINE))


def test_every_summary_field_documented_is_written_by_the_code() -> None:
    sections = fields_by_section(DOCS / "reference" / "summary-json.md")
    assert set(sections) == set(SUMMARY_WRITERS)
    for section, modules in SUMMARY_WRITERS.items():
        sources = "\n".join((PROJECT_ROOT / module).read_text() for module in modules)
        missing = sorted(name for name in sections[section] if not written_by(name, sources))
        assert missing == [], section


def test_a_field_the_code_does_not_write_is_caught() -> None:
    sources = 'summary = {"mode": mode, "endpoints": rows}\n    censored: int = 0\n'
    assert [written_by(name, sources) for name in ("mode", "censored", "modes")] == [
        True,
        True,
        False,
    ]
