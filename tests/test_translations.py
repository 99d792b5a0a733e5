"""The Simplified Chinese catalog is complete, correct and current; the English one is the source.

- every msgid of locale/zh_Hans is translated, none is fuzzy, and each translation keeps the
  msgid's placeholders and HTML tags;
- the committed catalog holds exactly the msgids that `makemessages` finds in the code and
  templates today (it runs on a temporary copy, so the working tree is never touched): a string
  added without a translation fails here;
- with zh-hans active, real strings of the portal come out in Chinese.

None of these tests touches the database. The catalog test needs GNU gettext (`make test`
installs it, see scripts/test_tools.sh).
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import polib
import pytest

ROOT = Path(__file__).resolve().parent.parent
ZH_PO = ROOT / "locale" / "zh_Hans" / "LC_MESSAGES" / "django.po"
EN_PO = ROOT / "locale" / "en" / "LC_MESSAGES" / "django.po"

# What makemessages reads: these, plus every other top-level app (a folder with an apps.py).
SOURCE_DIRS = ("agency", "engagements", "templates", "locale")
SOURCE_FILES = ("manage.py",)
GETTEXT_TOOLS = ("xgettext", "msguniq", "msgmerge", "msgattrib")

NAMED_PLACEHOLDER = re.compile(r"%\((\w+)\)[#0 +-]*\d*(?:\.\d+)?[diouxXeEfFgGcrsa]")
POSITIONAL_PLACEHOLDER = re.compile(r"%(?!\()[#0 +-]*\d*(?:\.\d+)?[diouxXeEfFgGcrsa]")
HTML_TAG = re.compile(r"</?[a-zA-Z][^<>]*>")
CJK = re.compile(r"[\u4e00-\u9fff]")


def _entries(catalog: polib.POFile) -> list[polib.POEntry]:
    return [entry for entry in catalog if not entry.obsolete]


def _key(entry: polib.POEntry) -> tuple[str, str, str]:
    return (entry.msgctxt or "", entry.msgid, entry.msgid_plural or "")


def _describe(key: tuple[str, str, str]) -> str:
    context, msgid, plural = key
    text = repr(msgid)
    if plural:
        text += f" / plural {plural!r}"
    if context:
        text += f" (context {context!r})"
    return text


def _translations(entry: polib.POEntry) -> list[str]:
    if entry.msgid_plural:
        return [entry.msgstr_plural[index] for index in sorted(entry.msgstr_plural)]
    return [entry.msgstr]


def _without_escaped_percent(text: str) -> str:
    return text.replace("%%", "")


def test_zh_hans_catalog_is_fully_translated_and_keeps_placeholders():
    catalog = polib.pofile(str(ZH_PO))
    entries = _entries(catalog)
    assert entries, f"{ZH_PO.relative_to(ROOT)} holds no messages."

    assert catalog.metadata.get("Language") == "zh_Hans"
    assert "charset=UTF-8" in catalog.metadata.get("Content-Type", "")
    assert catalog.metadata.get("Plural-Forms", "").replace(" ", "") == "nplurals=1;plural=0;"
    assert not catalog.metadata_is_fuzzy, "The catalog header is still marked fuzzy."

    fuzzy = [_describe(_key(entry)) for entry in entries if entry.fuzzy]
    untranslated = [
        _describe(_key(entry))
        for entry in entries
        if not entry.fuzzy and not all(text.strip() for text in _translations(entry))
    ]
    wrong_plural_count = [
        _describe(_key(entry))
        for entry in entries
        if entry.msgid_plural and len(entry.msgstr_plural) != 1
    ]
    assert not fuzzy, "Fuzzy entries in the zh_Hans catalog (check and unmark them):\n" + "\n".join(
        fuzzy
    )
    assert not untranslated, "Untranslated entries in the zh_Hans catalog:\n" + "\n".join(
        untranslated
    )
    assert not wrong_plural_count, (
        "Plural entries need exactly one msgstr[0] in Chinese (nplurals=1):\n"
        + "\n".join(wrong_plural_count)
    )

    broken = []
    for entry in entries:
        sources = [entry.msgid] + ([entry.msgid_plural] if entry.msgid_plural else [])
        source_text = _without_escaped_percent("".join(sources))
        named = set(NAMED_PLACEHOLDER.findall(source_text))
        positional = sorted(POSITIONAL_PLACEHOLDER.findall(_without_escaped_percent(entry.msgid)))
        tags = sorted(HTML_TAG.findall(entry.msgid))
        for translation in _translations(entry):
            text = _without_escaped_percent(translation)
            problems = []
            found = set(NAMED_PLACEHOLDER.findall(text))
            if found != named:
                problems.append(f"placeholders {sorted(found)} instead of {sorted(named)}")
            if "python-format" in entry.flags:
                found_positional = sorted(POSITIONAL_PLACEHOLDER.findall(text))
                if found_positional != positional:
                    problems.append(f"positional {found_positional} instead of {positional}")
            found_tags = sorted(HTML_TAG.findall(translation))
            if found_tags != tags:
                problems.append(f"HTML tags {found_tags} instead of {tags}")
            if problems:
                broken.append(f"{_describe(_key(entry))} -> {translation!r}: {'; '.join(problems)}")
    assert not broken, "Translations that do not match their msgid:\n" + "\n".join(broken)


def test_english_catalog_is_the_source_language():
    catalog = polib.pofile(str(EN_PO))
    assert catalog.metadata.get("Language") == "en"
    assert "charset=UTF-8" in catalog.metadata.get("Content-Type", "")
    assert catalog.metadata.get("Plural-Forms", "").replace(" ", "") == (
        "nplurals=2;plural=(n!=1);"
    )
    assert not catalog.metadata_is_fuzzy, "The catalog header is still marked fuzzy."
    zh_keys = {_key(entry) for entry in _entries(polib.pofile(str(ZH_PO)))}
    en_keys = {_key(entry) for entry in _entries(catalog)}
    assert en_keys == zh_keys, (
        "The en and zh_Hans catalogs hold different msgids; run makemessages for both:\n"
        + "\n".join(_describe(key) for key in sorted(en_keys ^ zh_keys))
    )


def _source_paths() -> list[Path]:
    apps = sorted(
        path
        for path in ROOT.iterdir()
        if path.is_dir() and not path.name.startswith(".") and (path / "apps.py").is_file()
    )
    wanted = [ROOT / name for name in (*SOURCE_DIRS, *SOURCE_FILES)]
    return wanted + [path for path in apps if path not in wanted]


def test_catalog_holds_exactly_the_strings_in_the_code(tmp_path):
    missing_tools = [tool for tool in GETTEXT_TOOLS if shutil.which(tool) is None]
    if missing_tools:
        pytest.fail(
            f"GNU gettext is not installed ({', '.join(missing_tools)} not found), so this test "
            "cannot run makemessages. `make test` installs gettext (scripts/test_tools.sh); "
            "elsewhere run `apt-get install gettext`."
        )

    ignore = shutil.ignore_patterns("__pycache__", "*.pyc", "*.mo", ".*")
    for source in _source_paths():
        assert source.exists(), f"{source.relative_to(ROOT)} is missing from the project."
        target = tmp_path / source.name
        if source.is_dir():
            shutil.copytree(source, target, ignore=ignore)
        else:
            shutil.copy2(source, target)

    env = {**os.environ, "DJANGO_SETTINGS_MODULE": "agency.settings.dev"}
    command = [
        sys.executable, "manage.py", "makemessages",
        "-l", "zh_Hans", "--no-obsolete", "--no-location",
    ]  # fmt: skip
    try:
        subprocess.run(
            command, cwd=tmp_path, env=env, check=True, capture_output=True, text=True, timeout=300
        )
    except subprocess.CalledProcessError as error:
        pytest.fail(
            f"makemessages failed (exit {error.returncode}):\n{error.stdout}\n{error.stderr}"
        )

    committed = {_key(entry) for entry in _entries(polib.pofile(str(ZH_PO)))}
    regenerated_po = tmp_path / ZH_PO.relative_to(ROOT)
    regenerated = {_key(entry) for entry in _entries(polib.pofile(str(regenerated_po)))}

    missing = sorted(regenerated - committed)
    stale = sorted(committed - regenerated)
    problems = []
    if missing:
        problems.append(
            "Strings in the code or templates that locale/zh_Hans/LC_MESSAGES/django.po does "
            "not hold — run makemessages and translate them:\n"
            + "\n".join(f"  {_describe(key)}" for key in missing)
        )
    if stale:
        problems.append(
            "Strings in the catalog that the code no longer uses — run makemessages "
            "(with --no-obsolete) to drop them:\n"
            + "\n".join(f"  {_describe(key)}" for key in stale)
        )
    assert not problems, (
        "\n\n".join(problems)
        + "\n\nCommand: DJANGO_SETTINGS_MODULE=agency.settings.dev python manage.py makemessages "
        "-l zh_Hans -l en --no-obsolete --no-location --ignore=.venv --ignore=node_modules "
        "--ignore=staticfiles"
    )


def _assert_compiled_catalog_is_current() -> None:
    mo_path = ZH_PO.with_suffix(".mo")
    hint = "run `make messages` (scripts/compile_messages.py) to compile the catalogs."
    assert mo_path.is_file(), f"{mo_path.relative_to(ROOT)} does not exist: {hint}"
    compiled = {
        _key(entry): _translations(entry) for entry in polib.mofile(str(mo_path)) if entry.msgid
    }
    source = {
        _key(entry): _translations(entry)
        for entry in _entries(polib.pofile(str(ZH_PO)))
        if entry.translated()
    }
    assert compiled == source, f"{mo_path.relative_to(ROOT)} is older than its .po: {hint}"


def test_portal_speaks_chinese_when_zh_hans_is_active():
    from django.utils import translation

    from agency.models import Role, Store
    from engagements.lifecycle import Phase, Stage

    _assert_compiled_catalog_is_current()

    with translation.override("zh-hans"):
        engagements = translation.gettext("Engagements")
        setup = str(Stage.SETUP.label)
        phase = str(Phase.BEFORE.label)
        manager = str(Role.ACCOUNT_MANAGER.label)
        store = str(Store._meta.verbose_name)
        count = translation.ngettext("%(counter)s engagement", "%(counter)s engagements", 3)
        count %= {"counter": 3}

    assert engagements != "Engagements" and CJK.search(engagements), engagements
    assert setup == "店铺基础搭建与优化", setup
    assert phase.startswith("前期"), phase
    assert manager == "客户经理", manager
    assert store == "店铺", store
    assert "3" in count and CJK.search(count), count

    with translation.override("en"):
        assert translation.gettext("Engagements") == "Engagements"
        assert str(Stage.SETUP.label) == "Store setup"
