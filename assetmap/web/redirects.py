r"""Where a redirect built from what a person sent may go: a path on this site, read as a
browser reads it.

A browser does not go where the string says, but where its URL parser takes it: it drops
tabs and newlines from anywhere in a URL, trims control characters and spaces from its ends,
and reads a backslash as a slash, so `/<tab>/evil.example` and `/\evil.example` both arrive as
`//evil.example`, another site. So a target is refused when it holds any of those characters
at all, when it has a scheme or a host, or when it does not start with exactly one slash, and
the same is asked of its path with its %-escapes decoded, in case something between here and
the browser decodes them. Letters outside ASCII are %-encoded, so that no look-alike of a slash
reaches a parser that might fold it into one. Every redirect to a place named in a request
goes through `same_site_path`.
"""

from __future__ import annotations

from urllib.parse import quote, unquote, urlsplit

# ASCII control characters, the space, DEL and the backslash.
_REFUSED = frozenset(map(chr, range(0x21))) | {"\x7f", "\\"}
# The same but the space, for a path once its %-escapes are decoded ("/my%20page" is fine).
_REFUSED_DECODED = _REFUSED - {" "}
# Everything printable in ASCII stays as it is (existing %-escapes included).
_KEPT_AS_IS = "".join(map(chr, range(0x21, 0x7F)))


def _is_plain_path(url: str, refused: frozenset[str] = _REFUSED) -> bool:
    if any(c in refused for c in url):
        return False
    parts = urlsplit(url)
    if parts.scheme or parts.netloc:
        return False
    return url.startswith("/") and not url.startswith("//")


def _decoded(path: str):
    """`path` with its %-escapes decoded once, twice, ... until nothing changes."""
    for _ in range(5):
        once = unquote(path)
        if once == path:
            return
        path = once
        yield path


def same_site_path(target: str | None, default: str) -> str:
    """`target` when it is a path on this site as a browser would read it, else `default`.

    For example `/plans/3?x=1` is kept, and `//evil.example`, `/\\evil.example`,
    `https:evil.example` and `/%2F%2Fevil.example` give `default`.
    """
    if not isinstance(target, str) or not target:
        return default
    if any(c in _REFUSED for c in target):
        return default
    target = quote(target, safe=_KEPT_AS_IS)
    if not _is_plain_path(target):
        return default
    path = target.split("?", 1)[0].split("#", 1)[0]
    if not all(_is_plain_path(decoded, _REFUSED_DECODED) for decoded in _decoded(path)):
        return default
    return target
