"""The database schema: its version and the forward migrations that reach it.

Each migration is a list of SQL statements applied in one transaction, and the database's
`PRAGMA user_version` records the last one applied. Migrations are never edited once
released: a change to the schema is a new migration at the end of the list, so that every
existing database can be brought forward by `assetmap init`.

The `assets` table has an explicit integer key (`rid`) beside the stable text `id`: the FTS5
index and the R*Tree refer to rows by integer, and an explicit INTEGER PRIMARY KEY is the only
row number SQLite promises not to renumber (VACUUM may renumber an implicit rowid). Triggers
keep both indexes in step with every insert, update and delete, whoever writes.

`assets_nearby_fts` (migration 7) is a second full-text index of the same words, keyed by place
instead of by rid: its rowid is `nearby_key`, the asset's 0.01° band of latitude and 0.01° step
of longitude above the rid. A keyword search near a place then asks FTS5 for one range of
rowids and reads only the matches in the bands the circle crosses, where the rid-keyed index
must read every match in the country first (assetmap/store/search.py says more). Its own
triggers keep it in step, so the import's pause of `assets_after_insert` leaves it alone.
"""

from __future__ import annotations

import re

ASSET_COLUMNS_V1 = """
    rid INTEGER PRIMARY KEY,
    id TEXT NOT NULL UNIQUE,
    name TEXT NOT NULL,
    description TEXT,
    kind TEXT NOT NULL,
    strand TEXT NOT NULL,
    approach TEXT,
    categories TEXT NOT NULL DEFAULT '[]',
    audiences TEXT NOT NULL DEFAULT '[]',
    min_age INTEGER,
    max_age INTEGER,
    organisation TEXT,
    address TEXT,
    postcode TEXT,
    lat REAL NOT NULL,
    lon REAL NOT NULL,
    service_area TEXT,
    phone TEXT,
    email TEXT,
    website TEXT,
    contact_name TEXT,
    contact_phone TEXT,
    internal_notes TEXT,
    schedule TEXT,
    cost TEXT,
    cost_details TEXT,
    accessibility TEXT NOT NULL DEFAULT '[]',
    access_notes TEXT,
    languages TEXT NOT NULL DEFAULT '[]',
    self_referral INTEGER,
    link_worker_referral INTEGER,
    referral_details TEXT,
    status TEXT NOT NULL DEFAULT 'active',
    last_verified TEXT,
    verified_by TEXT,
    source TEXT,
    source_id TEXT,
    created_at TEXT NOT NULL,
    updated_at TEXT NOT NULL
"""

FTS_COLUMNS = "name, description, categories, organisation"
FTS_TOKENIZER = "porter unicode61 remove_diacritics 2"

# assets_nearby_fts: rowid = (band * NEARBY_CELLS + cell) << 32 | rid, where band is the 0.01°
# band of latitude (the same expression as the assets_nearby index) and cell the 0.01° step of
# longitude (0 to 36000, hence 36001 of them). rids are SQLite's own, counted up from 1; the
# insert trigger refuses one that would not fit in 32 bits rather than index it wrongly.
NEARBY_CELLS = 36001
NEARBY_RID_BITS = 32
NEARBY_MAX_RID = (1 << NEARBY_RID_BITS) - 1  # the largest rid the key has room for


def nearby_key(row: str) -> str:
    """SQL for the assets_nearby_fts rowid of `row` (new, old or assets)."""
    return (
        f"(((CAST(({row}.lat + 90) * 100 AS INTEGER) * {NEARBY_CELLS}"
        f" + CAST(({row}.lon + 180) * 100 AS INTEGER)) << {NEARBY_RID_BITS}) + {row}.rid)"
    )


def nearby_words(row: str) -> str:
    """The indexed words of `row` (new, old or assets), as assets_nearby_fts takes them."""
    return ", ".join(f"{row}.{column}" for column in FTS_COLUMNS.split(", "))


MIGRATIONS: tuple[tuple[str, tuple[str, ...]], ...] = (
    (
        "assets with full-text and spatial indexes, and their history",
        (
            f"CREATE TABLE assets ({ASSET_COLUMNS_V1})",
            "CREATE INDEX assets_strand ON assets (strand)",
            "CREATE INDEX assets_kind ON assets (kind)",
            "CREATE INDEX assets_source ON assets (source, source_id)",
            f"""CREATE VIRTUAL TABLE assets_fts USING fts5(
                {FTS_COLUMNS}, content='assets', content_rowid='rid',
                tokenize='porter unicode61 remove_diacritics 2')""",
            """CREATE VIRTUAL TABLE assets_rtree USING rtree(
                rid, min_lon, max_lon, min_lat, max_lat)""",
            f"""CREATE TRIGGER assets_after_insert AFTER INSERT ON assets BEGIN
                INSERT INTO assets_fts (rowid, {FTS_COLUMNS})
                    VALUES (new.rid, new.name, new.description, new.categories, new.organisation);
                INSERT INTO assets_rtree (rid, min_lon, max_lon, min_lat, max_lat)
                    VALUES (new.rid, new.lon, new.lon, new.lat, new.lat);
            END""",
            f"""CREATE TRIGGER assets_after_delete AFTER DELETE ON assets BEGIN
                INSERT INTO assets_fts (assets_fts, rowid, {FTS_COLUMNS})
                    VALUES ('delete', old.rid, old.name, old.description, old.categories,
                            old.organisation);
                DELETE FROM assets_rtree WHERE rid = old.rid;
            END""",
            f"""CREATE TRIGGER assets_after_update AFTER UPDATE ON assets BEGIN
                INSERT INTO assets_fts (assets_fts, rowid, {FTS_COLUMNS})
                    VALUES ('delete', old.rid, old.name, old.description, old.categories,
                            old.organisation);
                INSERT INTO assets_fts (rowid, {FTS_COLUMNS})
                    VALUES (new.rid, new.name, new.description, new.categories, new.organisation);
                DELETE FROM assets_rtree WHERE rid = old.rid;
                INSERT INTO assets_rtree (rid, min_lon, max_lon, min_lat, max_lat)
                    VALUES (new.rid, new.lon, new.lon, new.lat, new.lat);
            END""",
            """CREATE TABLE asset_history (
                version_id INTEGER PRIMARY KEY,
                asset_id TEXT NOT NULL,
                action TEXT NOT NULL CHECK (action IN ('insert', 'update', 'delete')),
                previous TEXT,
                record TEXT,
                changed_by TEXT NOT NULL,
                changed_at TEXT NOT NULL,
                reason TEXT
            )""",
            "CREATE INDEX asset_history_asset ON asset_history (asset_id, version_id)",
        ),
    ),
    (
        "accounts, login attempts, the audit log, and archiving assets",
        (
            "ALTER TABLE assets ADD COLUMN archived INTEGER NOT NULL DEFAULT 0",
            """CREATE TABLE users (
                id INTEGER PRIMARY KEY,
                email TEXT NOT NULL UNIQUE COLLATE NOCASE,
                password_hash TEXT NOT NULL,
                role TEXT NOT NULL CHECK (role IN ('admin', 'coordinator', 'link_worker')),
                active INTEGER NOT NULL DEFAULT 1,
                session_version INTEGER NOT NULL DEFAULT 1,
                created_at TEXT NOT NULL,
                password_changed_at TEXT NOT NULL,
                last_login_at TEXT
            )""",
            """CREATE TABLE login_attempts (
                id INTEGER PRIMARY KEY,
                email TEXT NOT NULL COLLATE NOCASE,
                address TEXT NOT NULL,
                succeeded INTEGER NOT NULL,
                attempted_at TEXT NOT NULL
            )""",
            "CREATE INDEX login_attempts_email ON login_attempts (email, attempted_at)",
            "CREATE INDEX login_attempts_address ON login_attempts (address, attempted_at)",
            """CREATE TABLE audit_log (
                id INTEGER PRIMARY KEY,
                at TEXT NOT NULL,
                actor TEXT NOT NULL,
                action TEXT NOT NULL,
                subject TEXT,
                details TEXT
            )""",
        ),
    ),
    (
        "the postcode table, and an index for nearby search",
        (
            # Canonical postcodes ("M33 7ZF") as the key, so a sector ("M33 7") or district
            # ("M33") is a range of the key and its centre an AVG over that range, without
            # derived tables that could fall out of step.
            """CREATE TABLE postcodes (
                postcode TEXT PRIMARY KEY,
                lat REAL NOT NULL,
                lon REAL NOT NULL
            ) WITHOUT ROWID""",
            # Open assets by 0.01-degree band of latitude, then longitude, with the columns
            # the common search filters read and the id that orders ties: a circle is a few
            # short runs of this index and needs no visit to the table (assetmap/store/search.py).
            """CREATE INDEX assets_nearby ON assets (
                CAST((lat + 90) * 100 AS INTEGER), lon, lat, strand, kind, cost, self_referral, id
            ) WHERE status = 'active' AND archived = 0""",
        ),
    ),
    (
        "residents' self-referrals, their status changes, and the per-address limit",
        (
            """CREATE TABLE self_referrals (
                id INTEGER PRIMARY KEY,
                asset_id TEXT NOT NULL,
                name TEXT,
                phone TEXT,
                email TEXT,
                best_time TEXT,
                message TEXT,
                consent INTEGER NOT NULL,
                status TEXT NOT NULL DEFAULT 'new'
                    CHECK (status IN ('new', 'contacted', 'joined', 'did_not_join')),
                created_at TEXT NOT NULL,
                updated_at TEXT NOT NULL,
                purged_at TEXT,
                organiser_emailed_at TEXT
            )""",
            "CREATE INDEX self_referrals_status ON self_referrals (status, created_at)",
            "CREATE INDEX self_referrals_asset ON self_referrals (asset_id)",
            """CREATE TABLE self_referral_events (
                id INTEGER PRIMARY KEY,
                referral_id INTEGER NOT NULL REFERENCES self_referrals (id),
                at TEXT NOT NULL,
                by TEXT NOT NULL,
                status TEXT NOT NULL,
                note TEXT
            )""",
            """CREATE TABLE self_referral_attempts (
                id INTEGER PRIMARY KEY,
                address_key TEXT NOT NULL,
                at TEXT NOT NULL
            )""",
            "CREATE INDEX self_referral_attempts_address "
            "ON self_referral_attempts (address_key, at)",
        ),
    ),
    (
        "import runs: who imported which file, what each row did, and what undo needs",
        (
            # details: JSON with the file's columns, notes and counts of repairs, for the page.
            """CREATE TABLE import_runs (
                id INTEGER PRIMARY KEY,
                file_name TEXT NOT NULL,
                sha256 TEXT NOT NULL,
                archived_as TEXT,
                source TEXT NOT NULL,
                format TEXT NOT NULL,
                imported_by TEXT NOT NULL,
                imported_at TEXT NOT NULL,
                row_count INTEGER NOT NULL DEFAULT 0,
                new_count INTEGER NOT NULL DEFAULT 0,
                changed_count INTEGER NOT NULL DEFAULT 0,
                unchanged_count INTEGER NOT NULL DEFAULT 0,
                rejected_count INTEGER NOT NULL DEFAULT 0,
                duplicate_count INTEGER NOT NULL DEFAULT 0,
                details TEXT NOT NULL DEFAULT '{}',
                undone_by TEXT,
                undone_at TEXT
            )""",
            # One row per row of the file. version_id is the asset_history change the row made
            # (undo brings back that change's previous version); cells are kept for rejected
            # rows only, so their CSV can be downloaded; extra holds columns no field took.
            """CREATE TABLE import_run_rows (
                id INTEGER PRIMARY KEY,
                run_id INTEGER NOT NULL REFERENCES import_runs (id),
                row_no INTEGER NOT NULL,
                outcome TEXT NOT NULL
                    CHECK (outcome IN ('new', 'changed', 'unchanged', 'rejected')),
                asset_id TEXT,
                version_id INTEGER,
                duplicate_of TEXT,
                problems TEXT,
                extra TEXT,
                cells TEXT,
                UNIQUE (run_id, row_no)
            )""",
            "CREATE INDEX import_run_rows_asset ON import_run_rows (asset_id)",
            # Matching rows without an id by name and postcode looks assets up by postcode.
            "CREATE INDEX IF NOT EXISTS assets_postcode ON assets (postcode)",
        ),
    ),
    (
        "capacity of assets, link workers' plans and referrals, and a name index for listings",
        (
            "ALTER TABLE assets ADD COLUMN capacity TEXT",
            "CREATE INDEX assets_name ON assets (name COLLATE NOCASE, id)",
            """CREATE TABLE plans (
                id INTEGER PRIMARY KEY,
                client_ref TEXT NOT NULL,
                client_name TEXT,
                intro TEXT,
                created_by INTEGER NOT NULL REFERENCES users (id),
                created_at TEXT NOT NULL,
                updated_at TEXT NOT NULL,
                share_token_hash TEXT UNIQUE,
                share_expires_at TEXT,
                share_revoked_at TEXT
            )""",
            "CREATE INDEX plans_owner ON plans (created_by, updated_at)",
            """CREATE TABLE plan_items (
                id INTEGER PRIMARY KEY,
                plan_id INTEGER NOT NULL REFERENCES plans (id) ON DELETE CASCADE,
                asset_id TEXT NOT NULL,
                note TEXT,
                position INTEGER NOT NULL,
                UNIQUE (plan_id, asset_id)
            )""",
            """CREATE TABLE referrals (
                id INTEGER PRIMARY KEY,
                asset_id TEXT NOT NULL,
                plan_id INTEGER REFERENCES plans (id) ON DELETE SET NULL,
                client_ref TEXT NOT NULL,
                route TEXT NOT NULL
                    CHECK (route IN ('signposted', 'referred', 'self_referral')),
                referred_on TEXT NOT NULL,
                outcome TEXT CHECK (outcome IS NULL OR outcome IN
                    ('attended', 'still_attending', 'did_not_attend', 'declined')),
                outcome_reason TEXT,
                outcome_on TEXT,
                recorded_by INTEGER NOT NULL REFERENCES users (id),
                created_at TEXT NOT NULL,
                updated_at TEXT NOT NULL
            )""",
            "CREATE INDEX referrals_asset ON referrals (asset_id, referred_on)",
            "CREATE INDEX referrals_recorder ON referrals (recorded_by, referred_on)",
        ),
    ),
    (
        "a keyword index keyed by place, for keyword searches near a place",
        (
            # Contentless: the words are in assets, and only rowids are ever read back.
            f"""CREATE VIRTUAL TABLE assets_nearby_fts USING fts5(
                {FTS_COLUMNS}, content='', tokenize='{FTS_TOKENIZER}')""",
            f"""INSERT INTO assets_nearby_fts (rowid, {FTS_COLUMNS})
                SELECT {nearby_key("assets")}, {nearby_words("assets")} FROM assets""",
            # One segment instead of dozens: each word is then one seek, not one per segment.
            "INSERT INTO assets_nearby_fts (assets_nearby_fts) VALUES ('optimize')",
            # Its terms, so a search can see whether a word's prefix is also another word's.
            "CREATE VIRTUAL TABLE assets_nearby_terms USING fts5vocab(assets_nearby_fts, instance)",
            f"""CREATE TRIGGER assets_nearby_fts_after_insert AFTER INSERT ON assets BEGIN
                SELECT RAISE(ABORT, 'asset rid out of range for assets_nearby_fts')
                    WHERE new.rid NOT BETWEEN 0 AND {NEARBY_MAX_RID};
                INSERT INTO assets_nearby_fts (rowid, {FTS_COLUMNS})
                    VALUES ({nearby_key("new")}, {nearby_words("new")});
            END""",
            f"""CREATE TRIGGER assets_nearby_fts_after_delete AFTER DELETE ON assets BEGIN
                INSERT INTO assets_nearby_fts (assets_nearby_fts, rowid, {FTS_COLUMNS})
                    VALUES ('delete', {nearby_key("old")}, {nearby_words("old")});
            END""",
            # Only when what it indexes changes: a change of status or a verification date
            # leaves the index alone.
            f"""CREATE TRIGGER assets_nearby_fts_after_update
                AFTER UPDATE OF rid, lat, lon, {FTS_COLUMNS} ON assets BEGIN
                SELECT RAISE(ABORT, 'asset rid out of range for assets_nearby_fts')
                    WHERE new.rid NOT BETWEEN 0 AND {NEARBY_MAX_RID};
                INSERT INTO assets_nearby_fts (assets_nearby_fts, rowid, {FTS_COLUMNS})
                    VALUES ('delete', {nearby_key("old")}, {nearby_words("old")});
                INSERT INTO assets_nearby_fts (rowid, {FTS_COLUMNS})
                    VALUES ({nearby_key("new")}, {nearby_words("new")});
            END""",
        ),
    ),
    (
        "sessions kept on the server, so that signing out ends a session for good",
        (
            # One row per signed-in session. The browser's cookie holds a random token; only its
            # SHA-256 is kept here, so a copy of the database does not hand out live sessions.
            # A session is live while ended_at is empty and it has been used recently
            # (assetmap/people/accounts.py); ended rows are kept for a while, then pruned.
            """CREATE TABLE sessions (
                id INTEGER PRIMARY KEY,
                token_hash TEXT NOT NULL UNIQUE,
                user_id INTEGER NOT NULL REFERENCES users (id),
                started_at TEXT NOT NULL,
                last_seen_at TEXT NOT NULL,
                ended_at TEXT,
                ended_why TEXT
            )""",
            "CREATE INDEX sessions_user ON sessions (user_id) WHERE ended_at IS NULL",
            "CREATE INDEX sessions_age ON sessions (coalesce(ended_at, last_seen_at))",
        ),
    ),
    (
        "import mappings chosen on the import page, kept under the source's name for next time",
        (
            # Each mapping a coordinator chose is kept (the mapping file's sections, as JSON);
            # the newest for a source is used for the next copy of that audit. Older ones stay,
            # so that choosing again loses nothing.
            """CREATE TABLE import_mappings (
                id INTEGER PRIMARY KEY,
                source TEXT NOT NULL,
                mapping TEXT NOT NULL,
                saved_by TEXT NOT NULL,
                saved_at TEXT NOT NULL
            )""",
            "CREATE INDEX import_mappings_source ON import_mappings (source, id)",
        ),
    ),
    (
        "where a plan's walking times are measured from",
        (
            # A postcode the link worker chose (near the client, or their surgery); the client's
            # page prints each activity's walking time from it. Placed again on every showing,
            # so a reloaded postcode table moves it, as it moves everything else.
            "ALTER TABLE plans ADD COLUMN walk_from TEXT",
        ),
    ),
    (
        "background jobs, so that a large import is previewed and applied outside a request",
        (
            # One row per job (assetmap/store/jobs.py). A job is claimed by one worker thread
            # with UPDATE ... WHERE state = 'queued'; the worker beats its heartbeat while it
            # runs, and a running job whose heartbeat stopped (its process was killed) is
            # marked failed by whoever next looks. `upload` is the pending upload's token
            # (assetmap/imports/pending.py); `run_id` the import run an apply job made.
            """CREATE TABLE jobs (
                id INTEGER PRIMARY KEY,
                kind TEXT NOT NULL,
                state TEXT NOT NULL DEFAULT 'queued'
                    CHECK (state IN ('queued', 'running', 'done', 'failed', 'cancelled')),
                who TEXT NOT NULL,
                file_name TEXT NOT NULL DEFAULT '',
                upload TEXT,
                run_id INTEGER,
                stage TEXT NOT NULL DEFAULT '',
                rows_read INTEGER NOT NULL DEFAULT 0,
                rows_checked INTEGER NOT NULL DEFAULT 0,
                rows_matched INTEGER NOT NULL DEFAULT 0,
                rows_written INTEGER NOT NULL DEFAULT 0,
                rows_total INTEGER,
                rows_to_write INTEGER,
                message TEXT NOT NULL DEFAULT '',
                cancel_requested INTEGER NOT NULL DEFAULT 0,
                worker TEXT,
                created_at TEXT NOT NULL,
                started_at TEXT,
                finished_at TEXT,
                heartbeat_at TEXT
            )""",
            "CREATE INDEX jobs_waiting ON jobs (state, id) WHERE state IN ('queued', 'running')",
            "CREATE INDEX jobs_who ON jobs (who, id)",
        ),
    ),
    (
        "how each asset's position was found, and which areas each postcode file holds in full",
        (
            # given (coordinates in the file or form), postcode, sector, district or by_hand
            # (moved on the form): assetmap/record/fields.py POSITION_SOURCES.
            "ALTER TABLE assets ADD COLUMN position_source TEXT",
            # Assets already listed: an asset exactly at its own postcode's point was placed
            # from the postcode (given coordinates are almost never the postcode's point to
            # 6 places); one an import placed at a sector's or district's centre, and that
            # has not moved since, says so in that import's warning; every other position
            # was given.
            "UPDATE assets SET position_source = 'given'",
            """UPDATE assets SET position_source = 'postcode' WHERE EXISTS (
                SELECT 1 FROM postcodes AS p WHERE p.postcode = assets.postcode
                AND round(p.lat, 6) = round(assets.lat, 6)
                AND round(p.lon, 6) = round(assets.lon, 6))""",
            *(
                f"""UPDATE assets SET position_source = '{area}' WHERE id IN (
                    SELECT r.asset_id FROM import_run_rows AS r
                    JOIN asset_history AS h ON h.version_id = r.version_id
                    WHERE r.asset_id = assets.id
                    AND r.problems LIKE '%placed at the centre of postcode {area}%'
                    AND json_extract(h.record, '$.lat') = assets.lat
                    AND json_extract(h.record, '$.lon') = assets.lon)"""
                for area in ("sector", "district")
            ),
            # complete_areas: JSON list of the postcode areas ("WA"), districts ("WA15") or
            # sectors ("WA15 0") the file holds every postcode of (assetmap/store/postcodes.py).
            """CREATE TABLE postcode_files (
                id INTEGER PRIMARY KEY,
                file_name TEXT NOT NULL,
                layout TEXT NOT NULL,
                postcodes INTEGER NOT NULL,
                complete_areas TEXT NOT NULL DEFAULT '[]',
                loaded_at TEXT NOT NULL
            )""",
        ),
    ),
    (
        "areas (LSOA, MSOA, ward boundaries), their need and population, for coverage",
        (
            # geometry: GeoJSON in WGS84 (assetmap/store/areas.py).
            """CREATE TABLE areas (
                level TEXT NOT NULL,
                code TEXT NOT NULL,
                name TEXT NOT NULL,
                geometry TEXT NOT NULL,
                loaded_at TEXT NOT NULL,
                PRIMARY KEY (level, code)
            )""",
            """CREATE TABLE area_need (
                code TEXT PRIMARY KEY,
                imd_rank INTEGER NOT NULL,
                imd_decile INTEGER NOT NULL
            )""",
            """CREATE TABLE area_population (
                code TEXT PRIMARY KEY,
                persons INTEGER NOT NULL
            )""",
        ),
    ),
    (
        "residents' reports of a problem with a listing, and how coordinators resolved them",
        (
            # kind: assetmap/freshness/reports.py KINDS. The contact columns are personal data,
            # blanked when the report is resolved; sender_key is the keyed hash of the sender's
            # address (assetmap/people/throttle.py), so that "may have closed" counts senders,
            # not reports; version_id is the asset_history entry that records the resolution
            # (NULL when the asset had been deleted).
            """CREATE TABLE problem_reports (
                id INTEGER PRIMARY KEY,
                asset_id TEXT NOT NULL,
                kind TEXT NOT NULL CHECK (kind IN ('closed', 'times', 'contact', 'other')),
                note TEXT,
                contact_name TEXT,
                contact_phone TEXT,
                contact_email TEXT,
                consent INTEGER NOT NULL DEFAULT 0,
                sender_key TEXT,
                status TEXT NOT NULL DEFAULT 'open' CHECK (status IN ('open', 'resolved')),
                created_at TEXT NOT NULL,
                resolved_at TEXT,
                resolved_by TEXT,
                outcome TEXT,
                version_id INTEGER
            )""",
            "CREATE INDEX problem_reports_open ON problem_reports (status, asset_id, kind)",
        ),
    ),
    (
        "checks of assets (who, when, how), how often each strand or kind is checked, "
        "and the ward of each postcode",
        (
            # One row a check (assetmap/freshness/checks.py): how is a slug of
            # assetmap/freshness/checks.py HOW; version_id is the history entry it wrote.
            """CREATE TABLE asset_checks (
                id INTEGER PRIMARY KEY,
                asset_id TEXT NOT NULL,
                checked_at TEXT NOT NULL,
                checked_by TEXT NOT NULL,
                how TEXT NOT NULL,
                note TEXT,
                version_id INTEGER
            )""",
            "CREATE INDEX asset_checks_asset ON asset_checks (asset_id, checked_at)",
            # A coordinator's "check every N months" for a strand or a kind
            # (assetmap/freshness/schedule.py: the shortest that applies wins).
            """CREATE TABLE check_intervals (
                scope TEXT NOT NULL CHECK (scope IN ('strand', 'kind')),
                value TEXT NOT NULL,
                months INTEGER NOT NULL CHECK (months >= 1),
                set_by TEXT,
                set_at TEXT,
                PRIMARY KEY (scope, value)
            ) WITHOUT ROWID""",
            # The electoral ward of a postcode, from an ONS Postcode Directory extract that
            # carries one (the review queue's ward filter; "ward unknown" otherwise).
            """CREATE TABLE postcode_wards (
                postcode TEXT PRIMARY KEY,
                ward_code TEXT NOT NULL,
                ward_name TEXT NOT NULL
            ) WITHOUT ROWID""",
            "CREATE INDEX postcode_wards_name ON postcode_wards (ward_name)",
        ),
    ),
    (
        "organisers keep their own listing: their e-mail, signed links, reminders, proposals",
        (
            "ALTER TABLE assets ADD COLUMN organiser_email TEXT",
            # One row per link e-mailed to an organiser; the signed token carries its id. Only
            # the newest link of an asset is honoured, and only until it is used or expires.
            """CREATE TABLE organiser_links (
                id INTEGER PRIMARY KEY,
                asset_id TEXT NOT NULL,
                email TEXT NOT NULL,
                created_at TEXT NOT NULL,
                expires_at TEXT NOT NULL,
                used_at TEXT,
                used_for TEXT
            )""",
            "CREATE INDEX organiser_links_asset ON organiser_links (asset_id, id)",
            # stage 1: first reminder, 2: second reminder, 3: coordinators told.
            """CREATE TABLE organiser_reminders (
                id INTEGER PRIMARY KEY,
                asset_id TEXT NOT NULL,
                stage INTEGER NOT NULL,
                sent_at TEXT NOT NULL,
                sent_to TEXT NOT NULL,
                link_id INTEGER REFERENCES organiser_links (id)
            )""",
            "CREATE INDEX organiser_reminders_asset ON organiser_reminders (asset_id, sent_at)",
            # A change an organiser proposed: the listing as they saw it (base) and as they
            # want it (proposed), both JSON records; pending until a coordinator decides.
            """CREATE TABLE change_proposals (
                id INTEGER PRIMARY KEY,
                asset_id TEXT NOT NULL,
                link_id INTEGER REFERENCES organiser_links (id),
                organiser_email TEXT NOT NULL,
                base TEXT NOT NULL,
                proposed TEXT NOT NULL,
                submitted_at TEXT NOT NULL,
                status TEXT NOT NULL DEFAULT 'pending',
                decided_by TEXT,
                decided_at TEXT,
                reason TEXT,
                version_id INTEGER
            )""",
            "CREATE INDEX change_proposals_status ON change_proposals (status, submitted_at)",
        ),
    ),
    (
        "feeds: other publishers' Open Referral UK APIs that the directory syncs from",
        (
            # name is the source of the assets a sync imports. last_synced_at is when the last
            # imported sync began reading (the next asks for services modified after it);
            # pending_* is a sync fetched on the page and waiting for its preview's confirm
            # (assetmap/openreferral/sync.py settles it once its import run exists).
            """CREATE TABLE feeds (
                name TEXT PRIMARY KEY,
                url TEXT NOT NULL,
                added_by TEXT NOT NULL,
                added_at TEXT NOT NULL,
                last_tried_at TEXT,
                last_synced_at TEXT,
                last_run_id INTEGER REFERENCES import_runs (id),
                last_error TEXT,
                pending_sha256 TEXT,
                pending_fetched_at TEXT
            )""",
        ),
    ),
    (
        "searches counted by month and LSOA of their centre, for coverage's unmet demand",
        (
            # Counts only (assetmap/coverage/demand.py): no query text, no time finer than
            # the month; found_little is 1 when the search found fewer than 3 assets.
            """CREATE TABLE search_counts (
                month TEXT NOT NULL,
                lsoa TEXT NOT NULL,
                found_little INTEGER NOT NULL CHECK (found_little IN (0, 1)),
                searches INTEGER NOT NULL,
                PRIMARY KEY (month, lsoa, found_little)
            ) WITHOUT ROWID""",
        ),
    ),
    (
        "the nearby index answers a strand search without reading the assets table",
        (
            # Migration 3's index, with last_verified, status and archived after id. SQLite
            # (3.40) does not count a partial index's WHERE columns as held by the index, so
            # without status and archived every candidate was a seek into the table, even to
            # count; with them, counting a circle and reading its nearest with their last
            # checks (ranking stale listings) read the index alone (assetmap/store/search.py).
            "DROP INDEX assets_nearby",
            """CREATE INDEX assets_nearby ON assets (
                CAST((lat + 90) * 100 AS INTEGER), lon, lat, strand, kind, cost, self_referral, id,
                last_verified, status, archived
            ) WHERE status = 'active' AND archived = 0""",
        ),
    ),
    (
        "search on PostgreSQL: the place and the words of each asset, and their indexes",
        # Nothing on SQLite, whose search has had its own indexes since the first migration
        # (FTS5, R*Tree, the nearby index); PostgreSQL's come from store/postgres_search.py
        # (POSTGRESQL_ONLY below).
        (),
    ),
)

SCHEMA_VERSION = len(MIGRATIONS)

# PostgreSQL: the same list, each statement turned into PostgreSQL's dialect by
# `for_postgresql`. What has no counterpart there is left out: SQLite's full-text (FTS5) and
# R*Tree tables and the triggers that keep them (PostgreSQL indexes the assets table itself,
# store/postgres_search.py), SQLite-only indexes, and statements that only brought old SQLite
# data forward (no PostgreSQL database predates its first migration). A statement that needs
# other words there is listed in POSTGRESQL_INSTEAD under its SQLite text's start.
_INTEGER_KEY = re.compile(r"\bINTEGER PRIMARY KEY\b")
_SQLITE_ONLY = re.compile(
    r"\s*(CREATE VIRTUAL TABLE|CREATE TRIGGER|INSERT INTO assets_(nearby_)?fts\b|"
    r"DROP INDEX assets_nearby|CREATE INDEX assets_nearby\b|UPDATE assets SET position_source)",
)
POSTGRESQL_INSTEAD = {
    # Names are compared without regard to case: citext, as NOCASE did.
    "CREATE INDEX assets_name ON assets (name COLLATE NOCASE, id)": (
        "CREATE INDEX assets_name ON assets (lower(name), id)"
    ),
}
# Words PostgreSQL reserves that a column was named before there was a second engine.
_RESERVED_COLUMNS = re.compile(r"^(\s*)by TEXT", re.MULTILINE)


def for_postgresql(statement: str) -> str | None:
    """`statement` as PostgreSQL takes it, or None where it has no counterpart there."""
    if _SQLITE_ONLY.match(statement):
        return None
    for start, instead in POSTGRESQL_INSTEAD.items():
        if statement.strip().startswith(start):
            return instead
    sql = _INTEGER_KEY.sub("BIGINT GENERATED BY DEFAULT AS IDENTITY PRIMARY KEY", statement)
    sql = re.sub(r"\bINTEGER\b", "BIGINT", sql)
    sql = re.sub(r"\bREAL\b", "DOUBLE PRECISION", sql)
    sql = re.sub(r"\)\s*WITHOUT ROWID", ")", sql)
    sql = re.sub(r"\bTEXT NOT NULL UNIQUE COLLATE NOCASE", "CITEXT NOT NULL UNIQUE", sql)
    sql = re.sub(r"\bTEXT NOT NULL COLLATE NOCASE", "CITEXT NOT NULL", sql)
    # Text sorts and compares by its bytes, as SQLite's BINARY does, whatever the database's
    # locale: names, ids and dates are ordered the same on both engines.
    sql = re.sub(r"\bTEXT\b", 'TEXT COLLATE "C"', sql)
    return _RESERVED_COLUMNS.sub(r'\1"by" TEXT', sql)


def _postgresql_only(version: int) -> tuple[str, ...]:
    """Statements PostgreSQL has in migration `version` (0-based) beyond the translated ones."""
    if version == 0:
        # Before the first table: case-insensitive text, for e-mail addresses (NOCASE).
        return ("CREATE EXTENSION IF NOT EXISTS citext",)
    if version == 19:
        from assetmap.store.postgres_search import SEARCH_DDL

        # Every asset by place, closed ones too, as SQLite's R*Tree: an import's lookups of
        # what is near a row, the map's box.
        return (*SEARCH_DDL, "CREATE INDEX assets_place ON assets (lat, lon)")
    return ()


def statements(version: int, engine: str) -> list[str]:
    """The statements of migration number `version` (0-based) for `engine`."""
    _description, sqlite_statements = MIGRATIONS[version]
    if engine != "postgresql":
        return list(sqlite_statements)
    found = [for_postgresql(statement) for statement in sqlite_statements]
    extra = _postgresql_only(version)
    found = [*extra, *found] if version == 0 else [*found, *extra]
    return [statement for statement in found if statement]


def _engine(conn) -> str:
    return getattr(conn, "engine", "sqlite")


def current_version(conn) -> int:
    """The number of migrations this database has had."""
    if _engine(conn) == "postgresql":
        if conn.execute("SELECT to_regclass('assetmap_schema')").fetchone()[0] is None:
            return 0
        return conn.execute("SELECT version FROM assetmap_schema").fetchone()[0]
    return conn.execute("PRAGMA user_version").fetchone()[0]


def _set_version(conn, version: int) -> None:
    if _engine(conn) == "postgresql":
        # PostgreSQL has no user_version: a table of one row keeps it, made with the first.
        conn.execute(
            "CREATE TABLE IF NOT EXISTS assetmap_schema (version INTEGER NOT NULL, "
            "only_row BOOLEAN PRIMARY KEY DEFAULT TRUE CHECK (only_row))"
        )
        conn.execute(
            "INSERT INTO assetmap_schema (version) VALUES (?) "
            "ON CONFLICT (only_row) DO UPDATE SET version = excluded.version",
            (version,),
        )
    else:
        conn.execute(f"PRAGMA user_version = {version:d}")


def migrate(conn) -> list[str]:
    """Apply every migration the database has not had, each in its own transaction.

    Returns the descriptions of those applied (empty when already current), so that
    `assetmap init` can say what it did and is safe to run any number of times.
    """
    applied = []
    engine = _engine(conn)
    while True:
        # The version is read inside the write lock, so two processes starting together
        # (gunicorn workers) cannot both apply the same migration.
        conn.execute("BEGIN IMMEDIATE")
        try:
            version = current_version(conn)
            if version > SCHEMA_VERSION:
                raise RuntimeError(
                    f"the database is at schema version {version}, newer than this assetmap "
                    f"({SCHEMA_VERSION}); upgrade assetmap before using it"
                )
            if version == SCHEMA_VERSION:
                conn.execute("COMMIT")
                return applied
            for statement in statements(version, engine):
                conn.execute(statement)
            _set_version(conn, version + 1)
        except BaseException:
            conn.execute("ROLLBACK")
            raise
        conn.execute("COMMIT")
        applied.append(MIGRATIONS[version][0])
