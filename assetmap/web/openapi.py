"""The OpenAPI 3 document for /api, built from the taxonomy and the field list so it cannot
drift from what the API accepts and returns."""

from __future__ import annotations

from assetmap import fields, taxonomy
from assetmap.queries import DEFAULT_LIMIT, MAX_LIMIT

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


def _property(field: fields.Field) -> dict:
    schema = dict(_JSON_SCHEMA_TYPES.get(field.type, {"type": "string"}))
    if field.vocabulary is not None:
        enum = [t.slug for t in field.vocabulary]
        if field.type == fields.CHOICES:
            schema["items"] = {"type": "string", "enum": enum}
        else:
            schema["enum"] = enum
    if "$ref" not in schema:
        schema["description"] = field.label + (f": {field.help}" if field.help else "")
        schema["nullable"] = not field.required
    return schema


def _list_parameter(name: str, terms, description: str) -> dict:
    return {
        "name": name,
        "in": "query",
        "description": description + " Several may be given, comma-separated or repeated.",
        "schema": {"type": "array", "items": {"type": "string", "enum": [t.slug for t in terms]}},
        "style": "form",
        "explode": True,
    }


def openapi_document() -> dict:
    public_properties = {
        f.name: _property(f)
        for f in fields.FIELDS
        if not f.professional and f.name not in ("lat", "lon")
    }
    error = {"$ref": "#/components/schemas/Error"}
    return {
        "openapi": "3.0.3",
        "info": {
            "title": "assetmap API",
            "version": "1",
            "description": "Community assets tagged by strand and location. Geographic answers "
            "are GeoJSON; errors are JSON {error, details} with a 4xx status.",
        },
        "paths": {
            "/api/v1/assets": {
                "get": {
                    "summary": "List open assets as a GeoJSON FeatureCollection, a page at a time",
                    "parameters": [
                        _list_parameter("strand", taxonomy.STRANDS, "Only these strands."),
                        _list_parameter("kind", taxonomy.KINDS, "Only these kinds."),
                        _list_parameter(
                            "category",
                            taxonomy.CATEGORIES,
                            "Only assets in any of these activity categories.",
                        ),
                        _list_parameter(
                            "accessible",
                            taxonomy.ACCESSIBILITY,
                            "Only assets that have all of these.",
                        ),
                        _list_parameter(
                            "day", taxonomy.DAYS, "Only assets with a session on any of these days."
                        ),
                        {
                            "name": "free",
                            "in": "query",
                            "description": "true for free assets only",
                            "schema": {"type": "boolean", "default": False},
                        },
                        {
                            "name": "fields",
                            "in": "query",
                            "description": "Comma-separated property names to send (all public "
                            "fields when absent), for lighter pages such as the map's.",
                            "schema": {"type": "string", "example": "name,kind,strand"},
                        },
                        {
                            "name": "bbox",
                            "in": "query",
                            "description": "min_lon,min_lat,max_lon,max_lat (WGS84)",
                            "schema": {"type": "string", "example": "-2.5,53.35,-2.2,53.48"},
                        },
                        {
                            "name": "limit",
                            "in": "query",
                            "description": f"Page size; values above {MAX_LIMIT} are capped.",
                            "schema": {"type": "integer", "minimum": 1, "default": DEFAULT_LIMIT},
                        },
                        {
                            "name": "offset",
                            "in": "query",
                            "schema": {"type": "integer", "minimum": 0, "default": 0},
                        },
                    ],
                    "responses": {
                        "200": {
                            "description": "A page of assets; `next` is the next page or null",
                            "content": {
                                "application/geo+json": {
                                    "schema": {"$ref": "#/components/schemas/AssetCollection"}
                                }
                            },
                        },
                        "400": {
                            "description": "A bad parameter, named in the error",
                            "content": {"application/json": {"schema": error}},
                        },
                    },
                }
            },
            "/api/v1/search": {
                "get": {
                    "summary": "Assets near a postcode or a point, nearest first (or best match)",
                    "description": "Each feature's properties add distance_m (great-circle, "
                    "metres), walking_minutes (distance x 1.3 for streets, at 4.8 km/h, rounded "
                    "up) and next_session ({date, words, certain} or null). The top level "
                    "gives the resolved centre (resolved_by: postcode, sector, district or "
                    "coordinates), total, limit, offset and next. Paused, closed and archived "
                    "assets are left out.",
                    "parameters": [
                        {
                            "name": "postcode",
                            "in": "query",
                            "description": "A UK postcode, sector (M33 7) or district (M33); "
                            "a postcode not in the table is placed at its sector or district",
                            "schema": {"type": "string", "example": "M33 7ZF"},
                        },
                        {
                            "name": "lat",
                            "in": "query",
                            "schema": {"type": "number"},
                            "description": "Instead of postcode, with lon",
                        },
                        {"name": "lon", "in": "query", "schema": {"type": "number"}},
                        {
                            "name": "radius_km",
                            "in": "query",
                            "schema": {"type": "number", "default": 2, "maximum": 50},
                        },
                        {
                            "name": "q",
                            "in": "query",
                            "description": "Keywords (any text; prefix matching and stemming)",
                            "schema": {"type": "string"},
                        },
                        _list_parameter("strand", taxonomy.STRANDS, "Only these strands."),
                        _list_parameter(
                            "approach",
                            tuple(a for st in taxonomy.STRANDS for a in st.approaches),
                            "Only these approaches.",
                        ),
                        _list_parameter("category", taxonomy.CATEGORIES, "Any of these."),
                        _list_parameter("audience", taxonomy.AUDIENCES, "Any of these."),
                        _list_parameter("kind", taxonomy.KINDS, "Only these kinds."),
                        _list_parameter("accessible", taxonomy.ACCESSIBILITY, "All of these."),
                        _list_parameter("day", taxonomy.DAYS, "A session on any of these days."),
                        {
                            "name": "age",
                            "in": "query",
                            "schema": {"type": "integer", "minimum": 0, "maximum": 120},
                        },
                        {
                            "name": "time",
                            "in": "query",
                            "description": "morning, afternoon, evening, or HH:MM-HH:MM",
                            "schema": {"type": "string", "example": "14:00-17:00"},
                        },
                        {"name": "free", "in": "query", "schema": {"type": "boolean"}},
                        {"name": "self_referral", "in": "query", "schema": {"type": "boolean"}},
                        {
                            "name": "order",
                            "in": "query",
                            "schema": {"type": "string", "enum": ["distance", "relevance"]},
                        },
                        {
                            "name": "limit",
                            "in": "query",
                            "schema": {
                                "type": "integer",
                                "minimum": 1,
                                "maximum": 200,
                                "default": 20,
                            },
                        },
                        {
                            "name": "offset",
                            "in": "query",
                            "schema": {"type": "integer", "minimum": 0, "maximum": 10000},
                        },
                    ],
                    "responses": {
                        "200": {
                            "description": "Nearby assets",
                            "content": {
                                "application/geo+json": {
                                    "schema": {"$ref": "#/components/schemas/AssetCollection"}
                                }
                            },
                        },
                        "400": {
                            "description": "A bad parameter, named in the error",
                            "content": {"application/json": {"schema": error}},
                        },
                        "422": {
                            "description": "A postcode that is not one, or cannot be "
                            "placed (details.reason: invalid or not_found)",
                            "content": {"application/json": {"schema": error}},
                        },
                    },
                }
            },
            "/api/v1/assets/{id}": {
                "get": {
                    "summary": "One asset as a GeoJSON Feature",
                    "parameters": [
                        {"name": "id", "in": "path", "required": True, "schema": {"type": "string"}}
                    ],
                    "responses": {
                        "200": {
                            "description": "The asset",
                            "content": {
                                "application/geo+json": {
                                    "schema": {"$ref": "#/components/schemas/Asset"}
                                }
                            },
                        },
                        "404": {
                            "description": "No such asset",
                            "content": {"application/json": {"schema": error}},
                        },
                    },
                }
            },
            "/api/v1/taxonomy": {
                "get": {
                    "summary": "Strands, approaches, kinds, categories, audiences and other terms",
                    "responses": {
                        "200": {"description": "The taxonomy", "content": {"application/json": {}}}
                    },
                }
            },
            "/api/openapi.json": {
                "get": {
                    "summary": "This document",
                    "responses": {
                        "200": {
                            "description": "OpenAPI 3 document",
                            "content": {"application/json": {}},
                        }
                    },
                }
            },
        },
        "components": {
            "schemas": {
                "Error": {
                    "type": "object",
                    "required": ["error"],
                    "properties": {"error": {"type": "string"}, "details": {}},
                },
                "Schedule": {
                    "type": "object",
                    "properties": {
                        "sessions": {
                            "type": "array",
                            "items": {
                                "type": "object",
                                "properties": {
                                    "day": {
                                        "type": "string",
                                        "enum": [d.slug for d in taxonomy.DAYS],
                                    },
                                    "frequency": {
                                        "type": "string",
                                        "enum": [f.slug for f in taxonomy.FREQUENCIES],
                                    },
                                    "start": {"type": "string", "example": "10:00"},
                                    "end": {"type": "string", "example": "12:00"},
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
                        "properties": {"type": "object", "properties": public_properties},
                    },
                },
                "AssetCollection": {
                    "type": "object",
                    "properties": {
                        "type": {"type": "string", "enum": ["FeatureCollection"]},
                        "total": {"type": "integer"},
                        "limit": {"type": "integer"},
                        "offset": {"type": "integer"},
                        "next": {"type": "string", "nullable": True},
                        "attribution": {"type": "string"},
                        "features": {
                            "type": "array",
                            "items": {"$ref": "#/components/schemas/Asset"},
                        },
                    },
                },
            }
        },
    }
