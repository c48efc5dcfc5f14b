"""The text family's escaper: every string visible and inert; bulk code tables left out."""

from __future__ import annotations

from permaudit.formatters.escape import markdown, sanitized, terminal
from permaudit.model.code import CodeScan, DexSummary, MethodRef


def test_terminal_shows_control_format_and_separator_characters() -> None:
    assert terminal("ok name") == "ok name"
    assert terminal("a\nb\tc\x1b[31m") == "a\\x0ab\\x09c\\x1b[31m"
    assert terminal("evil\u202eppa.exe\u200b") == "evil\\u202eppa.exe\\u200b"
    assert terminal("line\u2028para\u2029") == "line\\u2028para\\u2029"
    assert terminal("Привет, 世界") == "Привет, 世界"


def test_markdown_leaves_no_html_link_or_cell_break() -> None:
    assert markdown("<img src=x>|[a](b)") == "\\<img src=x\\>\\|\\[a\\](b)"


def test_sanitized_escapes_what_reports_print_and_empties_the_bulk_tables() -> None:
    scan = CodeScan(
        dex=(DexSummary(path="classes\x1b.dex", version="035", size=1, strings=1, types=1,
                        methods=1, class_defs=1),),
        defined_classes=("a.B",),
        referenced_classes=("android.media.AudioRecord",),
        external_methods=(MethodRef(class_descriptor="Landroid/media/AudioRecord;",
                                    name="startRecording"),),
        strings=("https://tracker.example\x1b[2J",),
        notes=("note\n",),
    )
    clean = sanitized(scan)
    assert clean.dex[0].path == "classes\\x1b.dex"
    assert clean.notes == ("note\\x0a",)
    for name in CodeScan.UNRENDERED:
        assert getattr(clean, name) == (), name
    assert scan.strings == ("https://tracker.example\x1b[2J",)  # the original is untouched
