"""Which face draws which text, and what each embedded subset must hold."""

from __future__ import annotations

from pathlib import Path

import pytest
from twinning.cli import _warn_of_missing_fonts
from twinning.publicity.fonts import (
    ALWAYS_REGULAR,
    characters_by_face,
    face_for,
    font_sources,
)


@pytest.mark.parametrize(
    ("tag", "face"),
    [
        ("zh-TW", "tc"),
        ("zh-Hant", "tc"),
        ("zh-HK", "hk"),
        ("zh-CN", "sc"),
        ("zh-Hans", "sc"),
        ("ja", "jp"),
        ("ja-JP", "jp"),
        ("ko", "kr"),
        ("en", None),
        ("es", None),
        ("und", None),
        ("not a tag", None),
    ],
)
def test_text_gets_the_face_of_its_language(tag: str, face: str | None) -> None:
    assert face_for(tag) == face


def test_the_subsets_hold_the_characters_each_face_and_weight_shows() -> None:
    html = (
        '<html lang="zh-TW" class="f-tc"><head><style>h1::before { content: "→" }</style>'
        "<title>城</title></head><body><h1>城市</h1>"
        '<p>交流 <bdi lang="ko" class="f-kr">부산</bdi> <strong><bdi lang="ja" class="f-jp">札幌</bdi></strong>'
        '<br><bdi lang="en">Busan</bdi></p></body></html>'
    )
    found = characters_by_face(html, "zh-TW")
    assert set(found) == {("tc", 400), ("tc", 700), ("kr", 400), ("jp", 700)}
    assert set("交流Busan城") <= found["tc", 400]
    assert found["tc", 400] >= ALWAYS_REGULAR
    assert found["tc", 700] == frozenset("城市")
    assert found["kr", 400] == frozenset("부산")
    assert found["jp", 700] == frozenset("札幌")
    assert not any("→" in chars for chars in found.values())  # the stylesheet is not text


def test_up_says_at_start_which_fonts_are_missing_and_how_to_install_them(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    monkeypatch.setenv("TWINNING_FONT_DIRS", str(tmp_path))
    font_sources.cache_clear()
    try:
        _warn_of_missing_fonts()
    finally:
        monkeypatch.undo()
        font_sources.cache_clear()
    said = capsys.readouterr().err
    assert said.startswith(
        "warning: PDFs in zh-TW, ja, ko need Noto Sans CJK JP, Noto Sans CJK KR,"
    )
    assert "sudo apt-get install fonts-noto-cjk" in said and "answer 503" in said
    _warn_of_missing_fonts()  # with the fonts there, nothing to say
    assert capsys.readouterr().err == ""
