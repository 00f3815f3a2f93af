"""How answers travel: compressed, static files kept by browsers for a year under names made
from their bytes, and the GeoJSON API answering "not changed" (304) to a copy still current.

- **Compression** (Flask-Compress, brotli or gzip as the browser asks): pages, JSON, GeoJSON,
  CSS and JavaScript. Never a streamed answer (an import's file, sent as it is read) nor a
  format that is compressed already (zip, xlsx, GeoPackage, images): their types are not in
  COMPRESSED_TYPES. `Vary: Accept-Encoding` goes on every answer, so a cache never hands
  brotli to a browser that asked for none.
- **Static files under hashed names.** `url_for('static', filename='js/asset-map.js')` gives
  `/static/js/asset-map.<hash>.js`, the hash from the file's bytes (StaticFiles, the one place
  that computes them: once per file, again only when the file changes on disk). Such a URL is
  served with `Cache-Control: public, max-age=31536000, immutable`, so a second visit fetches
  no static file at all; the URL changes when the bytes do. The plain name still works, with
  `no-cache` (the browser asks again each time, and gets a 304 while the file is the same).
  The folium maps get their script and stylesheet URLs through url_for too (assetmap.maps
  takes a `static_url` function), so Leaflet and markercluster are hashed with the rest.
- **ETags on the API.** The GeoJSON and ORUK GETs carry a strong ETag made from the body sent
  to this request, and answer If-None-Match with a 304 when it still matches. Since the tag
  is the body's, a copy is only confirmed to someone who would be sent the same bytes now,
  whatever their role; `Vary: Cookie` and `Cache-Control: no-cache` (`private` when signed
  in) keep shared caches from handing one person's answer to another.
"""

from __future__ import annotations

import hashlib
import re
from pathlib import Path

from flask import Flask, current_app, request, send_from_directory
from flask_compress import Compress
from flask_login import current_user
from werkzeug.security import safe_join

# What is worth compressing: text formats. Anything else (zip, xlsx, gpkg, png, csv downloads)
# is sent as it is.
COMPRESSED_TYPES = [
    "text/html",
    "text/css",
    "text/javascript",
    "application/javascript",
    "application/json",
    "application/geo+json",
    "image/svg+xml",
]

# A year: the longest browsers honour. Safe only because the URL changes with the bytes.
IMMUTABLE_MAX_AGE = 31_536_000

# The hash in a static file's name: the first 12 hex digits of its SHA-256.
HASH_LENGTH = 12
_HASHED_NAME = re.compile(
    rf"^(?P<stem>.+)\.(?P<digest>[0-9a-f]{{{HASH_LENGTH}}})(?P<suffix>\.[^./]+)$"
)

# The GETs that answer If-None-Match, by endpoint (a name ending in "." covers a blueprint).
CONDITIONAL_ENDPOINTS = {"api.list_assets", "api.get_asset", "search.api_search", "oruk."}

EXTENSION_KEY = "assetmap_static_files"


class StaticFiles:
    """The static folder's files and the hash of each one's bytes.

    A hash is computed the first time a file's URL is made or asked for, and kept with the
    file's size and modification time: it is worked out again only when those change (an
    edited file in development gets a new URL at once, without a restart).
    """

    def __init__(self, folder: str | Path):
        self.folder = Path(folder)
        self._digests: dict[str, tuple[tuple[int, int], str]] = {}

    def digest(self, filename: str) -> str | None:
        """The hash of a static file's bytes, or None when there is no such file."""
        joined = safe_join(str(self.folder), filename)
        if joined is None:
            return None
        path = Path(joined)
        try:
            stat = path.stat()
        except OSError:
            return None
        if not path.is_file():
            return None
        version = (stat.st_mtime_ns, stat.st_size)
        known = self._digests.get(filename)
        if known and known[0] == version:
            return known[1]
        digest = hashlib.sha256(path.read_bytes()).hexdigest()[:HASH_LENGTH]
        self._digests[filename] = (version, digest)
        return digest

    def hashed_name(self, filename: str) -> str:
        """`js/asset-map.js` as `js/asset-map.<hash>.js`; a file with no suffix, or missing,
        keeps its name (a missing file is then a plain 404)."""
        directory, _, name = filename.rpartition("/")
        stem, dot, suffix = name.rpartition(".")
        digest = self.digest(filename) if dot and stem else None
        if digest is None:
            return filename
        return f"{directory}/{stem}.{digest}.{suffix}" if directory else f"{stem}.{digest}.{suffix}"

    def resolve(self, requested: str) -> tuple[str, bool]:
        """The file a requested name serves, and whether the name carries that file's current
        hash (and so may be cached for good). A real file of that very name wins; a hashed
        name whose hash is out of date serves the file as it is now, without the long cache,
        so a page from before a deploy still works."""
        if self.digest(requested) is not None:
            return requested, False
        directory, slash, name = requested.rpartition("/")
        match = _HASHED_NAME.match(name)
        if not match:
            return requested, False
        original = f"{directory}{slash}{match['stem']}{match['suffix']}"
        return original, self.digest(original) == match["digest"]


def static_files() -> StaticFiles:
    return current_app.extensions[EXTENSION_KEY]


def serve_static(filename: str):
    """Flask's static view, replaced: hashed names cached for a year, plain names revalidated,
    and the file read whole so that it can be compressed (these files are small)."""
    original, current = static_files().resolve(filename)
    response = send_from_directory(
        current_app.static_folder,
        original,
        max_age=IMMUTABLE_MAX_AGE if current else None,
        conditional=False,  # below, without byte ranges: a range of a compressed body is wrong
    )
    if current:
        response.cache_control.immutable = True
        response.headers.pop("Expires", None)  # max-age says it; Expires only repeats it
    opened = response.response  # the open file, read whole and closed here
    try:
        data = b"".join(opened)
    finally:
        opened.close()
    response.direct_passthrough = False
    response.set_data(data)
    response.make_conditional(request)
    return response


def _hash_static_urls(endpoint: str, values: dict) -> None:
    """url_for's hook: every static URL the app makes carries its file's hash."""
    if endpoint == "static" and "filename" in values:
        values["filename"] = static_files().hashed_name(values["filename"])


def is_conditional(endpoint: str | None) -> bool:
    if not endpoint:
        return False
    return any(
        endpoint.startswith(name) if name.endswith(".") else endpoint == name
        for name in CONDITIONAL_ENDPOINTS
    )


def add_etag(response):
    """A strong ETag from the body of a successful API GET, a 304 when If-None-Match holds it,
    and the headers that keep the answer out of other people's caches."""
    if (
        request.method not in ("GET", "HEAD")
        or response.status_code != 200
        or response.is_streamed
        or not is_conditional(request.endpoint)
    ):
        return response
    response.vary.add("Cookie")
    response.cache_control.no_cache = True
    if current_user.is_authenticated:
        response.cache_control.private = True
    response.add_etag()
    response.make_conditional(request)
    return response


def init_app(app: Flask) -> None:
    """Call this before anything else registers an after_request function: Flask runs them
    last-registered first, so this one runs last, and compresses the body the others made."""
    app.config.setdefault("COMPRESS_MIMETYPES", COMPRESSED_TYPES)
    app.config.setdefault("COMPRESS_ALGORITHM", ["br", "gzip"])
    app.config.setdefault("COMPRESS_STREAMS", False)  # a streamed download goes as it is
    app.config["COMPRESS_REGISTER"] = False  # run from `deliver` below, after the ETag
    compress = Compress()
    compress.init_app(app)

    app.extensions[EXTENSION_KEY] = StaticFiles(app.static_folder)
    app.view_functions["static"] = serve_static
    app.url_defaults(_hash_static_urls)

    def deliver(response):
        return compress.after_request(add_etag(response))

    app.after_request(deliver)
