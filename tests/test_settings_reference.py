"""docs/settings.md is generated from the settings the code reads; the declarations and descriptions agree."""

from __future__ import annotations

import shutil
import textwrap
from pathlib import Path

import pytest

from tests.helpers import ROOT
from tests.test_deploy import code_settings as regex_settings
from tools import settings_reference as ref
from tools.deploy_config import DELIVERIES, FUNCTIONS


def test_docs_settings_md_is_what_the_code_declares():
    # WHEN the reference is checked against the committed page
    code = ref.main(["--check"])
    # THEN it matches; else run `python -m tools.settings_reference --write`
    assert code == 0, (
        "docs/settings.md differs from the code: run `python -m tools.settings_reference --write`"
    )


def test_every_setting_read_is_described_and_every_description_is_read_or_pending():
    _, problems = ref.load()
    assert problems == []


def test_the_ast_scan_finds_what_the_deploy_tests_regex_finds_per_function_and_path():
    settings, _ = ref.load()
    for spec in FUNCTIONS:
        for delivery in DELIVERIES:
            scanned = {s.name for s in ref.settings_read(spec.name, delivery, settings)}
            assert scanned == regex_settings(spec.name, delivery), (spec.name, delivery)


def test_pending_names_are_described_and_not_in_the_page():
    page = (ROOT / ref.DOC).read_text(encoding="utf-8")
    for name in ref.PENDING:
        assert name in ref.DESCRIPTIONS and f"`{name}`" not in page


def test_the_page_takes_types_defaults_bounds_and_secrets_from_the_code():
    settings = {s.name: s for s in ref.load()[0]}
    # a literal default, a module-level constant's value, bounds from the minimum/maximum keywords
    assert ref.default_text(settings["ALERT_MAX_ITEMS"]) == "`5`"
    assert ref.type_text(settings["ALERT_MAX_ITEMS"]) == "whole number, 1-50"
    assert ref.default_text(settings["RETRY_TAG_KEY"]) == "`batch-events-retry`"  # DEFAULT_TAG_KEY
    assert ref.type_text(settings["FEISHU_MSG_TYPE"]) == "one of `card`, `post`"
    assert ref.default_text(settings["ALERT_DRY_RUN"]) == "`0`"
    assert ref.default_text(settings["ALERT_HTTP_TIMEOUT_S"]) == "`5`"
    # where the code's default is empty or not a literal, the description says what unset means
    assert ref.default_text(settings["ALERT_EVENTS"]) == "the 8 failure events"
    # who reads it, on which path
    assert settings["CMQ_ENDPOINT"].functions == tuple(f.name for f in FUNCTIONS)
    assert settings["CMQ_ENDPOINT"].paths == ("queue",) and settings["PUSH_TOKEN"].paths == ("http",)
    assert settings["BATCH_TOPIC_NAMES"].paths == (ref.ALL,)
    assert settings["RETRY_RULES"].functions == ("retry_interrupted",)
    # secrets as the functions' logger has them; webhook URLs are secrets
    assert settings["SLACK_WEBHOOK_URL"].secret and settings["PUSH_TOKEN"].secret
    assert not settings["ALERT_MAX_ITEMS"].secret


# --- the scan and the check, on a small tree of their own -------------------------------------------------


def _tree(tmp_path: Path, files: dict[str, str]) -> Path:
    (tmp_path / "shared").mkdir()
    shutil.copy(ROOT / "shared" / "settings.py", tmp_path / "shared" / "settings.py")
    for spec in FUNCTIONS:
        (tmp_path / "functions" / spec.name).mkdir(parents=True)
    for name, text in files.items():
        path = tmp_path / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(textwrap.dedent(text), encoding="utf-8")
    return tmp_path


def test_scan_reads_names_readers_defaults_bounds_and_paths(tmp_path):
    root = _tree(
        tmp_path,
        {
            "shared/poller.py": """
                from .settings import env_int
                def f(env):
                    return env_int("POLL_X", 3, env, minimum=1, maximum=9), env.get("POLL_KEY", "")
            """,
            "functions/alert_failures/alerting/config.py": """
                from shared.settings import env_choice, env_str
                DEFAULT = "blue"
                def load(env):
                    colour = env_str("ALERT_COLOUR", DEFAULT, env)
                    return colour, env_choice("ALERT_MODE", ("a", "b"), "a", env)
            """,
        },
    )
    reads, problems = ref.scan(root)
    assert problems == []
    found, conflicts = ref.code_settings(reads)
    assert conflicts == []
    assert found["POLL_X"].read_by == {f.name: ("queue",) for f in FUNCTIONS}
    assert (found["POLL_X"].default, found["POLL_X"].minimum, found["POLL_X"].maximum) == (3, 1, 9)
    assert found["POLL_KEY"].reader == ref.RAW_GET and found["POLL_KEY"].paths == ("queue",)
    assert found["ALERT_COLOUR"].default == "blue" and found["ALERT_COLOUR"].functions == ("alert_failures",)
    assert found["ALERT_MODE"].choices == ("a", "b")


def test_scan_refuses_a_name_that_is_not_a_literal_and_reads_that_disagree(tmp_path):
    root = _tree(
        tmp_path,
        {
            "functions/alert_failures/a.py": """
                from shared.settings import env_int, env_str
                NAME = compute()
                def load(env, which):
                    return env_str(which, "", env), env_int("ALERT_N", 1, env), env_str(NAME, "", env)
            """,
            "functions/retry_interrupted/b.py": """
                from shared.settings import env_int
                def load(env):
                    return env_int("ALERT_N", 2, env)
            """,
        },
    )
    reads, problems = ref.scan(root)
    assert len(problems) == 2 and all("reads a setting whose name is not a literal" in p for p in problems)
    _, conflicts = ref.code_settings(reads)
    assert conflicts == [
        "ALERT_N has the defaults 1 and 2 "
        "(functions/alert_failures/a.py:5, functions/retry_interrupted/b.py:4)"
    ]


def _found(tmp_path: Path) -> dict[str, ref.Setting]:
    root = _tree(
        tmp_path,
        {
            "functions/alert_failures/a.py": """
                from shared.settings import env_int, env_str
                def load(env):
                    return env_int("ALERT_N", 1, env), env_str("ALERT_URL", "", env)
            """
        },
    )
    reads, _ = ref.scan(root)
    return ref.code_settings(reads)[0]


def test_check_wants_a_description_for_every_read_name_and_a_read_for_every_description(tmp_path):
    found = _found(tmp_path)
    ok = {"ALERT_N": ref.Doc("n"), "ALERT_URL": ref.Doc("u", "(off)")}
    assert ref.check(found, ok) == []
    assert ref.check(found, {"ALERT_N": ref.Doc("n")}) == [
        "ALERT_URL is read by the code (functions/alert_failures/a.py:4) but has no description: add one to "
        "DESCRIPTIONS in tools/settings_reference.py"
    ]
    [stale] = ref.check(found, {**ok, "ALERT_GONE": ref.Doc("g")})
    assert stale.startswith("ALERT_GONE is described in tools/settings_reference.py but no code reads it")


def test_pending_tolerates_a_described_name_no_code_reads_yet_and_must_be_emptied_when_it_lands(tmp_path):
    found = _found(tmp_path)
    docs = {"ALERT_N": ref.Doc("n"), "ALERT_URL": ref.Doc("u", "(off)"), "ALERT_SOON": ref.Doc("s")}
    assert ref.check(found, docs, pending={"ALERT_SOON"}) == []
    assert ref.check(found, docs, pending={"ALERT_SOON", "ALERT_N"}) == [
        "ALERT_N is read by the code now: remove it from PENDING in tools/settings_reference.py"
    ]
    assert ref.check(found, {k: v for k, v in docs.items() if k != "ALERT_SOON"}, pending={"ALERT_SOON"}) == [
        "ALERT_SOON is in PENDING but has no description"
    ]


def test_unset_text_only_where_the_code_has_no_literal_default(tmp_path):
    found = _found(tmp_path)
    problems = ref.check(found, {"ALERT_N": ref.Doc("n", "(five)"), "ALERT_URL": ref.Doc("u")})
    assert problems == [
        "ALERT_N: the code's default is `1`: drop the hand-written unset text '(five)'",
        "ALERT_URL: the code's default is empty or not a literal: say in DESCRIPTIONS what an unset value "
        "means (Doc(..., unset=...))",
    ]


def test_check_mode_fails_with_a_diff_when_the_page_differs(tmp_path, capsys, monkeypatch):
    root = _tree(
        tmp_path,
        {
            "functions/alert_failures/a.py": """
                from shared.settings import env_int
                def load(env):
                    return env_int("ALERT_MAX_ITEMS", 5, env, minimum=1, maximum=50)
            """
        },
    )
    monkeypatch.setattr(ref, "DESCRIPTIONS", {"ALERT_MAX_ITEMS": ref.DESCRIPTIONS["ALERT_MAX_ITEMS"]})
    (root / "docs").mkdir()
    assert ref.main(["--root", str(root), "--write"]) == 0
    assert ref.main(["--root", str(root), "--check"]) == 0
    page = root / ref.DOC
    page.write_text(page.read_text().replace("1-50", "1-60"), encoding="utf-8")
    capsys.readouterr()
    assert ref.main(["--root", str(root), "--check"]) == 1
    err = capsys.readouterr().err
    assert "-| `ALERT_MAX_ITEMS` | `alert_failures` | all | whole number, 1-60" in err
    assert "docs/settings.md is out of date" in err


@pytest.mark.parametrize("cell", ["a | b", "a\nb"])
def test_a_description_cannot_break_the_table(cell, tmp_path):
    found = _found(tmp_path)
    settings = [ref._with_doc(found["ALERT_N"], ref.Doc(cell))]
    row = ref.render(settings).split("|---|---|---|---|---|---|---|\n", 1)[1].splitlines()[0]
    assert row.count(" | ") == 6 and row.endswith(" |")
