"""The OpenAPI 3 document for /api, built from the taxonomy, the field list and the declared
query parameters (assetmap.search.parameters), so it cannot drift from what the API accepts and
returns.

tests/test_api_schema.py runs schemathesis over it against the app: every request the document
allows must be answered without a server error, every request it forbids must be refused, and
every answer must match it. The few rules OpenAPI 3.0 cannot state (one search centre, a
bounding box's order, a time range's order, a postcode that must be known) are written in the
descriptions here, and that test lists them.
"""

from __future__ import annotations

from assetmap.coverage import report as coverage_report
from assetmap.openreferral import query as oruk
from assetmap.record import fields, taxonomy
from assetmap.search import nearby as search
from assetmap.search import parameters
from assetmap.search.parameters import Parameter
from assetmap.web.security import MAX_HEADER_BYTES, MAX_URL_BYTES

_JSON_SCHEMA_TYPES = {
    fields.INTEGER: {"type": "integer"},
    fields.NUMBER: {"type": "number"},
    fields.BOOLEAN: {"type": "boolean"},
    fields.CHOICES: {"type": "array", "items": {"type": "string"}},
    fields.TEXT_LIST: {"type": "array", "items": {"type": "string"}},
    fields.SCHEDULE: {"$ref": "#/components/schemas/Schedule"},
    fields.GEOMETRY: {"type": "object", "description": "GeoJSON Polygon or MultiPolygon"},
    fields.DATE: {"type": "string", "format": "date"},
    fields.URL: {"type": "string", "format": "uri"},
    fields.EMAIL: {"type": "string", "format": "email"},
}

_HOUR = "([01][0-9]|2[0-3]):[0-5][0-9]"
# What assetmap.record.schedules.parse_time_window reads, in its plainest spelling.
_TIME_PATTERN = f"^(morning|afternoon|evening|{_HOUR}-({_HOUR}|24:00))$"
# A session's start or end, as validation stores it.
_CLOCK = {"type": "string", "pattern": f"^{_HOUR}$", "nullable": True}


def _property(field: fields.Field) -> dict:
    schema = dict(_JSON_SCHEMA_TYPES.get(field.type, {"type": "string"}))
    if field.vocabulary is not None:
        enum = [t.slug for t in field.vocabulary]
        if field.type == fields.CHOICES:
            schema["items"] = {"type": "string", "enum": enum}
        else:
            schema["enum"] = enum
    if "$ref" not in schema:  # Schedule is nullable itself: a $ref takes no siblings in 3.0
        schema["description"] = field.label + (f": {field.help}" if field.help else "")
        schema["nullable"] = not field.required
    return schema


def _number(p: Parameter, kind: str) -> dict:
    high = parameters.SQLITE_MAX_INTEGER if p.high is None else p.high
    schema = {"type": kind, "minimum": p.low}
    if p.above_low:
        schema["exclusiveMinimum"] = True
    return schema | {"maximum": high}


def _terms(p: Parameter) -> dict:
    return {"type": "array", "items": {"type": "string", "enum": list(p.slugs)}}


# Each kind of parameter as a JSON schema (the declaration's default and example are added).
_SCHEMAS = {
    parameters.TEXT: lambda p: (
        {"type": "string"} | ({"maxLength": p.max_length} if p.max_length is not None else {})
    ),
    parameters.NUMBER: lambda p: _number(p, "number"),
    parameters.WHOLE_NUMBER: lambda p: _number(p, "integer"),
    parameters.YES_NO: lambda p: {"type": "boolean"},
    parameters.TERMS: _terms,
    parameters.ONE_OF: lambda p: {"type": "string", "enum": list(p.slugs)},
    parameters.TIME_OF_DAY: lambda p: {"type": "string", "pattern": _TIME_PATTERN},
    parameters.BOX: lambda p: {
        "type": "array",
        "items": {"type": "number", "minimum": -180, "maximum": 180},
        "minItems": 4,
        "maxItems": 4,
    },
}
# How a list is sent: comma-separated or repeated (explode), or one comma-separated value.
_STYLES = {
    parameters.TERMS: {"style": "form", "explode": True},
    parameters.BOX: {"style": "form", "explode": False},
}


def _query(p: Parameter) -> dict:
    """A declared parameter, optional as all of them are. Every one may be sent empty, which
    is the same as leaving it out (HTML forms send their empty fields; assetmap.search.parameters
    reads them so)."""
    schema = _SCHEMAS[p.kind](p)
    if p.default not in (None, ""):
        schema["default"] = p.default
    if p.example is not None:
        schema["example"] = list(p.example) if isinstance(p.example, tuple) else p.example
    description = p.help
    if p.repeats:
        description += " Several may be given, comma-separated or repeated."
    parameter = {"name": p.name, "in": "query", "schema": schema, "allowEmptyValue": True}
    return parameter | {"description": description} | _STYLES.get(p.kind, {})


_ERROR = {"$ref": "#/components/schemas/Error"}


def _error(description: str) -> dict:
    return {"description": description, "content": {"application/json": {"schema": _ERROR}}}


# Answers any request can get: the address or the headers too large (see web/security.py).
_SIZES = "details: {limit_bytes, size_bytes}"
_SIZE_ERRORS = {
    "414": _error(f"The address is longer than {MAX_URL_BYTES} bytes; {_SIZES}"),
    "431": _error(f"The headers are larger than {MAX_HEADER_BYTES} bytes; {_SIZES}"),
}


def _responses(ok: dict, errors: dict | None = None) -> dict:
    """The 200 answer, the operation's own errors, and the two any request can get."""
    return {"200": ok} | (errors or {}) | _SIZE_ERRORS


def _bad_parameter() -> dict:
    return _error('A bad parameter, named in the error and in details: {"parameter": name}')


def _geojson(description: str, schema: str) -> dict:
    return {
        "description": description,
        "content": {"application/geo+json": {"schema": {"$ref": f"#/components/schemas/{schema}"}}},
    }


# When an asset was last checked, in words (assetmap/freshness/stale.py): sent with one asset
# (/api/v1/assets/{id}) and with each search result; last_verified is the date itself.
_CHECKED = {
    "last_checked_words": {
        "type": "string",
        "description": 'When the details were last checked, in words: "Last checked 3 months '
        'ago", "Last checked over a year ago", or "Never checked".',
        "example": "Last checked 3 months ago",
    },
    "stale": {
        "type": "boolean",
        "description": "True when the details were not checked for over "
        "ASSETMAP_STALE_AFTER_MONTHS months (12 by default), or never: pages say 'Not checked "
        "for over a year', and search puts these after others at a similar distance.",
    },
}


def _schemas(public_properties: dict) -> dict:
    feature_collection = {
        "type": {"type": "string", "enum": ["FeatureCollection"]},
        "total": {"type": "integer"},
        "limit": {"type": "integer"},
        "offset": {"type": "integer"},
        "next": {"type": "string", "nullable": True},
        "attribution": {"type": "string"},
    }
    search_properties = {
        **_CHECKED,
        "matched": {
            "type": "array",
            "items": {"type": "string"},
            "description": "The keywords (q) this asset matched, as typed, in the order typed; "
            "empty without q. Assets matching more of them come first.",
        },
        "distance_m": {"type": "number", "description": "Great-circle distance, metres"},
        "walking_minutes": {"type": "integer"},
        "next_session": {
            "type": "object",
            "nullable": True,
            "required": ["date", "words", "certain"],
            "properties": {
                "date": {"type": "string", "format": "date"},
                "words": {"type": "string"},
                "certain": {"type": "boolean"},
            },
        },
    }
    return {
        "CoverageAreas": _coverage_schema(),
        "Error": {
            "type": "object",
            "required": ["error"],
            "properties": {"error": {"type": "string"}, "details": {}},
        },
        "Schedule": {
            "type": "object",
            "nullable": True,
            "description": "Regular sessions and notes; null when nothing is known",
            "required": ["sessions", "notes"],
            "properties": {
                "sessions": {
                    "type": "array",
                    "items": {
                        "type": "object",
                        "required": ["day", "frequency", "start", "end"],
                        "properties": {
                            "day": {"type": "string", "enum": [d.slug for d in taxonomy.DAYS]},
                            "frequency": {
                                "type": "string",
                                "enum": [f.slug for f in taxonomy.FREQUENCIES],
                            },
                            # null: no stated time ("Drop in on Wednesday afternoons").
                            "start": _CLOCK | {"example": "10:00"},
                            "end": _CLOCK | {"example": "12:00"},
                        },
                    },
                },
                "notes": {"type": "string"},
            },
        },
        "Asset": {
            "type": "object",
            "required": ["type", "id", "geometry", "properties"],
            "properties": {
                "type": {"type": "string", "enum": ["Feature"]},
                "id": {"type": "string"},
                "geometry": {
                    "type": "object",
                    "description": "GeoJSON Point [longitude, latitude]",
                },
                "properties": {"type": "object", "properties": public_properties | _CHECKED},
            },
        },
        "AssetCollection": {
            "type": "object",
            "required": ["type", "total", "limit", "offset", "next", "features"],
            "properties": feature_collection
            | {"features": {"type": "array", "items": {"$ref": "#/components/schemas/Asset"}}},
        },
        "SearchResults": {
            "type": "object",
            "required": ["type", "centre", "radius_km", "total", "limit", "offset", "features"],
            "properties": feature_collection
            | {
                "centre": {
                    "type": "object",
                    "required": ["lat", "lon", "resolved_by"],
                    "properties": {
                        "lat": {"type": "number"},
                        "lon": {"type": "number"},
                        "resolved_by": {
                            "type": "string",
                            "enum": ["postcode", "sector", "district", search.COORDINATES],
                        },
                        "label": {"type": "string"},
                        "description": {"type": "string"},
                    },
                },
                "radius_km": {"type": "number"},
                "features": {
                    "type": "array",
                    "items": {
                        "allOf": [
                            {"$ref": "#/components/schemas/Asset"},
                            {
                                "type": "object",
                                "properties": {
                                    "properties": {
                                        "type": "object",
                                        "required": list(search_properties),
                                        "properties": search_properties,
                                    }
                                },
                            },
                        ]
                    },
                },
            },
        },
    }


def openapi_document() -> dict:
    public_properties = {
        f.name: _property(f)
        for f in fields.FIELDS
        if not f.professional and f.name not in ("lat", "lon")
    }
    return {
        "openapi": "3.0.3",
        "info": {
            "title": "assetmap API",
            "version": "1",
            "description": "Community assets tagged by strand and location. Geographic answers "
            "are GeoJSON; errors are JSON {error, details} with a 4xx status. A parameter sent "
            "empty is the same as one left out; when one is given twice, the last counts.",
        },
        "paths": {
            "/api/v1/assets": {
                "get": {
                    "summary": "List open assets as a GeoJSON FeatureCollection, a page at a time",
                    "parameters": [_query(p) for p in parameters.LISTING_PARAMETERS],
                    "responses": _responses(
                        _geojson(
                            "A page of assets; `next` is the next page or null", "AssetCollection"
                        ),
                        {"400": _bad_parameter()},
                    ),
                }
            },
            "/api/v1/search": {
                "get": {
                    "summary": "Assets near a postcode or a point, nearest first (or best match)",
                    "description": "Each feature's properties add matched (the keywords it "
                    "matched: several words find assets matching any of them, those matching "
                    "more first), distance_m (great-circle, "
                    "metres), walking_minutes (distance x 1.3 for streets, at 4.8 km/h, rounded "
                    "up), next_session ({date, words, certain} or null), last_checked_words and "
                    "stale. Nearest first is by band of 500 m, listings not checked for over "
                    "ASSETMAP_STALE_AFTER_MONTHS (12) months after fresh ones in the same band; "
                    "ASSETMAP_HIDE_UNCHECKED_AFTER_MONTHS leaves long-unchecked ones out. "
                    "The top level "
                    "gives the resolved centre (resolved_by: postcode, sector, district or "
                    "coordinates), total, limit, offset and next. Paused, closed and archived "
                    "assets are left out. The centre is a postcode, or lat and lon: one of the "
                    "two is needed, and not both.",
                    "parameters": [_query(p) for p in search.PARAMETERS],
                    "responses": _responses(
                        _geojson("Nearby assets", "SearchResults"),
                        {
                            "400": _bad_parameter(),
                            "422": _error(
                                "A postcode that is not one, or cannot be placed "
                                "(details.reason: invalid or not_found)"
                            ),
                        },
                    ),
                }
            },
            "/api/v1/coverage": {
                "get": {
                    "summary": "Areas with their deprivation, population and reach by strand",
                    "description": "A GeoJSON FeatureCollection of the areas of a level "
                    "(polygons, WGS84), highest gap for the strand first. For each area and "
                    "strand: share (of its postcodes with at least one running asset within "
                    "the walk), mean (assets within the walk of its postcodes) and gap "
                    f"({coverage_report.GAP_FORMULA}); null where the area has no postcodes "
                    "or no IMD decile. No features when no areas of the level are loaded.",
                    "parameters": [_query(p) for p in coverage_report.PARAMETERS],
                    "responses": _responses(
                        _geojson("The areas and their figures", "CoverageAreas"),
                        {"400": _bad_parameter()},
                    ),
                }
            },
            "/api/v1/assets/{id}": {
                "get": {
                    "summary": "One asset as a GeoJSON Feature",
                    "parameters": [
                        {"name": "id", "in": "path", "required": True, "schema": {"type": "string"}}
                    ],
                    "responses": _responses(
                        _geojson("The asset", "Asset"), {"404": _error("No such asset")}
                    ),
                }
            },
            "/api/v1/taxonomy": {
                "get": {
                    "summary": "Strands, approaches, kinds, categories, audiences and other terms",
                    "responses": _responses(
                        {"description": "The taxonomy", "content": {"application/json": {}}}
                    ),
                }
            },
            **_oruk_paths(),
            "/api/openapi.json": {
                "get": {
                    "summary": "This document",
                    "responses": _responses(
                        {
                            "description": "OpenAPI 3 document",
                            "content": {"application/json": {}},
                        }
                    ),
                }
            },
        },
        "components": {"schemas": _schemas(public_properties) | _ORUK_SCHEMAS},
    }


# ---------------------------------------------------------------------------------------------
# The Open Referral UK 3.0 API (/api/oruk/): its objects are the standard's own, described in
# full by its schemas; here they are named with the fields every answer carries.
# ---------------------------------------------------------------------------------------------

_STANDARD = "https://raw.githubusercontent.com/openreferral/uk-profile/main/schema/"
_UUID = {"type": "string", "format": "uuid"}


def _oruk_object(required: tuple[str, ...], standard: str, extra: dict | None = None) -> dict:
    properties = {name: {"type": "string"} for name in required} | {"id": _UUID}
    return {
        "type": "object",
        "description": f"As the standard's {_STANDARD}{standard} describes it",
        "required": list(required),
        "properties": properties | (extra or {}),
    }


_ORUK_SCHEMAS = {
    "OrukService": _oruk_object(
        ("id", "name", "status"),
        "compiled/service.json",
        {
            "status": {
                "type": "string",
                "enum": ["active", "inactive", "defunct", "temporarily closed"],
            }
        },
    ),  # fmt: skip
    "OrukServiceAtLocation": _oruk_object(
        ("id", "service", "location"),
        "compiled/service_at_location.json",
        {
            "service": {"$ref": "#/components/schemas/OrukService"},
            "location": {"type": "object"},
        },
    ),
    "OrukTaxonomy": _oruk_object(("id", "name", "description"), "taxonomy.json"),
    "OrukTaxonomyTerm": _oruk_object(("id", "name", "description"), "taxonomy_term.json"),
}


def _oruk_query(p: oruk.OrukParameter) -> dict:
    """An ORUK parameter; sent empty, it is the same as left out, as everywhere in /api."""
    return {
        "name": p.name,
        "in": "query",
        "schema": p.schema,
        "allowEmptyValue": True,
        "description": p.help,
    }


def _oruk_page(item: str) -> dict:
    envelope = {
        "total_items": {"type": "integer"},
        "total_pages": {"type": "integer"},
        "page_number": {"type": "integer"},
        "size": {"type": "integer"},
        "first_page": {"type": "boolean"},
        "last_page": {"type": "boolean"},
        "empty": {"type": "boolean"},
        "contents": {"type": "array", "items": {"$ref": f"#/components/schemas/{item}"}},
    }
    schema = {"type": "object", "required": list(envelope), "properties": envelope}
    return {"description": "A page, in the standard's envelope",
            "content": {"application/json": {"schema": schema}}}  # fmt: skip


def _oruk_one(item: str, description: str) -> dict:
    schema = {"$ref": f"#/components/schemas/{item}"}
    return {"description": description, "content": {"application/json": {"schema": schema}}}


def _oruk_get(summary: str, ok: dict, parameters=(), errors: dict | None = None) -> dict:
    operation = {"summary": summary, "responses": _responses(ok, errors)}
    if parameters:
        operation["parameters"] = [_oruk_query(p) for p in parameters]
    return {"get": operation}


def _oruk_by_id(summary: str, item: str, what: str) -> dict:
    path_id = {"name": "id", "in": "path", "required": True, "schema": {"type": "string"}}
    found = _oruk_get(
        summary, _oruk_one(item, f"The {what}"), (), {"404": _error(f"No such {what}")}
    )
    found["get"]["parameters"] = [path_id]
    return found


def _oruk_paths() -> dict:
    """The ORUK 3.0 routes (assetmap/web/openreferral.py), with the parameters each reads
    (assetmap.openreferral.query)."""
    filtered = {
        "400": _bad_parameter(),
        "422": _error("A postcode that is not one, or cannot be placed (details.reason)"),
    }
    rules = (
        " Every answer may be read from any site (CORS *). A proximity needs a postcode; with a "
        "postcode, services are nearest first and only running ones are found."
    )
    return {
        "/api/oruk/": _oruk_get(
            "Open Referral UK 3.0: this API's version, profile and OpenAPI address",
            {
                "description": "version, profile and openapi_url",
                "content": {
                    "application/json": {
                        "schema": {
                            "type": "object",
                            "required": ["version", "profile", "openapi_url"],
                            "properties": {
                                "version": {"type": "string"},
                                "profile": {"type": "string"},
                                "openapi_url": {"type": "string"},
                            },
                        }
                    }
                },
            },
        ),  # fmt: skip
        "/api/oruk/services": _oruk_get(
            "Services (Open Referral UK 3.0), by name or nearest first." + rules,
            _oruk_page("OrukService"),
            oruk.PARAMETERS,
            filtered,
        ),
        "/api/oruk/services/{id}": _oruk_by_id(
            "One full service by its UUID", "OrukService", "service"
        ),
        "/api/oruk/service_at_locations": _oruk_get(
            "Services at their locations (Open Referral UK 3.0)." + rules,
            _oruk_page("OrukServiceAtLocation"),
            oruk.PARAMETERS,
            filtered,
        ),
        "/api/oruk/service_at_locations/{id}": _oruk_by_id(
            "One service at its location by its UUID",
            "OrukServiceAtLocation",
            "service_at_location",
        ),  # fmt: skip
        "/api/oruk/taxonomies": _oruk_get(
            "The taxonomies: community-centred approaches, kinds, categories, audiences",
            _oruk_page("OrukTaxonomy"),
            oruk.PAGING,
            {"400": _bad_parameter()},
        ),
        "/api/oruk/taxonomies/{id}": _oruk_by_id(
            "One taxonomy by its UUID", "OrukTaxonomy", "taxonomy"
        ),
        "/api/oruk/taxonomy_terms": _oruk_get(
            "Taxonomy terms, with their taxonomy and parent",
            _oruk_page("OrukTaxonomyTerm"),
            oruk.TERM_PARAMETERS,
            {"400": _bad_parameter()},
        ),
        "/api/oruk/taxonomy_terms/{id}": _oruk_by_id(
            "One taxonomy term by its UUID", "OrukTaxonomyTerm", "taxonomy term"
        ),
    }


def _coverage_schema() -> dict:
    """GET /api/v1/coverage's answer (assetmap/coverage/report.py `feature_collection`)."""
    number = {"type": "number", "nullable": True}
    whole = {"type": "integer", "nullable": True}
    strand = {
        "type": "object",
        "required": ["share", "mean", "gap"],
        "properties": {
            "share": number | {"minimum": 0, "maximum": 1},
            "mean": number | {"minimum": 0},
            "gap": number | {"minimum": 0, "maximum": 1},
        },
    }
    area = {
        "code": {"type": "string", "description": "ONS area code"},
        "name": {"type": "string"},
        "ward": {"type": "string", "nullable": True, "description": "An LSOA's ward, if loaded"},
        "postcodes": {"type": "integer"},
        "population": whole,
        "imd_rank": whole | {"minimum": 1},
        "imd_decile": whole | {"minimum": 1, "maximum": 10},
        "assets_inside": {"type": "integer"},
        "assets_per_1000": number,
        "strands": {
            "type": "object",
            "required": [s.slug for s in taxonomy.STRANDS],
            "properties": {s.slug: strand for s in taxonomy.STRANDS},
        },
    }
    return {
        "type": "object",
        "required": ["type", "level", "strand", "kinds", "walk_minutes", "features"],
        "properties": {
            "type": {"type": "string", "enum": ["FeatureCollection"]},
            "level": {"type": "string"},
            "strand": {"type": "string"},
            "kinds": {"type": "array", "items": {"type": "string"}},
            "walk_minutes": {"type": "integer"},
            "gap_formula": {"type": "string"},
            "features": {
                "type": "array",
                "items": {
                    "type": "object",
                    "required": ["type", "id", "geometry", "properties"],
                    "properties": {
                        "type": {"type": "string", "enum": ["Feature"]},
                        "id": {"type": "string"},
                        "geometry": {"type": "object", "description": "Polygon or MultiPolygon"},
                        "properties": {
                            "type": "object",
                            "required": list(area),
                            "properties": area,
                        },
                    },
                },
            },
        },
    }
