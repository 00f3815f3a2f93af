"""The coordinator's asset form: which fields it shows, how each is entered, and how a
submitted form becomes a raw record for assetmap.record.validation. No Flask import.

The form is made from assetmap.record.fields, so a new field appears on it without template work,
and it is checked by the same validate_asset as imports and loads, so its errors read the same.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass

from assetmap.record import fields, taxonomy
from assetmap.record.fields import Field

# Set by the system or by their own actions (archive), not typed into the form.
NOT_ON_FORM = frozenset({"id", "archived", "source", "source_id", "position_source"})
SCHEDULE_BLANK_ROWS = 2
MAX_SCHEDULE_ROWS = 50


@dataclass(frozen=True)
class FormField:
    """A field as the form shows it: the field, its widget, and its options when it has them."""

    field: Field
    widget: str  # text, textarea, select, approach, checkboxes, yes_no, schedule, date, tel
    options: tuple = ()
    input_mode: str | None = None

    @property
    def name(self) -> str:
        return self.field.name


def _widget(field: Field) -> FormField:
    t = field.type
    if field.name == "approach":
        return FormField(field, "approach", taxonomy.STRANDS)
    if t == fields.CHOICE:
        return FormField(field, "select", field.vocabulary)
    if t == fields.CHOICES:
        return FormField(field, "checkboxes", field.vocabulary)
    if t in (fields.MULTILINE, fields.GEOMETRY):
        return FormField(field, "textarea")
    if t == fields.BOOLEAN:
        return FormField(field, "yes_no")
    if t == fields.SCHEDULE:
        return FormField(field, "schedule", (taxonomy.DAYS, taxonomy.FREQUENCIES))
    if t == fields.DATE:
        return FormField(field, "date")
    if t == fields.PHONE:
        return FormField(field, "tel")
    modes = {
        fields.NUMBER: "decimal",
        fields.INTEGER: "numeric",
        fields.EMAIL: "email",
        fields.URL: "url",
    }
    return FormField(field, "text", input_mode=modes.get(t))


FORM_FIELDS: tuple[FormField, ...] = tuple(
    _widget(f) for f in fields.FIELDS if f.name not in NOT_ON_FORM
)


def form_to_raw(form) -> dict:
    """A submitted form (a MultiDict, as request.form is) as a raw record to validate."""
    raw: dict[str, object] = {}
    for form_field in FORM_FIELDS:
        name = form_field.name
        if form_field.widget == "checkboxes":
            raw[name] = form.getlist(name)
        elif form_field.widget == "yes_no":
            raw[name] = {"yes": True, "no": False}.get(form.get(name, ""))
        elif form_field.widget == "schedule":
            raw[name] = _schedule_from_form(form)
        else:
            raw[name] = form.get(name, "")
    return raw


def _schedule_from_form(form) -> dict:
    sessions = []
    for row in range(MAX_SCHEDULE_ROWS):
        cells = {
            part: form.get(f"schedule-{row}-{part}", "").strip()
            for part in ("day", "frequency", "start", "end")
        }
        if cells["day"] or cells["start"] or cells["end"]:
            sessions.append({k: v for k, v in cells.items() if v})
    return {"sessions": sessions, "notes": form.get("schedule-notes", "")}


def schedule_rows(schedule: Mapping | None) -> list[dict]:
    """The schedule's sessions plus blank rows to add more, for the form."""
    sessions = list((schedule or {}).get("sessions") or [])
    return sessions + [{} for _ in range(SCHEDULE_BLANK_ROWS)]


def form_values(record: Mapping, refused: Mapping | None = None) -> dict:
    """What each input shows for a record (a stored one, or one just submitted).

    `refused` is the raw submitted value of each field that failed validation: the input shows
    what was typed (validation left that field empty), so nothing typed is lost and the
    message beside it can be acted on.
    """
    values = {}
    for form_field in FORM_FIELDS:
        value = record.get(form_field.name)
        if form_field.field.type == fields.TEXT_LIST:
            value = ", ".join(value or [])
        elif form_field.field.type == fields.GEOMETRY and isinstance(value, dict):
            value = json.dumps(value)
        if refused and isinstance(refused.get(form_field.name), str):
            value = refused[form_field.name]
        values[form_field.name] = value
    return values
