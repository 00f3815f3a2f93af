"""The few pieces of SQL that SQLite and PostgreSQL spell differently, in one place.

The store writes SQL once, in SQLite's dialect (store/postgres.py translates the parameters);
where the two engines have no common spelling, a store function asks this module for the piece
it needs, by the handle's `engine`. Each function returns SQL text with `?` parameters.
"""

from __future__ import annotations


def is_postgresql(db) -> bool:
    return getattr(db, "engine", "sqlite") == "postgresql"


def by_name(db, column: str = "name") -> str:
    """An ORDER BY key for names regardless of case: SQLite's NOCASE folds A-Z only, as
    PostgreSQL's lower() does in the C collation the directory's databases use."""
    return f"lower({column})" if is_postgresql(db) else f"{column} COLLATE NOCASE"


def contains(db, haystack: str, needle: str = "?") -> str:
    """True where `haystack` contains `needle` (no wildcards: % and _ are text)."""
    return f"{position_of(db, haystack, needle)} > 0"


def position_of(db, haystack: str, needle: str) -> str:
    """The 1-based position of `needle` in `haystack` (0 when absent): instr / strpos."""
    return f"strpos({haystack}, {needle})" if is_postgresql(db) else f"instr({haystack}, {needle})"


def json_values(db, column: str, path: str | None = None) -> str:
    """A FROM item giving one row a value of the JSON array held as text in `column` (at
    `path`, a key of an object, when given), its value in the column `value`."""
    if is_postgresql(db):
        source = f"({column}::jsonb -> '{path}')" if path else f"{column}::jsonb"
        return f"jsonb_array_elements({source}) AS element(value)"
    if path:
        return f"json_each({column}, '$.{path}')"
    return f"json_each({column})"


def json_text_values(db, column: str) -> str:
    """As json_values, with each value as text (the array's strings, unquoted)."""
    if is_postgresql(db):
        return f"jsonb_array_elements_text({column}::jsonb) AS element(value)"
    return f"json_each({column})"


def json_field(db, column: str, key: str) -> str:
    """The value at `key` of the JSON object held as text in `column`, to read back (SQLite
    gives it as an SQL value, psycopg decodes PostgreSQL's jsonb: a number, true/false, text)."""
    if is_postgresql(db):
        return f"({column}::jsonb -> '{key}')"
    return f"json_extract({column}, '$.{key}')"


def json_text(db, column: str, key: str) -> str:
    """The value at `key` as text, to compare with text parameters (NULL if none)."""
    if is_postgresql(db):
        return f"({column}::jsonb ->> '{key}')"
    return f"json_extract({column}, '$.{key}')"


def aggregate_text(db, expression: str, separator: str) -> str:
    """The group's `expression` values joined with `separator` (SQL text of a string)."""
    if is_postgresql(db):
        return f"string_agg({expression}, {separator})"
    return f"group_concat({expression}, {separator})"


def search_store(db):
    """The module holding the search SQL for `db`'s engine: store/search.py (SQLite: FTS5 and
    the nearby index) or store/postgres_search.py (PostGIS), which have the same functions."""
    if is_postgresql(db):
        from assetmap.store import postgres_search

        return postgres_search
    from assetmap.store import search

    return search


def insert_rows(db, table: str, columns: tuple[str, ...], rows) -> None:
    """Insert many rows into `table`: SQLite's executemany, PostgreSQL's COPY (issue 20: an
    import's rows stream to the server in one command rather than a statement each: the write
    of a 10,000-row import took 4-5 s rather than 7-15 s). Inside the caller's transaction."""
    if is_postgresql(db):
        names = ", ".join(columns)
        with (
            db.conn.raw.cursor() as cursor,
            cursor.copy(f"COPY {table} ({names}) FROM STDIN") as copy,
        ):
            for row in rows:
                copy.write_row(row)
        return
    marks = ", ".join("?" for _ in columns)
    db.conn.executemany(f"INSERT INTO {table} ({', '.join(columns)}) VALUES ({marks})", rows)
