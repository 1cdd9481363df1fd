"""Settings: read from the environment once, by the entry points, into one model."""

from __future__ import annotations

import os
import re
from pathlib import Path

import pytest

from flows.failure import operators
from tasks.adapters.mail import MailConfigError, SmtpMailer
from tasks.adapters.mailers import mailer_for
from tasks.reading.files import Limits
from tasks.settings.environment import Settings
from tasks.store.history import MemoryHistoryStore, store_for
from tests.conftest import ROOT

SECRETS = {"BRIEFING_SMTP_PASSWORD": "smtp-pw-7f3a", "BRIEFING_M365_CLIENT_SECRET": "m365-9c1d",
           "BRIEFING_M365_CERTIFICATE_PASSWORD": "cert-pw-55e0",
           "BRIEFING_STORE_URL": "postgresql+psycopg://u:db-pw-a1b2@db/history"}


def test_every_setting_defaults_to_unset() -> None:
    s = Settings.from_env({})
    assert all(getattr(s, name) is None for name in Settings.model_fields)
    assert Limits.from_settings(s) == Limits()
    assert operators(s) == []


@pytest.mark.parametrize("name", sorted(Settings.model_fields))
def test_each_variable_sets_its_field(name: str) -> None:
    s = Settings.from_env({})
    variable = s.variable(name)
    assert variable.startswith(("BRIEFING_", "PREFECT_"))
    got = Settings.from_env({variable: "value-1"})
    assert got.given(name)
    value = getattr(got, name)
    assert (got.secret(name) if not isinstance(value, str) else value) == "value-1"
    assert all(getattr(got, other) is None for other in Settings.model_fields if other != name)


def test_the_process_environment_is_read_by_from_env(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("BRIEFING_SMTP_HOST", "smtp.example.org")
    monkeypatch.setenv("PREFECT__WORKER_NAME", "worker-2")
    s = Settings.from_env()
    assert (s.smtp_host, s.worker_name) == ("smtp.example.org", "worker-2")
    # A mapping given is read instead, whatever the process has.
    assert Settings.from_env({"BRIEFING_SMTP_PORT": "25"}).smtp_host is None


def test_secrets_never_show(capsys: pytest.CaptureFixture[str]) -> None:
    env = SECRETS | {"BRIEFING_SMTP_HOST": "smtp.example.org",
                     "BRIEFING_SMTP_USERNAME": "briefing"}
    s = Settings.from_env(env)
    print(s, repr(s), s.model_dump(), s.model_dump_json())
    mailer = mailer_for(s)
    assert isinstance(mailer, SmtpMailer)
    print(repr(mailer.settings))
    shown = capsys.readouterr().out
    for value in SECRETS.values():
        assert value not in shown
    assert "db-pw-a1b2" not in shown
    # ...and are there for those that need them.
    assert mailer.settings.password == "smtp-pw-7f3a"
    assert s.secret("store_url") == SECRETS["BRIEFING_STORE_URL"]


def test_an_empty_secret_counts_as_unset() -> None:
    s = Settings.from_env({"BRIEFING_SMTP_PASSWORD": "", "BRIEFING_STORE_URL": ""})
    assert s.secret("smtp_password") is None and not s.given("smtp_password")
    assert isinstance(store_for(Path("/nonexistent"), "memory://"), MemoryHistoryStore)


@pytest.mark.parametrize(("env", "named"), [
    ({}, "BRIEFING_SMTP_HOST"),
    ({"BRIEFING_SMTP_HOST": "smtp.example.org", "BRIEFING_SMTP_USERNAME": "b"},
     "BRIEFING_SMTP_PASSWORD"),
    ({"BRIEFING_MAIL_TRANSPORT": "graph", "BRIEFING_M365_TENANT_ID": "contoso.example",
      "BRIEFING_M365_CLIENT_ID": "app"}, "BRIEFING_M365_CLIENT_SECRET"),
    ({"BRIEFING_MAIL_TRANSPORT": "graph"}, "BRIEFING_M365_TENANT_ID"),
])
def test_a_missing_secret_or_server_stops_with_its_name(env: dict[str, str], named: str) -> None:
    with pytest.raises(MailConfigError, match=named):
        mailer_for(Settings.from_env(env))


def test_a_bad_limit_names_its_variable() -> None:
    with pytest.raises(ValueError, match="BRIEFING_MAX_CELLS must be a whole number"):
        Limits.from_settings(Settings.from_env({"BRIEFING_MAX_CELLS": "many"}))
    assert Limits.from_settings(Settings.from_env({"BRIEFING_MAX_ROWS": "1_000"})).rows == 1000


def test_nothing_under_tasks_reads_the_environment() -> None:
    """The entry points read it (tasks.settings.environment); tasks.adapters.lifeline only
    passes the process's environment on to the watchdog it starts."""
    readers = []
    modules = sorted((ROOT / "tasks").rglob("*.py"))
    assert len(modules) > 40  # every stage package's modules, not only the top level
    for path in modules:
        # returns/validators.py passes PATH and the locale on to DfE's validators' process
        if path.name in {"environment.py", "lifeline.py", "validators.py"}:
            continue
        if re.search(r"os\.environ|getenv\(", path.read_text(encoding="utf-8")):
            readers.append(path.name)
    assert readers == []



IMPORTS = """
import json, os, sys
before = dict(os.environ)
import flows
applied = {k: v for k, v in os.environ.items() if before.get(k) != v}
after_package = dict(os.environ)
import flows.cli, flows.failure, flows.monthly_briefing, flows.regional_briefing
import flows.reminders, flows.serve
from prefect.settings import get_current_settings
s = get_current_settings()
print(json.dumps({"applied": applied, "changed_by_modules": dict(os.environ) != after_package,
                  "timeout": s.server.ephemeral.startup_timeout_seconds,
                  "ui": s.server.ui.enabled, "analytics": s.server.analytics_enabled}))
"""


def test_importing_the_flows_changes_only_what_the_package_applies(tmp_path: Path) -> None:
    """`import flows` applies Prefect's defaults once, before Prefect reads its settings;
    importing every flow module after it changes nothing more."""
    import json
    import subprocess
    import sys

    from flows.prefect_env import DEFAULTS

    env = {k: v for k, v in os.environ.items()
           if k not in DEFAULTS and not k.startswith("BRIEFING_")}
    env["PREFECT_HOME"] = str(tmp_path)
    out = subprocess.run([sys.executable, "-c", IMPORTS], cwd=ROOT, env=env, check=True,
                         capture_output=True, text=True, timeout=120).stdout
    got = json.loads(out.strip().splitlines()[-1])
    assert got["applied"] == DEFAULTS
    assert got["changed_by_modules"] is False
    assert (got["timeout"], got["ui"], got["analytics"]) == (180, False, False)


def test_a_users_own_prefect_setting_wins(tmp_path: Path) -> None:
    import json
    import subprocess
    import sys

    env = {k: v for k, v in os.environ.items() if not k.startswith("BRIEFING_")}
    env |= {"PREFECT_HOME": str(tmp_path), "PREFECT_UI_ENABLED": "true",
            "PREFECT_SERVER_EPHEMERAL_STARTUP_TIMEOUT_SECONDS": "45"}
    env.pop("PREFECT_SERVER_ANALYTICS_ENABLED", None)
    out = subprocess.run([sys.executable, "-c", IMPORTS], cwd=ROOT, env=env, check=True,
                         capture_output=True, text=True, timeout=120).stdout
    got = json.loads(out.strip().splitlines()[-1])
    assert got["applied"] == {"PREFECT_SERVER_ANALYTICS_ENABLED": "false"}
    assert (got["timeout"], got["ui"]) == (45, True)


def test_the_docs_list_every_variable() -> None:
    pages = [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]
    readme = "\n".join(p.read_text(encoding="utf-8") for p in pages)
    s = Settings.from_env({})
    missing = [s.variable(n) for n in Settings.model_fields if s.variable(n) not in readme]
    assert missing == []


def test_one_allowed_domains_rule_for_every_message() -> None:
    from tasks.delivering.notify import allowed_address

    assert allowed_address("ops@Example.gov.uk", ["example.gov.uk"])
    assert not allowed_address("ops@evil.example", ["example.gov.uk"])
    assert allowed_address("ops@anywhere.example", [])


# Issue 24: every numeric mail setting out of its range, as an operator could set it.
BAD_NUMBERS = [
    ("BRIEFING_SMTP_RETRIES", "-1", "a whole number from 0 to 10"),
    ("BRIEFING_SMTP_RETRIES", "1000000000", "a whole number from 0 to 10"),
    ("BRIEFING_SMTP_RETRIES", "2.5", "a whole number from 0 to 10"),
    ("BRIEFING_SMTP_PORT", "70000", "a whole number from 1 to 65535"),
    ("BRIEFING_SMTP_PORT", "0", "a whole number from 1 to 65535"),
    ("BRIEFING_SMTP_TIMEOUT", "-1", "a number from 1 to 600 seconds"),
    ("BRIEFING_SMTP_TIMEOUT", "nan", "a number from 1 to 600 seconds"),
    ("BRIEFING_SMTP_TIMEOUT", "1e999", "a number from 1 to 600 seconds"),
    ("BRIEFING_SMTP_TIMEOUT", "0", "a number from 1 to 600 seconds"),
    ("BRIEFING_SMTP_BACKOFF", "inf", "a number from 0 to 60 seconds"),
    ("BRIEFING_SMTP_BACKOFF", "-0.5", "a number from 0 to 60 seconds"),
    ("BRIEFING_GRAPH_RETRIES", "-1", "a whole number from 0 to 10"),
    ("BRIEFING_GRAPH_TIMEOUT", "0", "a number from 1 to 600 seconds"),
    ("BRIEFING_GRAPH_BACKOFF", "1e999", "a number from 0 to 60 seconds"),
    ("BRIEFING_GRAPH_MAX_WAIT", "nan", "a number from 0 to 3600 seconds"),
    ("BRIEFING_M365_TIMEOUT", "-5", "a number from 1 to 600 seconds"),
]
LOCAL_SMTP = {"BRIEFING_SMTP_HOST": "127.0.0.1", "BRIEFING_SMTP_SECURITY": "none"}


@pytest.mark.parametrize(("variable", "value", "allowed"), BAD_NUMBERS)
def test_a_bad_mail_number_stops_the_run_before_the_engine(
        variable: str, value: str, allowed: str, tmp_path: Path,
        monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    """One line naming the variable, what was found and the range; exit 2; nothing
    written, and the engine never reached (today -1 retries started it and "sent" 9)."""
    from flows import cli

    def engine_would_start() -> None:
        raise AssertionError("the engine was about to start")

    monkeypatch.setattr(cli, "_children_end_with_us", engine_would_start)
    for name, given in {**LOCAL_SMTP, variable: value}.items():
        monkeypatch.setenv(name, given)
    out = tmp_path / "out"
    code = cli.main(["run", "--config", str(ROOT / "config"), "--exports",
                     str(ROOT / "demo" / "exports"), "--out", str(out), "--send"])
    err = capsys.readouterr().err
    assert code == 2, err
    assert err == f"Error: {variable} must be {allowed}, not {value!r}\n"
    assert not out.exists()


@pytest.mark.parametrize(("variable", "value", "allowed"), BAD_NUMBERS)
def test_a_bad_mail_number_never_builds_a_mailer(variable: str, value: str,
                                                 allowed: str) -> None:
    transport = "graph" if "SMTP" not in variable else "smtp"
    env = {**LOCAL_SMTP, "BRIEFING_MAIL_TRANSPORT": transport,
           "BRIEFING_M365_TENANT_ID": "contoso.example", "BRIEFING_M365_CLIENT_ID": "app",
           "BRIEFING_M365_CLIENT_SECRET": "s", variable: value}
    with pytest.raises(MailConfigError, match=f"{variable} must be {allowed}"):
        mailer_for(Settings.from_env(env))


def test_numbers_in_range_and_empty_ones_are_taken() -> None:
    s = Settings.from_env({"BRIEFING_SMTP_RETRIES": " 10 ", "BRIEFING_SMTP_PORT": "",
                           "BRIEFING_SMTP_TIMEOUT": "2.5e1", "BRIEFING_GRAPH_MAX_WAIT": "0"})
    s.check_numbers()
    assert (s.number("smtp_retries", 3), s.number("smtp_port", 25),
            s.number("smtp_timeout", 30), s.number("graph_max_wait", 120)) == (10, 25, 25, 0)


def test_settings_built_by_hand_are_ranged_too() -> None:
    from tasks.adapters.m365 import GraphSettings
    from tasks.adapters.mail import SmtpSettings

    with pytest.raises(MailConfigError, match="BRIEFING_SMTP_PORT must be a whole number"):
        SmtpSettings("127.0.0.1", 70000, "none", None, None, 5.0)
    with pytest.raises(MailConfigError, match="BRIEFING_SMTP_RETRIES"):
        SmtpSettings("127.0.0.1", 25, "none", None, None, 5.0, retries=-1)
    with pytest.raises(MailConfigError, match="BRIEFING_GRAPH_TIMEOUT"):
        GraphSettings(timeout=float("nan"))
