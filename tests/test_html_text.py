"""Text pasted from a web page, a CMS, an email or Word becomes plain text; text that only looks
a bit like HTML is kept as it was typed, and nothing makes the converter fail.
"""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from assetmap.record.html_text import html_to_text


def test_a_description_pasted_from_a_web_page_loses_its_tags_and_entities():
    pasted = '<p class="intro">Tea &amp; cake after the <b>walk</b>&nbsp;&ndash; all welcome</p>'
    assert html_to_text(pasted) == "Tea & cake after the walk – all welcome"


def test_script_and_style_in_pasted_html_are_dropped_not_shown():
    pasted = "<style>p { color: red }</style><p>Walk<script>alert('x')</script> on Tuesdays</p>"
    assert html_to_text(pasted) == "Walk on Tuesdays"


@pytest.mark.parametrize(
    "text",
    [
        "age < 5 and > 2",
        "ages 5<10",
        "${alert(2)}",
        "Back`tick` and ${alert(3)}",
        "Jo Bloggs <jo@example.org>",
        "See <https://example.org>",
        "x <",
        "<3 from everyone at the club",
        "Fish &chips",
        "Tom & Jerry's",
        "Hall &parking",  # not the legacy entity &para
        "Bread&notes",  # not the legacy entity &not
        "Which day? <? ask Sam ?>",
    ],
)
def test_text_that_only_looks_a_bit_like_html_is_kept_as_it_is(text):
    assert html_to_text(text) == text


def test_paragraphs_and_line_breaks_become_new_lines_when_multiline():
    pasted = (
        "<h2>When</h2><p>Tuesdays<br>10am to 12</p><ul><li>Bring water</li><li>Wear boots</li></ul>"
    )
    assert html_to_text(pasted, multiline=True) == (
        "When\n\nTuesdays\n10am to 12\n\nBring water\nWear boots"
    )


def test_one_line_text_has_its_line_breaks_turned_into_spaces():
    assert html_to_text("<p>Sale</p><p>Walking\nGroup</p>") == "Sale Walking Group"


def test_plain_text_keeps_its_paragraphs_but_loses_extra_blank_lines_and_spaces():
    typed = "  First line   \r\n\r\n\r\n\r\nSecond\tline  "
    assert html_to_text(typed, multiline=True) == "First line\n\nSecond line"


def test_nul_and_control_characters_are_removed():
    assert html_to_text("Sale\x00 Walking\x07 Group\x1b") == "Sale Walking Group"
    assert html_to_text("one\x00\ntwo", multiline=True) == "one\ntwo"


def test_word_paste_markup_is_removed():
    pasted = (
        '<?xml:namespace prefix = o ns = "urn:schemas-microsoft-com:office:office" />'
        "<p class=MsoNormal>Knit and natter<o:p></o:p></p><!-- comment -->"
        "<![if !supportLists]>-<![endif]>Wool provided"
    )
    assert html_to_text(pasted) == "Knit and natter -Wool provided"


def test_long_runs_of_broken_markup_are_read_without_error():
    for nasty in ("<a" * 50_000, "<!--" * 25_000, "</a" * 30_000, "<![CDATA[" * 10_000):
        html_to_text("<p>" + nasty, multiline=True)


@given(st.text(), st.booleans())
def test_html_to_text_never_raises_and_leaves_no_control_characters(text, multiline):
    result = html_to_text(text, multiline=multiline)
    allowed = {"\n"} if multiline else set()
    assert not any(ord(c) < 32 and c not in allowed for c in result)
    assert result == result.strip()
    if not multiline:
        assert "  " not in result


_PLAIN_CHARACTERS = st.characters(categories=("L", "N", "P", "S", "Zs"), exclude_characters="<&")


@given(st.text(alphabet=_PLAIN_CHARACTERS, max_size=200))
def test_text_without_markup_only_has_its_spacing_tidied(text):
    assert html_to_text(text) == " ".join(text.split())


@given(
    st.lists(
        st.sampled_from(
            [
                "<",
                ">",
                "<!--",
                "-->",
                "<![",
                "]]>",
                "<a href='",
                "</p>",
                "<br/>",
                "&",
                "&amp;",
                "&#",
                ";",
                "x",
                " ",
                "\n",
                "<script>",
                "</script>",
                "<!doctype",
                "<?",
                "?>",
            ]
        ),
        max_size=60,
    ).map("".join)
)
@settings(max_examples=300)
def test_html_to_text_never_raises_on_broken_markup(text):
    html_to_text(text)
    html_to_text(text, multiline=True)
