"""Plain text from HTML pasted out of a web page, a CMS or an email: `html_to_text`.

Descriptions, notes and names arrive with markup when they are copied from a web page or a
Word document ("<p>Fun &amp; games</p>"). Validation turns them into the plain text every page,
plan and CSV export shows, keeping paragraphs where the field has them. This is not a sanitiser:
every page escapes what it shows. Text that is not markup ("ages < 5", "Jo <jo@example.org>",
even "<img src=x onerror=...>") is kept as typed. Control characters, stray surrogates and
invisible joiners go whatever the text.
"""

from __future__ import annotations

import html
import re
from html.parser import HTMLParser

# Only these names count as tags. Anything else in angle brackets is somebody's text, most often
# an address such as "Jo Bloggs <jo@example.org>", and is kept.
_HTML_ELEMENTS = frozenset(
    {
        "a",
        "abbr",
        "acronym",
        "address",
        "animate",
        "applet",
        "area",
        "article",
        "aside",
        "audio",
        "b",
        "base",
        "basefont",
        "bdi",
        "bdo",
        "big",
        "blink",
        "blockquote",
        "body",
        "br",
        "button",
        "canvas",
        "caption",
        "center",
        "circle",
        "cite",
        "clippath",
        "code",
        "col",
        "colgroup",
        "data",
        "datalist",
        "dd",
        "defs",
        "del",
        "details",
        "dfn",
        "dialog",
        "dir",
        "div",
        "dl",
        "dt",
        "ellipse",
        "em",
        "embed",
        "fieldset",
        "figcaption",
        "figure",
        "font",
        "footer",
        "foreignobject",
        "form",
        "frame",
        "frameset",
        "g",
        "h1",
        "h2",
        "h3",
        "h4",
        "h5",
        "h6",
        "head",
        "header",
        "hgroup",
        "hr",
        "html",
        "i",
        "iframe",
        "image",
        "img",
        "input",
        "ins",
        "isindex",
        "kbd",
        "keygen",
        "label",
        "legend",
        "li",
        "line",
        "lineargradient",
        "link",
        "listing",
        "main",
        "map",
        "mark",
        "marquee",
        "mask",
        "math",
        "menu",
        "menuitem",
        "meta",
        "meter",
        "nav",
        "nobr",
        "noembed",
        "noframes",
        "noscript",
        "object",
        "ol",
        "optgroup",
        "option",
        "output",
        "p",
        "param",
        "path",
        "pattern",
        "picture",
        "plaintext",
        "polygon",
        "polyline",
        "pre",
        "progress",
        "q",
        "radialgradient",
        "rb",
        "rect",
        "rp",
        "rt",
        "rtc",
        "ruby",
        "s",
        "samp",
        "script",
        "search",
        "section",
        "select",
        "slot",
        "small",
        "source",
        "spacer",
        "span",
        "stop",
        "strike",
        "strong",
        "style",
        "sub",
        "summary",
        "sup",
        "svg",
        "symbol",
        "table",
        "tbody",
        "td",
        "template",
        "textarea",
        "tfoot",
        "th",
        "thead",
        "time",
        "title",
        "tr",
        "track",
        "tspan",
        "tt",
        "u",
        "ul",
        "use",
        "var",
        "video",
        "wbr",
        "xmp",
    }
)
# Word and Outlook paste tags such as <o:p> and <v:shape>; custom elements contain a hyphen.
_NAMESPACED_OR_CUSTOM_TAG = re.compile(
    r"[a-z][a-z0-9]*:[a-z][a-z0-9._-]*"  # o:p, v:shape
    r"|[a-z][a-z0-9]*-[a-z0-9._-]*"  # my-widget
)
_SKIP_CONTENT = frozenset({"script", "style"})
_PARAGRAPH_BLOCKS = frozenset(
    {
        "address",
        "article",
        "aside",
        "blockquote",
        "details",
        "dl",
        "figure",
        "footer",
        "h1",
        "h2",
        "h3",
        "h4",
        "h5",
        "h6",
        "header",
        "hr",
        "main",
        "nav",
        "ol",
        "p",
        "pre",
        "section",
        "table",
        "ul",
    }
)
_LINE_BLOCKS = frozenset(
    {
        "caption",
        "dd",
        "div",
        "dt",
        "fieldset",
        "figcaption",
        "form",
        "legend",
        "li",
        "option",
        "summary",
        "tr",
    }
)
_LINE_BREAK = "\x01"  # a soft break from block markup; several in a row make one
_PARAGRAPH_BREAK = "\x02"

_AMPERSAND_NOT_A_REFERENCE = re.compile(r"&(?!#[0-9]+;|#[xX][0-9a-fA-F]+;|[A-Za-z][A-Za-z0-9]*;)")
_MARKED_SECTION = re.compile(r"<!\[([a-zA-Z][-_.a-zA-Z0-9]*)?")
# The only names the standard library's parser accepts after "<![" (it asserts on any other).
_MARKED_SECTION_NAMES = frozenset(
    {"temp", "cdata", "ignore", "include", "rcdata", "if", "else", "endif"}
)
_INVISIBLE = dict.fromkeys(map(ord, "\u200b\u2060\ufeff\u00ad"))
_NEWLINES = re.compile(r"\r\n|[\r\x0b\x0c\x85\u2028\u2029]")
_SPACE_RUN = re.compile(r"[\s\x01\x02]+")


def _plain_chars(text: str) -> str:
    """Text without control characters, stray surrogates or invisible joiners.

    NUL truncates text in some tools and surrogates cannot be written to SQLite, and none of
    them means anything to a reader. Line breaks survive as "\\n" and tabs become spaces.
    Most text has none of these, and str.isprintable() says so at C speed: it is False for
    every line break, tab, control, surrogate and format character.
    """
    if text.isprintable():
        return text
    text = _NEWLINES.sub("\n", text).replace("\t", " ").translate(_INVISIBLE)
    return _UNWANTED.sub("", text)


# Unicode's control (Cc) and surrogate (Cs) characters, but for the line break.
_UNWANTED = re.compile("[\x00-\x09\x0b-\x1f\x7f-\x9f\ud800-\udfff]")


class _TextExtractor(HTMLParser):
    """Collects the text of an HTML fragment, marking where blocks begin and end."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.parts: list[str] = []
        self.skipping: str | None = None

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if not _is_tag_name(tag):
            self.parts.append(_plain_chars(html.unescape(self.get_starttag_text() or "")))
        elif tag in _SKIP_CONTENT:
            self.skipping = tag
        else:
            self._break(tag)

    def handle_startendtag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        # <br/> is one break, not a start and an end.
        self.handle_starttag(tag, attrs)

    def handle_endtag(self, tag: str) -> None:
        if not _is_tag_name(tag):
            self.parts.append(f"</{tag}>")
        elif tag == self.skipping:
            self.skipping = None
        elif tag != "br":
            self._break(tag)

    def handle_data(self, data: str) -> None:
        if self.skipping is None:
            self.parts.append(_plain_chars(data))

    def handle_pi(self, data: str) -> None:
        # Word's <?xml:namespace ...> is markup; any other "<?" is someone's question mark.
        if not data.lower().startswith("xml"):
            self.parts.append(_plain_chars(html.unescape(f"<?{data}>")))

    def _break(self, tag: str) -> None:
        if tag == "br":
            self.parts.append("\n")
        elif tag in _PARAGRAPH_BLOCKS:
            self.parts.append(_PARAGRAPH_BREAK)
        elif tag in _LINE_BLOCKS:
            self.parts.append(_LINE_BREAK)


def _is_tag_name(tag: str) -> bool:
    return tag in _HTML_ELEMENTS or _NAMESPACED_OR_CUSTOM_TAG.fullmatch(tag) is not None


def _prepare_markup(text: str) -> str:
    """Escape what cannot be markup, so the parser neither guesses nor backtracks.

    A bare "&" is kept literally ("Fish &chips" must not become "Fish ¢hips", which is what
    HTML's legacy entities without semicolons would do). Openers with no closer anywhere after
    them cannot start markup, and leaving them in makes the parser rescan to the end of the text
    once for each of them.
    """
    text = _AMPERSAND_NOT_A_REFERENCE.sub("&amp;", text)
    text = _MARKED_SECTION.sub(
        lambda m: (
            m.group(0)
            if (m.group(1) or "").lower() in _MARKED_SECTION_NAMES
            else "&lt;" + m.group(0)[1:]
        ),
        text,
    )
    for opener, closer in (("<!--", "-->"), ("<![", "]"), ("<", ">")):
        last_close = text.rfind(closer)
        head, tail = text[: last_close + 1], text[last_close + 1 :]
        text = head + tail.replace(opener, "&lt;" + opener[1:])
    return text


def _parse_html(text: str) -> str:
    parser = _TextExtractor()
    try:
        parser.feed(_prepare_markup(text))
        parser.close()
    except AssertionError:
        # The parser asserts on some malformed declarations; read the input as plain text.
        parser = _TextExtractor()
        parser.feed(_prepare_markup(text).replace("<", "&lt;"))
        parser.close()
    return "".join(parser.parts)


def _collapse_space(match: re.Match[str]) -> str:
    """One space, one line break or one blank line for a run of white space and block breaks."""
    run = match.group(0)
    from_markup = 2 if _PARAGRAPH_BREAK in run else 1 if _LINE_BREAK in run else 0
    newlines = max(from_markup, min(run.count("\n"), 2))
    return "\n" * newlines if newlines else " "


# Markup that text pasted from a web page, a CMS or an email carries: paragraphs, line breaks,
# emphasis, lists, links, tables and Word's <o:p>. Only text with one of these (or with a
# character reference such as &amp;) is read as HTML. Anything else in angle brackets, such as
# "<img src=x onerror=...>" or "<script>", is kept exactly as entered: it is somebody's text,
# every page shows it escaped, and a coordinator who typed it should read back what they typed.
_FORMATTING_TAG = re.compile(
    r"</?(?:p|br|div|span|b|strong|i|em|u|ul|ol|li|h[1-6]|a|font|small|sup|sub|table|thead|"
    r"tbody|tr|td|th|blockquote|hr|o:p)(?:\s[^<>]*)?/?>",
    re.IGNORECASE,
)
_CHARACTER_REFERENCE = re.compile(
    r"&(?:#[0-9]{1,7}|#[xX][0-9a-fA-F]{1,6}|[A-Za-z][A-Za-z0-9]{1,31});"
)


def looks_like_html(value: str) -> bool:
    """Whether text carries web-page formatting markup or character references."""
    return bool(_FORMATTING_TAG.search(value) or _CHARACTER_REFERENCE.search(value))


def html_to_text(value: str, *, multiline: bool = False) -> str:
    """Plain text from HTML pasted out of a web page, a CMS or an email.

    This is not a sanitiser: every page escapes what it shows. It exists so that descriptions
    read well on the map, in plans and in CSV exports, rather than as "<p>Fun &amp; games</p>".
    Angle brackets that are not HTML tags ("ages < 5", "<jo@example.org>") are kept, and text
    without formatting markup or character references is not read as HTML at all.
    """
    if ("<" in value or "&" in value) and looks_like_html(value):
        text = _parse_html(value)
    else:
        text = _plain_chars(value)
        if text.isprintable():  # one line, no markup: only runs of spaces to collapse
            return " ".join(text.split())
    if not multiline:
        return " ".join(text.replace(_LINE_BREAK, " ").replace(_PARAGRAPH_BREAK, " ").split())
    return _SPACE_RUN.sub(_collapse_space, text).strip()
