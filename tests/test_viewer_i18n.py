"""The viewer's label table and its bundled CJK font: no Qt needed."""

import string

import pytest
from fontTools.ttLib import TTFont

from viewer import i18n
from viewer.i18n import font_subset


def test_every_label_has_every_language_with_the_same_fields():
    for key, entry in i18n.TEXT.items():
        assert set(entry) == set(i18n.LANGUAGES), key
        fields = [sorted(f for _, f, _, _ in string.Formatter().parse(t) if f) for t in entry.values()]
        assert all(f == fields[0] for f in fields), key
        assert entry["zh_CN"] != entry["en"] or key in ("app_title",), key


def test_chinese_labels_are_chinese():
    cjk = [k for k, e in i18n.TEXT.items() if any("\u4e00" <= ch <= "\u9fff" for ch in e["zh_CN"])]
    assert len(cjk) > 0.8 * len(i18n.TEXT)


def test_bundled_font_holds_every_character_of_the_chinese_table():
    cmap = TTFont(font_subset.FONT_PATH)["cmap"].getBestCmap()
    needed = {ch for entry in i18n.TEXT.values() for ch in entry["zh_CN"]}
    missing = sorted(ch for ch in needed if ord(ch) not in cmap and not ch.isspace())
    assert not missing, f"re-run `python -m viewer.i18n.font_subset`; missing {''.join(missing)!r}"
    assert (font_subset.FONT_PATH.parent / "OFL.txt").is_file()


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

