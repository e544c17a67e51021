"""MkDocs hook: the reference pages' tables are written from the code at build time (the typed
settings objects and the chaos scenarios), so the documentation cannot drift from them.

A page asks for one with a marker line, e.g. `<!-- generated: settings app -->`; an unknown
marker fails the build.
"""

from __future__ import annotations

import functools
import importlib
import inspect
import re
import typing
from collections.abc import Callable, Iterator
from enum import Enum
from pathlib import Path
from typing import Any

from pydantic import AliasChoices
from pydantic.fields import FieldInfo
from pydantic_settings import BaseSettings

from harness.settings import PROJECT_ROOT
from harness.toxiproxy import attributes_text

MARKER = re.compile(r"^<!-- generated: (?P<what>[a-z ]+) -->$", re.MULTILINE)
# Which settings object each marker names, and the command line parser that also sets it.
SETTINGS_OBJECTS = {
    "settings app": ("reference_app.settings", "Settings", None),
    "settings localturso": ("localturso.settings", "Settings", "localturso.__main__"),
    "settings harness": ("harness.settings", "HarnessSettings", None),
}


def env_names(settings: type[BaseSettings], name: str, field: FieldInfo) -> list[str]:
    """The environment variables that set this field, in the order pydantic tries them."""
    alias = field.validation_alias
    if isinstance(alias, AliasChoices):
        return [choice for choice in alias.choices if isinstance(choice, str) and choice.isupper()]
    if isinstance(alias, str):
        return [alias.upper()]
    prefix = settings.model_config.get("env_prefix", "")
    return [f"{prefix}{name}".upper()]


def setting_names() -> set[str]:
    """Every environment variable any of the three settings objects reads."""
    names: set[str] = set()
    for module, attribute, _ in SETTINGS_OBJECTS.values():
        settings = getattr(importlib.import_module(module), attribute)
        for name, field in settings.model_fields.items():
            names.update(env_names(settings, name, field))
    return names


def _default(field: FieldInfo) -> str:
    value = field.get_default(call_default_factory=True)
    if value is None:
        return "unset"
    if isinstance(value, Enum):
        value = value.value
    if isinstance(value, Path) and value.is_relative_to(PROJECT_ROOT):
        value = value.relative_to(PROJECT_ROOT)
    if isinstance(value, bool):
        value = str(value).lower()
    return f"`{value}`"


def _bounds(field: FieldInfo) -> str:
    symbols = {"gt": ">", "ge": "≥", "lt": "<", "le": "≤"}
    bounds = []
    for rule in field.metadata:
        for attribute, symbol in symbols.items():
            limit = getattr(rule, attribute, None)
            if limit is not None:
                bounds.append(f"{symbol} {limit}")
    return ", ".join(bounds)


def _type(field: FieldInfo) -> str:
    annotation = field.annotation
    if isinstance(annotation, type) and issubclass(annotation, Enum):
        return " \\| ".join(f"`{member.value}`" for member in annotation)
    if typing.get_origin(annotation) is typing.Literal:
        return " \\| ".join(f"`{value}`" for value in typing.get_args(annotation))
    text = getattr(annotation, "__name__", None) or str(annotation)
    text = re.sub(r"\b(typing|pathlib|pydantic\.types)\.", "", text)
    text = text.replace("Literal[", "").replace("]", "").replace("'", "`")
    return text.replace("|", "\\|")


@functools.cache
def _flags(cli_module: str) -> frozenset[str]:
    return frozenset(importlib.import_module(cli_module).build_parser()._option_string_actions)


def flag_of(cli_module: str, name: str) -> str:
    """The field's flag in the program's real parser; a setting without one fails the build,
    so the reference cannot promise a flag the program refuses."""
    flag = f"--{name.replace('_', '-')}"
    if flag not in _flags(cli_module):
        raise ValueError(f"{cli_module} has no {flag} for its setting {name}")
    return flag


def settings_table(module: str, attribute: str, cli_module: str | None) -> str:
    """One row per field: its variable(s), flag, type, default, bounds and description."""
    settings = getattr(importlib.import_module(module), attribute)
    title = "flag / variable" if cli_module else "variable"
    rows = [f"| {title} | type | default | meaning |", "|---|---|---|---|"]
    for name, field in settings.model_fields.items():
        if not field.description:
            raise ValueError(f"{module}.{attribute}.{name} has no description")
        names = [f"`{env}`" for env in env_names(settings, name, field)]
        if cli_module:
            names.insert(0, f"`{flag_of(cli_module, name)}`")
        kind = " ".join(filter(None, (_type(field), _bounds(field))))
        text = field.description.replace("|", "\\|").replace("\n", " ")
        rows.append(f"| {'<br>'.join(names)} | {kind} | {_default(field)} | {text} |")
    return "\n".join(rows)


def _toxic(toxic: Any) -> str:
    attributes = attributes_text(toxic.type, toxic.attributes)
    share = "" if toxic.toxicity >= 1 else f", on {toxic.toxicity:.0%} of connections"
    return (
        f"`{toxic.type}` toxic, {toxic.stream}" + (f": {attributes}" if attributes else "") + share
    )


def _faults(scenario: Any) -> Iterator[str]:
    for fault in scenario.faults:
        for toxic in fault.toxics:
            yield f"on the `{fault.link}` link, {_toxic(toxic)}"
        for outage in fault.outages:
            yield (f"the `{fault.link}` link's proxy disabled for {outage.duration_s:g} s,"
                   f" {outage.start_s:g} s into the fault window")  # fmt: skip
    for signal in scenario.process_faults:
        yield (f"the {signal.target} process: `{signal.action}` {signal.start_s:g} s into the"
               f" fault window, for {signal.duration_s:g} s")  # fmt: skip
    if (holder := scenario.lock_holder) is not None:
        yield (f"another client ({holder.kind}) holds the write lock {holder.hold_ms:g} ms, then"
               f" pauses {holder.pause_ms:g} ms, over and over")  # fmt: skip
    if (rotation := scenario.token_rotation) is not None:
        yield (f"the server restarts with a new token key {rotation.start_s:g} s into the fault"
               f" window; the app's token file gets the new token"
               f" {rotation.new_token_after_s:g} s after it is back")  # fmt: skip
    if scenario.server_args:
        yield f"local server flags `{' '.join(scenario.server_args)}`"
    if scenario.sqld_args:
        yield f"sqld flags `{' '.join(scenario.sqld_args)}`"


def _expectations(scenario: Any) -> Iterator[str]:
    expect = scenario.expect
    yield (
        f"recovery within {expect.recovery_bound_s:g} s of the fault's removal"
        if (expect.recovery_bound_s is not None)
        else "no recovery bound"
    )
    if expect.min_success_rate is not None:
        yield f"≥ {expect.min_success_rate:.0%} of the requests during the fault succeed"
    if expect.min_success_rate_after is not None:
        yield f"≥ {expect.min_success_rate_after:.0%} succeed after it"
    if expect.latency_allowance_ms:
        allowance = expect.latency_allowance_ms
        yield f"p99 during the fault may exceed deadline + 10% by {allowance:g} ms"
    if expect.unanswered_allowed:
        yield "requests left unanswered are allowed (the fault is on the load → app link)"
    if expect.failure_codes:
        codes = ", ".join(f"`{code}`" for code in expect.failure_codes)
        yield f"every failure from the fault on is one of {codes}"


def _why(module_name: str) -> str:
    return inspect.cleandoc(importlib.import_module(f"chaos.scenarios.{module_name}").__doc__ or "")


def chaos_scenarios() -> str:
    """A heading per scenario: why, the faults with their units, what each mode must do."""
    from chaos.scenarios import SCENARIOS

    sections = []
    for name, scenario in SCENARIOS.items():
        where = []
        if not scenario.runs_on_sqld:
            where.append("local server only")
        if scenario.ws_only:
            where.append("ws only")
        fault = scenario.description + (f" ({', '.join(where)})" if where else "")
        lines = [f"## `{name}`", "", _why(name), "", f"**Fault:** {fault}."]
        if details := [f"- {detail}" for detail in _faults(scenario)]:
            lines += ["", *details]
        lines += ["", "**Hardened app:** every invariant holds; "
                  + "; ".join(_expectations(scenario)) + "."]  # fmt: skip
        naive = (
            "expected to pass (the fault needs none of the hardened features)"
            if scenario.expect.naive_passes
            else "expected to fail (it has no retries, deadline, breaker or idempotency)"
        )
        lines += ["", f"**Naive app:** {naive}.", ""]
        sections.append("\n".join(lines))
    return "\n".join(sections)


def generated(what: str) -> str:
    makers: dict[str, Callable[[], str]] = {
        key: (lambda spec=spec: settings_table(*spec)) for key, spec in SETTINGS_OBJECTS.items()
    }
    makers["chaos scenarios"] = chaos_scenarios
    if what not in makers:
        raise ValueError(f"unknown generated section {what!r}; one of {', '.join(makers)}")
    return makers[what]()


def on_page_markdown(markdown: str, **_: Any) -> str:
    return MARKER.sub(lambda match: generated(match["what"]), markdown)
