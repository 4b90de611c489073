"""Makes ``viewer/i18n/fonts/NotoSansSC-viewer.otf``: Noto Sans CJK SC cut to the viewer's characters.

Run it after changing the ``zh_CN`` labels in `jaxconv_viewer.i18n`::

    python -m jaxconv_viewer.i18n.font_subset /usr/share/fonts/opentype/noto/NotoSansCJK-Regular.ttc

(Debian/Ubuntu: ``apt-get install fonts-noto-cjk``.) The subset keeps printable ASCII, a few
symbols the viewer draws, and every character of every ``zh_CN`` label, the kind records' labels,
short labels and weight hints (`jaxconv.kinds`) included, so the viewer shows Chinese on machines
with no CJK font. The font is under the SIL Open Font License
(``fonts/OFL.txt``).
"""

from __future__ import annotations

import argparse
import pathlib
import string
from collections.abc import Mapping

from jaxconv import kinds
from jaxconv_viewer.i18n import TEXT

FONT_PATH = pathlib.Path(__file__).parent / "fonts" / "NotoSansSC-viewer.otf"
FAMILY = "Noto Sans CJK SC"
EXTRA = "×·—…–−“”‘’↑↓←→◀▶━≥≤%°±÷√∞·、，。：；！？（）《》「」"


def kind_texts() -> list[Mapping[str, str]]:
    """Every registered kind's texts the viewer draws: ``{language: text}`` each."""
    return [table for kind in kinds.registered()
            for table in (kind.labels, kind.short_labels, kind.weights_hint)]


def characters() -> str:
    """Every character the subset must hold, sorted."""
    chars = set(string.printable.strip()) | {" "} | set(EXTRA)
    for entry in [*TEXT.values(), *kind_texts()]:
        chars |= set(entry.get("zh_CN", "")) | set(entry.get("en", ""))
    return "".join(sorted(chars))


def _sc_index(collection: str) -> int:
    from fontTools.ttLib import TTCollection

    for index, font in enumerate(TTCollection(collection).fonts):
        if font["name"].getDebugName(1) == FAMILY:
            return index
    raise ValueError(f"font_subset: {collection!r} holds no font named {FAMILY!r}.")


def main(argv=None) -> int:
    """Writes the subset from a Noto Sans CJK collection (.ttc) or a single SC font (.otf)."""
    from fontTools import subset

    parser = argparse.ArgumentParser(description=(__doc__ or "").partition("\n")[0])
    parser.add_argument("source", help="NotoSansCJK-Regular.ttc or NotoSansCJKsc-Regular.otf")
    parser.add_argument("--output", default=str(FONT_PATH))
    args = parser.parse_args(argv)
    options = [f"--text={characters()}", f"--output-file={args.output}", "--layout-features=*",
               "--name-IDs=*", "--name-languages=*"]
    if args.source.lower().endswith(".ttc"):
        options.append(f"--font-number={_sc_index(args.source)}")
    subset.main([args.source, *options])
    print(f"wrote {args.output} ({pathlib.Path(args.output).stat().st_size} bytes)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
