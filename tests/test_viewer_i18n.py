"""The viewer's label table and its bundled CJK font: no Qt needed."""

import string

import pytest
from fontTools.ttLib import TTFont

from jaxconv_viewer import i18n
from jaxconv_viewer.i18n import font_subset


def test_every_label_has_every_language_with_the_same_fields():
    for key, entry in i18n.TEXT.items():
        assert set(entry) == set(i18n.LANGUAGES), key
        fields = [sorted(f for _, f, _, _ in string.Formatter().parse(t) if f) for t in entry.values()]
        assert all(f == fields[0] for f in fields), key
        assert entry["zh_CN"] != entry["en"] or key in ("app_title",), key


def test_chinese_labels_are_chinese():
    cjk = [k for k, e in i18n.TEXT.items() if any("\u4e00" <= ch <= "\u9fff" for ch in e["zh_CN"])]
    assert len(cjk) > 0.8 * len(i18n.TEXT)


def test_bundled_font_holds_every_character_of_the_chinese_table_and_the_kind_records():
    from jaxconv import kinds

    cmap = TTFont(font_subset.FONT_PATH)["cmap"].getBestCmap()
    records = font_subset.kind_texts()  # labels, short labels, hints: what the columns draw
    assert len(records) == 3 * len(kinds.registered())
    assert all(table["zh_CN"] for table in records)  # every built-in kind speaks Chinese
    needed = {ch for entry in [*i18n.TEXT.values(), *records] for ch in entry["zh_CN"]}
    assert set("全连接局部卷积区域共享滤波器") <= needed  # the records' texts are counted
    missing = sorted(ch for ch in needed if ord(ch) not in cmap and not ch.isspace())
    assert not missing, f"re-run `python -m jaxconv_viewer.i18n.font_subset`; missing {''.join(missing)!r}"
    assert set(font_subset.characters()) >= needed  # a new subset keeps them
    assert (font_subset.FONT_PATH.parent / "OFL.txt").is_file()


def test_kind_labels_and_hints_come_from_the_records_in_the_current_language():
    from jaxconv import kinds

    try:
        for language in i18n.LANGUAGES:
            i18n.set_language(language)
            for kind in kinds.registered():
                assert i18n.kind_label(kind.name) == kind.labels[language]
                assert i18n.kind_label(kind.name, short=True) == kind.short_labels[language]
                assert i18n.kind_hint(kind.name) == kind.weights_hint[language]
        i18n.set_language("zh_CN")
        assert (i18n.kind_label("dense"), i18n.kind_label("conv", short=True)) == ("全连接", "卷积")
    finally:
        i18n.set_language("en")


def test_a_column_is_shown_as_a_registered_kind_only():
    with pytest.raises(ValueError, match=r"show_column_as: `kind` must be one of dense, local, "
                                         r"regional, conv, got kind='nope'"):
        i18n.show_column_as("local", "nope")
    i18n.show_column_as("local", "regional")
    try:
        assert i18n.kind_label("local", short=True) == "Regional"
        assert i18n.kind_label("conv", short=True) == "Conv"  # the others keep their names
    finally:
        i18n.show_column_as("local")
    assert i18n.kind_label("local", short=True) == "Local"


def test_set_language_switches_tr_and_rejects_unknown_codes():
    try:
        i18n.set_language("zh_CN")
        assert i18n.tr("running", step=3) == "训练中 — 第 3 步"
        i18n.set_language("en")
        assert i18n.tr("running", step=3) == "Training — step 3"
        with pytest.raises(ValueError, match="`language` must be one of en, zh_CN, got 'fr'"):
            i18n.set_language("fr")
    finally:
        i18n.set_language("en")

