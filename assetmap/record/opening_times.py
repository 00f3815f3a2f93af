"""Sessions read from opening times as people write them, or none at all.

Audits say when things happen in words: "Tues 11am - 2pm, Fri 11.30am - 1.30pm", "1st and 3rd
Saturday of the month 10-12", "Mon-Fri 09:30-14:00, closed bank holidays", and OpenStreetMap
exports say "Mo-Fr 09:00-17:00; Sa 10:00-12:00". Search sends people to a door at the times
these sessions give, so a wrong session is worse than none. The rules:

- Each day, list of days or range of days is paired with the times that FOLLOW it, up to the
  next day ("Tues 11am-2pm, Fri 11.30am-1.30pm" is two sessions, not four). A cell that is one
  list of times and then one list of days ("10-12 Mondays and Wednesdays") is read too.
- Times are 12-hour ("11.30am", "12noon", "midday") or 24-hour ("14:00", "9.30"). A bare hour
  takes its half of the day from the other end of its range ("9.30-5" ends at 17:00, "11-1pm"
  starts at 11:00); with neither end saying, 8 to 11 are the morning and 12 to 7 the afternoon
  or evening, as community sessions run ("10-3" is 10:00-15:00, "12-2" is 12:00-14:00, "7-9" is
  19:00-21:00). A leading zero ("07:00") is the 24-hour clock.
- "1st and 3rd Saturday of the month", "last Friday": monthly by ordinal. "Every other
  Tuesday", "alternate Tuesdays", "fortnightly": every other week. "Every second Tuesday" could
  be either, so it is not read.
- "Term time only" and "closed bank holidays" are notes, not sessions.
- Anything else (a word we do not know, a time with no day, "monthly" with no week, a time that
  ends before it starts) means the cell is not read at all: no session, and `unread` names the
  part, so that the import warns with it. The words are always kept as the schedule's notes.

OpenStreetMap `opening_hours` is read by the opening-hours-py library, which evaluates it but
does not expose its rules: the rules are recovered by evaluating a reference period and
checking that each opening repeats weekly, fortnightly or on the nth weekday of every month;
anything else (seasons, a single date, "24/7", past midnight) is not read.
"""

from __future__ import annotations

import contextlib
import re
from dataclasses import dataclass, field, replace
from datetime import date, datetime, timedelta
from functools import cache, lru_cache

from assetmap.record import taxonomy

WEEKDAYS: tuple[str, ...] = tuple(t.slug for t in taxonomy.DAYS)  # monday first
ORDINALS: tuple[str, ...] = ("first", "second", "third", "fourth")

# A cell of times is a line or two; a longer text is a description, which is not read here.
MAX_LENGTH = 1000

TERM_TIME = "Term time only"
BANK_HOLIDAYS = "Closed on bank holidays"


@dataclass(frozen=True)
class TimesRead:
    """What a cell of opening times gave: `sessions` as stored (day, frequency, start, end,
    times "HH:MM" or None), `notes` it recognised ("Term time only"), and `unread`, the part
    it could not read (then `sessions` is empty), or None when it read every word."""

    sessions: tuple[dict, ...] = ()
    notes: tuple[str, ...] = ()
    unread: str | None = None
    why: str = ""  # why `unread` could not be read, when there is more to say than that

    @property
    def complete(self) -> bool:
        return self.unread is None


# -- words ---------------------------------------------------------------------------------------

_DAY_WORDS: dict[str, str] = {}
for _slug, _forms in {
    "monday": ("monday", "mon", "mo"),
    "tuesday": ("tuesday", "tues", "tue", "tu"),
    "wednesday": ("wednesday", "weds", "wed"),  # not "we": "we meet at 10"
    "thursday": ("thursday", "thurs", "thur", "thu", "th"),
    "friday": ("friday", "fri", "fr"),
    "saturday": ("saturday", "sat", "sa"),
    "sunday": ("sunday", "sun", "su"),
}.items():
    for _form in _forms:
        _DAY_WORDS[_form] = _slug
# Short names are only days in a times column; in a description "sat down" and "we" are not.
_FULL_DAY_WORDS = {w for w, s in _DAY_WORDS.items() if w == s}
# Two-letter names (OpenStreetMap's) and "we", "th" are too short to take with a plural "s".
_PLURAL_DAY_WORDS = {w for w in _DAY_WORDS if len(w) > 2}

_DAY_SETS = {
    "weekdays": WEEKDAYS[:5],
    "weekday": WEEKDAYS[:5],
    "weekends": WEEKDAYS[5:],
    "weekend": WEEKDAYS[5:],
    "daily": WEEKDAYS,
    "every day": WEEKDAYS,
    "everyday": WEEKDAYS,
    "7 days a week": WEEKDAYS,
    "seven days a week": WEEKDAYS,
}
_ORDINAL_WORDS = {
    "1st": "first", "first": "first", "2nd": "second", "second": "second",
    "3rd": "third", "third": "third", "4th": "fourth", "fourth": "fourth",
    "last": "last", "final": "last",
}  # fmt: skip
_MONTHLY = (
    r"(?:of|in)\s+(?:the|each|every|a)\s+month|of\s+month|(?:each|every|a|per)\s+month"
    r"|monthly|in\s+the\s+month"
)
_FORTNIGHTLY = (
    r"every\s+other\s+week|every\s+other|alternate|alternating|fortnightly"
    r"|every\s+(?:two|2)\s+weeks|(?:every|each)\s+fortnight"
)
_WEEKLY = r"weekly|every\s+week|each\s+week"
# Words that add nothing to when: "Meets on Tuesdays", "Open from 10 until 12".
_FILLER = frozenset((
    "on", "every", "each", "the", "at", "from", "open", "opens", "opening", "hours", "times",
    "time", "only", "meets", "meet", "meeting", "sessions", "session", "runs", "run", "held",
    "is", "are", "it", "we", "usually", "service", "services",
))  # fmt: skip
_PARTS_OF_DAY = frozenset((
    "morning", "mornings", "afternoon", "afternoons", "evening", "evenings", "lunchtime",
    "lunchtimes", "night", "nights",
))  # fmt: skip
_NOTES = (
    (
        re.compile(
            r"\(?\b(?:(?:during|in)\s+)?(?:school\s+)?term[-\s]?times?(?:\s+only)?\b\)?"
            r"|\(?\b(?:closed|not|except|excluding|no\s+sessions?)\s+(?:during\s+|in\s+)?"
            r"(?:the\s+)?school\s+holidays\b\)?",
            re.I,
        ),
        TERM_TIME,
    ),
    (
        re.compile(
            r"\(?\b(?:closed|not(?:\s+open|\s+available)?|except|excluding|excl\.?"
            r"|no\s+sessions?)\s+"
            r"(?:on\s+)?(?:all\s+)?(?:bank|public)\s+holidays?\b\)?"
            r"|\(?\b(?:bank|public)\s+holidays?\s+(?:closed|excluded)\b\)?",
            re.I,
        ),
        BANK_HOLIDAYS,
    ),
)

_TIME = (
    r"(?:\d{1,2}(?:[.:]\d{2})?\s*(?:a\.?m\.?|p\.?m\.?)(?![a-z])"
    r"|\d{1,2}\s*(?:noon|midday)|noon|midday|midnight"
    r"|\d{1,2}[.:]\d{2}(?!\d|[.:]\d)|\d{1,2}(?!\d|[.:]\d|st|nd|rd|th|\s*(?:days?|weeks?)\b))"
)
_TOKEN = re.compile(
    r"(?P<always>\b24\s*/\s*7\b|\b24\s+hours\b)|"  # always open: not a session we keep
    rf"(?P<monthly>\b(?:{_MONTHLY})\b)"
    rf"|(?P<fortnightly>\b(?:{_FORTNIGHTLY})\b)"
    rf"|(?P<weekly>\b(?:{_WEEKLY})\b)"
    r"|(?P<dayset>\b(?:"
    + "|".join(sorted(map(re.escape, _DAY_SETS), key=len, reverse=True))
    + r")\b)"
    r"|(?P<ordinal>\b(?:1st|2nd|3rd|4th|first|second|third|fourth|last|final"
    r"|5th|fifth)\b)"
    r"|(?P<day>\b(?:" + "|".join(sorted(_DAY_WORDS, key=len, reverse=True)) + r")(?P<plural>s)?"
    r"\b\.?)"
    rf"|(?P<time>(?<![\w.:]){_TIME})"
    r"|(?P<to>\s(?:to|till|til|until|thru|through)\s|-|\u2010|\u2011|\u2012|\u2013|\u2014|\u2212)"
    r"|(?P<closed>\bclosed\b)"
    r"|(?P<between>\bbetween\b)"
    r"|(?P<sep>\band\b|\bplus\b|\balso\b|[,;:/|&+()\n]|\.(?!\d)|\s+\.)"
    r"|(?P<space>\s+)"
    r"|(?P<other>[^\s,;:/|&+()\-\u2013\u2014]+)",
    re.I,
)


_SAYS_WHEN = frozenset(
    {"day", "dayset", "time", "ordinal", "monthly", "fortnightly", "weekly", "closed", "between"}
    | {"always"}
)


_DAY_KINDS = ("day", "dayset", "ordinal")


@dataclass
class _Token:
    kind: str
    text: str
    start: int
    end: int
    value: object = None


@dataclass
class _Group:
    days: list[tuple[str, str | None]] = field(default_factory=list)  # (day, ordinal)
    times: list[tuple[str | None, str | None]] = field(default_factory=list)
    frequency: str | None = None  # "fortnightly", "weekly" or "monthly" when said
    times_first: bool = False
    last_kind: str = ""  # "days" or "times": what the group was given last
    first: int = 0
    last: int = 0


class _Unread(Exception):
    def __init__(self, start: int, end: int, why: str = ""):
        super().__init__(why)
        self.start, self.end, self.why = start, end, why


# -- reading --------------------------------------------------------------------------------------


def read_opening_times(text: str, *, times_column: bool = True) -> TimesRead:
    """The sessions in a cell of opening times, its notes, and what it could not read.

    `times_column` is for a cell of a "Days & Times" column, where short day names ("Tue"),
    bare hours ("10-12") and OpenStreetMap syntax are safe to read; in a description
    (`times_column=False`) only whole day names are days, and only the stretches of a sentence
    made of days and times are read ("Drop in on Fridays 10am-12pm for mothers").
    """
    read = _read(text or "", times_column)
    # The same cells recur down a column, so each is read once; each caller gets its own
    # sessions to change.
    return replace(read, sessions=tuple(dict(s) for s in read.sessions))


@lru_cache(maxsize=4096)
def _read(text: str, times_column: bool) -> TimesRead:
    if not text.strip():
        return TimesRead()
    if len(text) > MAX_LENGTH:
        return TimesRead(unread=text.strip(), why="too long to read as days and times")
    if times_column:
        osm = _read_osm(text)
        if osm is not None:
            return osm
    cleaned, notes = _take_notes(text)
    tokens = _tokens(cleaned, times_column)
    if not times_column:
        return _read_description(tokens, notes)
    if not any(t.kind in _SAYS_WHEN for t in tokens):
        # Words only ("By appointment", "Ring for times"): they say no day or time, so no
        # session is lost; the words are the notes.
        return TimesRead(notes=notes)
    try:
        found = _parse(tokens, len(cleaned))
    except _Unread as exc:
        return TimesRead(notes=notes, unread=_span(cleaned, exc.start, exc.end), why=exc.why)
    return TimesRead(sessions=found, notes=notes)


def _span(text: str, start: int, end: int) -> str:
    return " ".join(text[start:end].split()).strip(" ,;.-") or text.strip()


# "Closed Sundays and bank holidays": the bank holidays are a note, the Sundays are read.
_CLOSED_AND_HOLIDAYS = re.compile(
    r"\bclosed\b[^;.]*?(\s(?:and|&)\s+(?:on\s+)?(?:bank|public)\s+holidays?\b)", re.I
)


def _take_notes(text: str) -> tuple[str, tuple[str, ...]]:
    """The text with "term time only" and "closed bank holidays" blanked out, and those notes."""
    notes: list[str] = []
    for match in reversed(list(_CLOSED_AND_HOLIDAYS.finditer(text))):
        start, end = match.span(1)
        text = text[:start] + " " * (end - start) + text[end:]
        if BANK_HOLIDAYS not in notes:
            notes.append(BANK_HOLIDAYS)
    for pattern, note in _NOTES:
        if pattern.search(text):
            if note not in notes:
                notes.append(note)
            # Same length, so that the unread part is quoted as it was written.
            text = pattern.sub(lambda m: ";" + " " * (len(m.group()) - 1), text)
    return text, tuple(notes)


def _tokens(text: str, times_column: bool) -> list[_Token]:
    tokens: list[_Token] = []
    for match in _TOKEN.finditer(text):
        kind = match.lastgroup
        if kind == "plural":
            kind = "day"
        if kind == "other":
            kind = "word"
        word = match.group()
        if kind == "space":
            continue
        token = _Token(kind, word, match.start(), match.end())
        low = " ".join(word.lower().split())
        if kind == "day":
            stem = low.rstrip(".")
            plural = match.group("plural")
            if plural:
                stem = stem[:-1]
            allowed = _DAY_WORDS if times_column else _FULL_DAY_WORDS
            if stem not in allowed or (plural and stem not in _PLURAL_DAY_WORDS):
                token.kind = "word"
            else:
                token.value = _DAY_WORDS[stem]
        elif kind == "dayset":
            token.value = _DAY_SETS[low]
        elif kind == "ordinal":
            token.value = _ORDINAL_WORDS.get(low)  # None for "5th": no such session
        elif kind == "word" and low in _FILLER | _PARTS_OF_DAY:
            token.kind = "filler"
        tokens.append(token)
    return tokens


def _read_description(tokens: list[_Token], notes: tuple[str, ...]) -> TimesRead:
    """Sessions from the stretches of a sentence made only of days, times and their words:
    each stretch that holds a day and reads completely gives its sessions."""
    found: list[dict] = []
    stretch: list[_Token] = []
    for token in [*tokens, _Token("word", "", 0, 0)]:
        if token.kind not in ("word", "always"):
            stretch.append(token)
            continue
        # "meets every other Saturday and is open to": the joining words at the ends of a
        # stretch belong to the sentence, not to the times.
        while stretch and stretch[-1].kind in ("sep", "filler", "to"):
            stretch.pop()
        ranged = any(
            t.kind == "dayset" or (t.kind == "day" and _joins(stretch, n, "day"))
            for n, t in enumerate(stretch)
        )
        # "Available Monday to Friday": in a description a range of days is when a service is
        # open, told in words; only a times column's ranges are sessions.
        if any(t.kind == "day" for t in stretch) and not ranged:
            with contextlib.suppress(_Unread):
                found.extend(_parse(stretch, stretch[-1].end))
        stretch = []
    return TimesRead(sessions=tuple(_merged(found)), notes=notes)


def _parse(tokens: list[_Token], length: int) -> tuple[dict, ...]:
    groups: list[_Group] = []
    group = _Group()
    pending_ordinals: list[tuple[str | None, _Token]] = []
    pending_frequency: str | None = None
    closed: set[str] = set()
    i = 0
    meaningful = [t for t in tokens if t.kind not in ("sep", "filler")]

    def start_group(at: _Token) -> _Group:
        nonlocal group
        if group.days or group.times:
            groups.append(group)
        group = _Group(first=at.start, last=at.end)
        return group

    def next_meaningful(index: int) -> _Token | None:
        for t in tokens[index + 1 :]:
            if t.kind not in ("sep", "filler"):
                return t
        return None

    while i < len(tokens):
        token = tokens[i]
        kind = token.kind
        if kind in ("sep", "filler"):
            if kind == "sep" and token.text.strip() in (";", "|", "") and group.days:
                group.last_kind = "end"  # "Mon; Wed 10-12": Monday's times are not Wednesday's
            i += 1
            continue
        if kind == "word":
            raise _Unread(token.start, _word_run_end(tokens, i))
        if kind == "always":
            raise _Unread(token.start, token.end, "a session needs an end before midnight")
        if kind == "closed":
            days, i = _closed_days(tokens, i)
            closed |= days
            continue
        if kind in ("day", "dayset", "ordinal"):
            if group.last_kind in ("times", "end") and not (group.times_first and not group.days):
                start_group(token)
            if kind == "ordinal":
                if token.value is None:
                    raise _Unread(token.start, token.end)
                if token.value != "last" and tokens[i - 1].text.lower().strip() == "every":
                    raise _Unread(
                        tokens[i - 1].start, token.end, "every other week, or once a month?"
                    )
                pending_ordinals.append((token.value, token))
                i += 1
                continue
            days, i = _day_run(tokens, i)
            ordinals = [o for o, _ in pending_ordinals] or [None]
            pending_ordinals = []
            for day in days:
                for ordinal in ordinals:
                    group.days.append((day, ordinal))
            if pending_frequency:
                _set_frequency(group, pending_frequency, token)
                pending_frequency = None
            group.last = tokens[i - 1].end
            group.last_kind = "days"
            continue
        if pending_ordinals:
            first = pending_ordinals[0][1]
            raise _Unread(first.start, token.end)  # "first" with no day after it
        if kind in ("monthly", "fortnightly", "weekly"):
            frequency = kind
            after = next_meaningful(i)
            if group.last_kind == "end" and after is not None and after.kind in _DAY_KINDS:
                pending_frequency = frequency  # "Mon 10-12; fortnightly Thu 2-4"
            elif group.last_kind == "times" and after is not None and after.kind in _DAY_KINDS:
                # "Tue 10-12, fortnightly Thu 2-4" is Thursday's; "Tue 10-12 fortnightly,
                # Thu 2-4" is Tuesday's; with both or neither comma, we cannot say.
                before_sep = tokens[i - 1].kind == "sep"
                after_sep = tokens[i + 1].kind == "sep"
                if before_sep == after_sep:
                    raise _Unread(token.start, after.end, "which day is it for?")
                if before_sep:
                    pending_frequency = frequency
                else:
                    _set_frequency(group, frequency, token)
            elif not group.days and not group.times:
                pending_frequency = frequency
            else:
                _set_frequency(group, frequency, token)
            i += 1
            continue
        if kind in ("time", "between"):
            if not group.days:
                if groups or group.times and not group.times_first:
                    raise _Unread(token.start, length, "no day is given for these times")
                group.times_first = True
                if not group.times:
                    group.first = token.start
            elif group.times_first:
                end = tokens[i + 2].end if _joins(tokens, i, "time") else token.end
                raise _Unread(group.first, end, "which times go with which day?")
            times, i = _time_run(tokens, i)
            group.times.extend(times)
            group.last = tokens[i - 1].end
            group.last_kind = "times"
            continue
        if token.text.strip() in ("to", "till", "til", "until", "thru", "through"):
            raise _Unread(token.start, token.end)  # "to" with nothing to join
        i += 1  # a dash between unlike things ("Monthly - first Monday") separates them
    if pending_ordinals:
        raise _Unread(pending_ordinals[0][1].start, length)
    if pending_frequency:
        raise _Unread(meaningful[-1].start if meaningful else 0, length)
    start_group(_Token("sep", "", length, length))
    sessions: list[dict] = []
    for g in groups:
        if not g.days:
            raise _Unread(g.first, g.last, "no day is given for these times")
        sessions.extend(_group_sessions(g))
    if any(s["day"] in closed for s in sessions):
        raise _Unread(0, length, "a day is said to be both open and closed")
    return tuple(_merged(sessions))


def _joins(tokens: list[_Token], i: int, kind: str) -> bool:
    """Whether tokens[i] is joined to a like token by "to" or a dash ("Mon-Fri", "10-12")."""
    return i + 2 < len(tokens) and tokens[i + 1].kind == "to" and tokens[i + 2].kind == kind


def _word_run_end(tokens: list[_Token], i: int) -> int:
    """Where a run of words we do not know ends (at its last such word, not a "from")."""
    end = tokens[i].end
    for t in tokens[i + 1 :]:
        if t.kind not in ("word", "filler"):
            break
        if t.kind == "word":
            end = t.end
    return end


def _set_frequency(group: _Group, frequency: str, token: _Token) -> None:
    if group.frequency and group.frequency != frequency:
        raise _Unread(group.first, token.end)
    group.frequency = frequency


def _day_run(tokens: list[_Token], i: int) -> tuple[list[str], int]:
    """The days from tokens[i]: a day, a set ("weekdays") or a range ("Mon-Fri", "Monday to
    Friday"); returns them and the index after."""
    token = tokens[i]
    if token.kind == "dayset":
        return list(token.value), i + 1
    if i + 2 < len(tokens) and tokens[i + 1].kind == "to" and tokens[i + 2].kind == "day":
        first, last = WEEKDAYS.index(token.value), WEEKDAYS.index(tokens[i + 2].value)
        if first == last:
            raise _Unread(token.start, tokens[i + 2].end)
        count = (last - first) % 7 + 1
        return [WEEKDAYS[(first + n) % 7] for n in range(count)], i + 3
    return [token.value], i + 1


def _closed_days(tokens: list[_Token], i: int) -> tuple[set[str], int]:
    """ "closed Mondays", "closed Sat & Sun": days said to be shut (a note, and a check)."""
    days: set[str] = set()
    j = i + 1
    while j < len(tokens):
        token = tokens[j]
        if token.kind in ("day", "dayset"):
            found, j = _day_run(tokens, j)
            days.update(found)
        elif token.kind == "filler" or token.text.strip().lower() in (",", "and", "&"):
            j += 1
        else:
            break
    if not days:
        raise _Unread(tokens[i].start, tokens[min(j, len(tokens) - 1)].end, "closed when?")
    return days, j


def _time_run(tokens: list[_Token], i: int) -> tuple[list[tuple[str | None, str | None]], int]:
    """Times from tokens[i]: "10-12", "10am to 2pm", "between 10 and 12", "at 2pm"."""
    token = tokens[i]
    if token.kind == "between":
        parts = [t for t in tokens[i + 1 : i + 6] if t.kind not in ("filler",)]
        if (
            len(parts) >= 3
            and parts[0].kind == "time"
            and parts[1].kind == "sep"
            and parts[1].text.lower() == "and"
            and parts[2].kind == "time"
        ):
            end_index = tokens.index(parts[2])
            return [_time_range(parts[0], parts[2])], end_index + 1
        raise _Unread(token.start, parts[-1].end if parts else token.end)
    if i + 2 < len(tokens) and tokens[i + 1].kind == "to" and tokens[i + 2].kind == "time":
        return [_time_range(token, tokens[i + 2])], i + 3
    if i + 1 < len(tokens) and tokens[i + 1].kind == "to":
        raise _Unread(token.start, tokens[i + 1].end)  # "10 till late"
    start = _clock(token.text)
    # "Tuesday 10" or "at 7.30": morning or evening? "10:00" alone is the morning either way.
    if start is None or (start[2] == "bare" and not (8 <= start[0] <= 12 and ":" in token.text)):
        raise _Unread(token.start, token.end, "morning or evening? Give am or pm")
    return [(_hhmm(start[:2]), None)], i + 1


def _clock(text: str) -> tuple[int, int, str] | None:
    """(hour, minute, how): how is "am", "pm" (12-hour said), "24" (24-hour: a leading zero or
    an hour over 12) or "bare" (an hour or hour.minute that does not say which half)."""
    low = re.sub(r"[\s.]", "", text.lower()).replace(":", "")
    if low in ("noon", "midday") or re.fullmatch(r"12(?:00)?(?:noon|midday)", low):
        return 12, 0, "pm"
    if low == "midnight":
        return None
    match = re.fullmatch(r"(\d{1,2})(\d{2})?(am|pm)?", low)
    if not match:
        return None
    hour, minute, half = int(match.group(1)), int(match.group(2) or 0), match.group(3)
    if minute > 59:
        return None
    if half:
        if not 1 <= hour <= 12:
            return None
        if hour == 12 and half == "am":
            return None  # midnight or noon? people mean both
        return hour % 12 + (12 if half == "pm" else 0), minute, half
    if hour > 23:
        return None
    if hour > 12 or hour == 0 or text.strip().startswith("0"):
        return hour, minute, "24"
    return hour, minute, "bare"


def _time_range(first: _Token, second: _Token) -> tuple[str, str]:
    start, end = _clock(first.text), _clock(second.text)
    if start is None or end is None:
        raise _Unread(first.start, second.end)
    (h1, m1, how1), (h2, m2, how2) = start, end
    if how1 == "bare":
        if how2 in ("am", "pm"):
            # "1.30-3.30pm" is the afternoon; "11-1pm" starts in the morning.
            h1 = h1 % 12 + (12 if how2 == "pm" else 0)
            if (h1, m1) >= (h2, m2) and how2 == "pm":
                h1 -= 12
        elif how2 == "24":
            if (h1 + 12, m1) < (h2, m2) and h1 <= 7:
                h1 += 12  # "7-21:00"
        else:
            h1 = h1 if 8 <= h1 <= 12 else h1 + 12
    if how2 == "bare":
        # The end is the first such hour after the start: "10-3" ends at 15:00.
        for candidate in (h2, h2 + 12):
            if candidate < 24 and (candidate, m2) > (h1, m1):
                h2 = candidate
                break
    if (h2, m2) <= (h1, m1) or h1 >= 24 or h2 >= 24:
        raise _Unread(first.start, second.end, "it ends before it starts, or past midnight")
    return _hhmm((h1, m1)), _hhmm((h2, m2))


def _hhmm(hour_minute: tuple[int, int]) -> str:
    return f"{hour_minute[0]:02d}:{hour_minute[1]:02d}"


def _group_sessions(group: _Group) -> list[dict]:
    has_ordinal = any(o for _, o in group.days)
    if group.frequency == "monthly" and not all(o for _, o in group.days):
        raise _Unread(group.first, group.last, "which week of the month?")
    if group.frequency in ("fortnightly", "weekly") and has_ordinal:
        raise _Unread(group.first, group.last)
    times = group.times or [(None, None)]
    found = []
    for day, ordinal in group.days:
        frequency = ordinal or ("fortnightly" if group.frequency == "fortnightly" else "weekly")
        for start, end in times:
            found.append({"day": day, "frequency": frequency, "start": start, "end": end})
    return found


def _merged(sessions: list[dict]) -> list[dict]:
    """The sessions without repeats, in the order they were first given."""
    seen: dict[tuple, dict] = {}
    for s in sessions:
        seen.setdefault((s["day"], s["frequency"], s["start"], s["end"]), s)
    return list(seen.values())


# -- OpenStreetMap opening_hours ----------------------------------------------------------------

_OSM_CHARACTERS = re.compile(r"[A-Za-z0-9:;,\-\[\]/+ ]*(?:\"[^\"]*\"[A-Za-z0-9:;,\-\[\]/+ ]*)*")
_OSM_DAY = re.compile(r"\b(?:Mo|Tu|We|Th|Fr|Sa|Su)\b")
# The only words OpenStreetMap's syntax has that we read: days, holidays, weeks, months, off.
_OSM_WORDS = frozenset((
    "mo", "tu", "we", "th", "fr", "sa", "su", "ph", "sh", "off", "closed", "open", "week", "jan",
    "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec",
))  # fmt: skip
# What makes OpenStreetMap hours other than the same every week: "Sa[1]", "week 1-53/2",
# "Jul-Aug off".
_OSM_NOT_WEEKLY = re.compile(
    r"\[|\bweek\b|\b(?:jan|feb|mar|apr|may|jun|jul|aug|sep|oct|nov|dec)\b", re.I
)
_OSM_NOTES = (
    (re.compile(r"^\s*PH\s+(?:off|closed)\s*$", re.I), BANK_HOLIDAYS),
    (re.compile(r"^\s*SH\s+(?:off|closed)\s*$", re.I), TERM_TIME),
)
# A reference period long enough to see every weekday in every position of a month (months
# with four and with five of it): the 52 weeks from Monday 1 January 2024. No country is
# given, so no holiday is applied.
_REFERENCE_START = date(2024, 1, 1)
_REFERENCE_END = date(2024, 12, 30)


def _read_osm(text: str) -> TimesRead | None:
    """Sessions from OpenStreetMap opening_hours ("Mo-Fr 09:00-17:00; Sa[1] 10:00-12:00"), or
    None when the text is not in that syntax (then it is read as words)."""
    if not _OSM_CHARACTERS.fullmatch(text) or not _OSM_DAY.search(text):
        return None
    unquoted = re.sub(r'"[^"]*"', "", text)  # comments: 'Tu 10:00-12:00 "ring first"'
    if any(w.lower() not in _OSM_WORDS for w in re.findall(r"[A-Za-z]+", unquoted)):
        return None  # English words: "Mo-Fr 9am-5pm" is read as words
    import opening_hours

    if not opening_hours.validate(text):
        return None
    notes: list[str] = []
    rules: list[str] = []
    for rule in text.split(";"):
        for pattern, note in _OSM_NOTES:
            if pattern.match(rule):
                notes.append(note)
                break
        else:
            if rule.strip():
                rules.append(rule.strip())
    if not rules or re.search(r"\b(?:PH|SH)\b", "; ".join(rules)):
        return TimesRead(notes=tuple(notes), unread=text.strip())
    hours = opening_hours.OpeningHours("; ".join(rules))
    # Rules of weekdays and times only repeat every week: one week shows them all (a year of
    # evaluation is ten times slower, and a file may hold thousands of these).
    weekly = not _OSM_NOT_WEEKLY.search(text)
    until = _REFERENCE_START + timedelta(weeks=1) if weekly else _REFERENCE_END
    openings: dict[tuple[int, str, str], set[date]] = {}
    for start, end, state, comment in hours.intervals(
        datetime.combine(_REFERENCE_START, datetime.min.time()),
        datetime.combine(until, datetime.min.time()),
    ):
        if state == opening_hours.State.CLOSED:
            continue
        if (
            state != opening_hours.State.OPEN
            or comment  # Tu 10:00-12:00 "ring first": a condition we cannot read
            or end is None
            or start.date() != end.date()
            or start.time() == end.time()
        ):
            return TimesRead(notes=tuple(notes), unread=text.strip())  # unknown, or past midnight
        key = (start.weekday(), start.strftime("%H:%M"), end.strftime("%H:%M"))
        openings.setdefault(key, set()).add(start.date())
    sessions = []
    for (weekday, start, end), dates in sorted(openings.items()):
        frequency = ["weekly"] if weekly else _osm_frequency(weekday, dates)
        if frequency is None:
            return TimesRead(notes=tuple(notes), unread=text.strip())
        sessions.extend(
            {"day": WEEKDAYS[weekday], "frequency": f, "start": start, "end": end}
            for f in frequency
        )
    if not sessions:
        return TimesRead(notes=tuple(notes), unread=text.strip())
    return TimesRead(sessions=tuple(_merged(sessions)), notes=tuple(notes))


def _osm_frequency(weekday: int, dates: set[date]) -> list[str] | None:
    """How often an opening on these dates of the reference period repeats: ["weekly"],
    ["fortnightly"], the ordinals of the month (["first", "third"]), or None."""
    every = _every(weekday)
    if dates == every[0]:
        return ["weekly"]
    if dates in every[1:]:
        return ["fortnightly"]
    found = [o for o in (*ORDINALS, "last") if _ordinal_dates(weekday, o) <= dates]
    covered = set().union(*(_ordinal_dates(weekday, o) for o in found))
    return found if found and covered == dates else None


@cache
def _every(weekday: int) -> tuple[frozenset[date], frozenset[date], frozenset[date]]:
    """Every such weekday of the reference period, and each half of them week about."""
    days = []
    day = _REFERENCE_START + timedelta(days=(weekday - _REFERENCE_START.weekday()) % 7)
    while day < _REFERENCE_END:
        days.append(day)
        day += timedelta(weeks=1)
    return frozenset(days), frozenset(days[0::2]), frozenset(days[1::2])


@cache
def _ordinal_dates(weekday: int, ordinal: str) -> frozenset[date]:
    return frozenset(d for d in _every(weekday)[0] if _ordinal_of(d, ordinal))


def _ordinal_of(day: date, ordinal: str) -> bool:
    if ordinal == "last":
        return (day + timedelta(weeks=1)).month != day.month
    return (day.day - 1) // 7 == ORDINALS.index(ordinal)
