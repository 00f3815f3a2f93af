"""What changed between two versions of an asset, field by field, in words. No Flask import."""

from __future__ import annotations

import json
from dataclasses import dataclass

from assetmap.record import describe, fields, taxonomy


@dataclass(frozen=True)
class FieldChange:
    label: str
    before: str
    after: str


def shown(field: fields.Field, value) -> str:
    """A field's value as a person reads it."""
    if value is None or value == [] or value == "":
        return "(empty)"
    if field.type == fields.BOOLEAN:
        return "yes" if value else "no"
    if field.name == "strand":
        return taxonomy.label(taxonomy.STRANDS, value)
    if field.name == "approach":
        return taxonomy.approach_label(value)
    if field.type == fields.CHOICE and field.vocabulary:
        return taxonomy.label(field.vocabulary, value)
    if field.type == fields.CHOICES and field.vocabulary:
        return ", ".join(describe.labels(field.vocabulary, value))
    if field.type == fields.TEXT_LIST:
        return ", ".join(value)
    if field.type == fields.SCHEDULE:
        return "; ".join(describe.schedule_in_words(value)) or "(empty)"
    if field.type == fields.GEOMETRY:
        return json.dumps(value)
    return str(value)


def changes(previous: dict | None, record: dict | None) -> list[FieldChange]:
    """Each field whose value differs, with its value before and after."""
    previous, record = previous or {}, record or {}
    return [
        FieldChange(
            field.label,
            shown(field, previous.get(field.name)),
            shown(field, record.get(field.name)),
        )
        for field in fields.FIELDS
        if previous.get(field.name) != record.get(field.name)
    ]
