"""Reading a text file whose encoding and delimiter nobody wrote down.

Spreadsheets saved as CSV come in whatever the saving program chose: UTF-8 (with or without a
byte-order mark), Windows-1252 from older Excel, Latin-1 from other tools, UTF-16 from Excel's
"Unicode text", and now and then a UTF-8 file that someone edited in a Windows-1252 editor.
Guessing wrong turns "Café" into "CafÃ©" or refuses the file, so the whole file is checked
(quickly, in binary chunks) before any row is read, and the choice is reported in words.
"""

from __future__ import annotations

import codecs
import csv
import io
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import IO

CHUNK_BYTES = 1 << 20
SAMPLE_CHARS = 64 * 1024
DELIMITERS = (",", ";", "\t", "|")
DELIMITER_WORDS = {",": "comma", ";": "semicolon", "\t": "tab", "|": "vertical bar"}

# Bytes that Windows-1252 leaves undefined: a file holding them is Latin-1 (ISO 8859-1).
_UNDEFINED_IN_WINDOWS_1252 = (b"\x81", b"\x8d", b"\x8f", b"\x90", b"\x9d")

FALLBACK_ERRORS = "assetmap-windows-1252-fallback"


def _windows_1252_fallback(error: UnicodeDecodeError) -> tuple[str, int]:
    """Decode the bytes UTF-8 rejects as Windows-1252 (Latin-1 where that has no character)."""
    bad = error.object[error.start : error.end]
    text = "".join(
        bytes([b]).decode("latin-1" if bytes([b]) in _UNDEFINED_IN_WINDOWS_1252 else "cp1252")
        for b in bad
    )
    return text, error.end


codecs.register_error(FALLBACK_ERRORS, _windows_1252_fallback)

# csv refuses cells over 128 KB by default, with a message that names no row; the import's
# own limits (assetmap.imports.limits, through RecordLines below) refuse a long cell or row
# first, with its row and the setting. csv's limit is per process, so it is only ever raised.
csv.field_size_limit(max(csv.field_size_limit(), 64 * 1024 * 1024))


@dataclass(frozen=True)
class Encoding:
    """How to decode a file: the codec, its error handler, and the words for the report."""

    codec: str
    errors: str
    label: str
    note: str = ""


def detect_encoding(path: Path) -> Encoding:
    """The encoding of a text file, from its byte-order mark or from a scan of every byte.

    A file that is valid UTF-8 is UTF-8. One with no valid multi-byte UTF-8 at all is
    Windows-1252 (or Latin-1 when it uses bytes Windows-1252 lacks). One with both is UTF-8
    edited elsewhere: it is read as UTF-8 with the odd bytes as Windows-1252, and the report
    says so.
    """
    with path.open("rb") as f:
        head = f.read(4)
        if head.startswith(codecs.BOM_UTF8):
            return Encoding("utf-8-sig", "strict", "UTF-8")
        if head.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
            return Encoding("utf-16", "strict", "UTF-16")
        f.seek(0)
        decoder = codecs.getincrementaldecoder("utf-8")(errors="replace")
        invalid = multibyte = 0
        latin_1_only = False
        while chunk := f.read(CHUNK_BYTES):
            text = decoder.decode(chunk)
            latin_1_only = latin_1_only or any(b in chunk for b in _UNDEFINED_IN_WINDOWS_1252)
            if not text.isascii():
                replaced = text.count("\ufffd")
                invalid += replaced
                multibyte += len(text) - len(text.encode("ascii", "ignore")) - replaced
        invalid += decoder.decode(b"", final=True).count("\ufffd")
    if not invalid:
        return Encoding("utf-8", "strict", "UTF-8")
    if multibyte:
        return Encoding(
            "utf-8",
            FALLBACK_ERRORS,
            "UTF-8",
            f"The file is UTF-8 except for {invalid:,} "
            f"{'character' if invalid == 1 else 'characters'} saved in another encoding, read as "
            "Windows-1252. Check accented letters and symbols such as £ in the imported text, "
            "and save the file as CSV UTF-8 next time.",
        )
    if latin_1_only:
        return Encoding("latin-1", "strict", "Latin-1 (ISO 8859-1)")
    return Encoding("cp1252", "strict", "Windows-1252")


def open_text(path: Path, encoding: Encoding) -> io.TextIOWrapper:
    """The file as text, newlines untranslated so that csv sees quoted line breaks whole."""
    return path.open(encoding=encoding.codec, errors=encoding.errors, newline="")


class RecordTooLong(Exception):
    """A record (one row of a CSV, over however many lines) is longer than its limit."""


class RecordLines(Iterator[str]):
    """The lines of a text stream for csv.reader, so that no row can take more than `limit`
    characters of memory however it is split into lines (a quote mark never closed makes the
    rest of a file one cell). The reader calls `next_record()` after each row it gets;
    RecordTooLong is raised through csv.reader when a row runs past the limit.
    """

    def __init__(self, stream: IO[str], limit: int):
        self.stream = stream
        self.limit = limit
        self.used = 0

    def next_record(self) -> None:
        self.used = 0

    def __next__(self) -> str:
        # At most one character past what is left, so that a line of a gigabyte is never read.
        line = self.stream.readline(self.limit - self.used + 1)
        if not line:
            raise StopIteration
        self.used += len(line)
        if self.used > self.limit:
            raise RecordTooLong
        return line


def sniff_delimiter(sample: str) -> str:
    """The delimiter that splits the first rows into the most consistent number of columns.

    csv.Sniffer guesses from character frequencies and is easily fooled by commas inside
    descriptions; counting whole rows parsed with each candidate is slower but reliable on the
    small sample read here. Ties go to the comma.
    """
    best, best_score = ",", (0, 0)
    for delimiter in DELIMITERS:
        rows = _sample_rows(sample, delimiter)
        counts = [len(row) for row in rows if any(cell.strip() for cell in row)]
        if not counts:
            continue
        modal = max(set(counts), key=lambda n: (counts.count(n), n))
        if modal < 2:
            continue
        score = (counts.count(modal), modal)
        if score > best_score:
            best, best_score = delimiter, score
    return best


def _sample_rows(sample: str, delimiter: str) -> list[list[str]]:
    rows = []
    reader = csv.reader(io.StringIO(sample, newline=""), delimiter=delimiter)
    try:
        for row in reader:
            rows.append(row)
            if len(rows) >= 50:
                break
    except csv.Error:
        pass
    if len(sample) >= SAMPLE_CHARS and len(rows) > 1:
        rows.pop()  # the sample may end part-way through a row
    return rows
