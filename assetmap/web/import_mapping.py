"""The import's mapping step: choose on the page what each column holds, and the kind and strand.

A file the import cannot read as it stands (no kind or strand column, headings it does not
know, a mapping file with a mistake) is kept as a pending upload (assetmap.imports.pending),
and the coordinator is sent here instead of being told to write a mapping file. The page lists
each column with a select (the likely field preselected: assetmap.imports.suggest), a kind and
strand for every row, or a column whose values say them value by value, and what the chosen
mapping makes of the first rows; "Show what this does" redraws it (a script does so on every
change), "Use these choices" previews the whole file.

The mapping chosen is an ordinary mapping file's sections: kept beside the upload, saved under
the import's source when the import is confirmed (assetmap.store.mappings), used unasked for
the next copy of the same audit, and downloadable for `assetmap import --mapping`.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

from flask import (
    Blueprint,
    Response,
    abort,
    current_app,
    redirect,
    render_template,
    request,
    url_for,
)
from markupsafe import Markup, escape

from assetmap.imports import ImportFileError, load_mapping, storage
from assetmap.imports import columns as cols
from assetmap.imports.mapping import ANY_OTHER, Mapping, mapping_text, read_mapping_data
from assetmap.imports.pending import Pending
from assetmap.imports.pipeline import default_source
from assetmap.imports.suggest import (
    ColumnChoice,
    FileSample,
    chosen_columns,
    current_choices,
    data_from_choices,
    read_sample,
    try_mapping,
)
from assetmap.record import taxonomy
from assetmap.store import mappings as saved_mappings
from assetmap.web import import_jobs
from assetmap.web.db import get_db
from assetmap.web.guard import requires
from assetmap.web.security import CsrfOnlyForm

bp = Blueprint("import_mapping", __name__, url_prefix="/manage/imports")

PAGE_MAPPING = "page"  # pending.options["mapping_from"]: chosen on this page
SAVED_MAPPING = "saved"  # ... or saved for the source and used unasked
GUIDE = "importing.md"


def _views():
    # The upload views import this module; their helpers are read when a request needs them.
    from assetmap.web import imports

    return imports


def source_of(pending: Pending) -> str:
    """The source the import records (and its mapping is saved under), as the pipeline
    chooses it: the name given at upload, else the file's name."""
    return pending.options.get("source") or default_source(pending.file_name)


# -- called by the upload and confirm views --------------------------------------------------------


def use_saved_mapping(db, pending: Pending) -> None:
    """Give an upload the mapping saved for its source, if there is one, to use unasked."""
    saved = saved_mappings.newest(db, source_of(pending))
    if saved is None:
        return
    _keep_mapping(pending, saved["mapping"])
    pending.options["mapping_from"] = SAVED_MAPPING
    pending.options["mapping_saved"] = {
        "source": saved["source"],
        "saved_at": saved["saved_at"],
        "saved_by": saved["saved_by"],
    }
    pending.save()


def refused(pending: Pending, message: str, *, bad_mapping: bool = False):
    """Keep a refused upload and send the coordinator to choose its columns."""
    if bad_mapping:  # the file sent with it is not used; the page starts from the headings
        pending.mapping_path.unlink(missing_ok=True)
        pending.options["mapping_name"] = ""
        pending.options.pop("mapping_from", None)
        pending.options.pop("mapping_saved", None)
    pending.options["refused"] = message
    pending.report = None
    pending.save()
    return redirect(url_for("import_mapping.columns", token=pending.token))


def remember_mapping(db, pending: Pending, source: str, *, who: str) -> str:
    """After an import is confirmed, save the mapping chosen on the page under its source;
    what to tell the coordinator about it ("" when nothing was saved)."""
    if pending.options.get("mapping_from") != PAGE_MAPPING or not pending.mapping_path.exists():
        return ""
    data = json.loads(pending.mapping_path.read_text(encoding="utf-8"))
    saved_mappings.save(db, source, data, saved_by=who)
    return f" The columns you chose are saved for the next copy of {source}."


def _keep_mapping(pending: Pending, data: dict) -> None:
    pending.mapping_path.write_text(json.dumps(data, ensure_ascii=False), encoding="utf-8")


# -- the page ------------------------------------------------------------------------------------


def _sample(pending: Pending, mapping: Mapping) -> FileSample:
    try:
        return read_sample(
            pending.path,
            sheet=pending.options.get("sheet") or None,
            mapping=mapping,
            limits=current_app.config["ASSETMAP_IMPORT_LIMITS"],
        )
    except ImportFileError as e:
        abort(400, description=f"{pending.file_name} {e}.")


def _current_mapping(pending: Pending) -> tuple[Mapping, dict]:
    """The mapping the upload has now (its sections too), or an empty one."""
    if not pending.mapping_path.exists():
        return Mapping(), {}
    try:
        return load_mapping(pending.mapping_path), read_mapping_data(pending.mapping_path)
    except ImportFileError:
        return Mapping(), {}


def _form_choices(sample: FileSample) -> tuple[list[ColumnChoice], dict, dict]:
    """The choices sent by the form, checked against the lists the page offers; and the
    errors, by field, for those that are not on them."""
    form = request.form
    known_targets = {target for target, _ in cols.choices()}
    errors: dict[str, str] = {}
    targets: dict[int, str] = {}
    for index in range(len(sample.headers)):
        target = form.get(f"column-{index}", cols.EXTRA)
        if target not in known_targets:
            errors[f"column-{index}"] = (
                f"Column {cols.column_letter(index)}: {target!r} is not one of the choices."
            )
            target = cols.EXTRA
        targets[index] = target
    allowed = {
        "kind": taxonomy.slugs(taxonomy.KINDS),
        "strand": frozenset(taxonomy.STRANDS_BY_SLUG),
        "category": taxonomy.slugs(taxonomy.CATEGORIES),
    }

    def picked(name: str, field_name: str) -> str | None:
        """A select's value: "" for none, None when the form did not have it."""
        if name not in form:
            return None
        value = form[name]
        if value and value not in allowed[field_name]:
            errors[name] = f"{value!r} is not a {field_name}; choose one from the list."
            return ""
        return value

    defaults = {name: picked(name, name) or "" for name in ("kind", "strand")}
    chosen = chosen_columns(sample, targets, defaults)
    for choice in chosen:
        for number, value in enumerate(choice.values):
            for field_name in allowed:
                got = picked(f"value-{choice.index}-{number}-{field_name}", field_name)
                if got is not None:
                    value.chosen[field_name] = got
        for field_name in allowed:
            got = picked(f"value-{choice.index}-other-{field_name}", field_name)
            if got:
                choice.other[field_name] = got
    return chosen, defaults, errors


def _render(pending, sample, chosen, defaults, errors, status=200, *, message=None, data=None):
    """The mapping page, with what the choices make of the first rows."""
    outcome_refused, rows = None, []
    if data is not None and not errors:
        outcome_refused, rows = try_mapping(
            get_db(),
            sample,
            _mapping_of(data),
            source=source_of(pending),
            bounds=current_app.config["ASSETMAP_BOUNDS"],
        )
    return render_template(
        "imports/mapping.html",
        form=CsrfOnlyForm(),
        pending=pending,
        source=source_of(pending),
        sample=sample,
        chosen=chosen,
        defaults=defaults,
        errors=errors,
        message=message,
        still_refused=outcome_refused,
        rows=rows,
        choices=cols.choices(),
        kinds=taxonomy.KINDS,
        strands=taxonomy.STRANDS,
        categories=taxonomy.CATEGORIES,
        values_target=cols.VALUES,
        any_other=ANY_OTHER,
        field_labels={name: label for name, label in cols.choices()},
    ), status


def _mapping_of(data: dict) -> Mapping:
    from assetmap.imports.mapping import parse_mapping

    return parse_mapping(data)


@bp.get("/preview/<token>/columns")
@requires("import_assets")
def columns(token: str):
    """Choose what each column holds, and the kind and strand, for a file already uploaded."""
    pending = _views()._pending_or_404(token)
    mapping, data = _current_mapping(pending)
    sample = _sample(pending, mapping)
    chosen, defaults = current_choices(sample, mapping)
    try:
        shown = data_from_choices(sample, chosen, defaults, keep=data)
    except ImportFileError:
        shown = None
    return _render(
        pending, sample, chosen, defaults, {}, message=pending.options.get("refused"), data=shown
    )


@bp.post("/preview/<token>/columns")
@requires("import_assets")
def choose_columns(token: str):
    """Show what the choices do ("update"), or use them and preview the whole file ("use")."""
    if not CsrfOnlyForm().validate_on_submit():
        abort(400)
    pending = _views()._pending_or_404(token)
    mapping, kept = _current_mapping(pending)
    sample = _sample(pending, mapping)
    chosen, defaults, errors = _form_choices(sample)
    data = None
    if not errors:
        try:
            data = data_from_choices(sample, chosen, defaults, keep=kept)
        except ImportFileError as e:
            errors["mapping"] = f"These choices cannot be used: {e}."
    if errors or request.form.get("action") != "use":
        return _render(pending, sample, chosen, defaults, errors, 400 if errors else 200, data=data)
    _keep_mapping(pending, data)
    pending.options["mapping_from"] = PAGE_MAPPING
    pending.options["mapping_name"] = ""
    pending.options.pop("mapping_saved", None)
    pending.options.pop("refused", None)
    pending.save()
    if (job := import_jobs.preview_in_background(pending)) is not None:
        return job  # a large file: checked again by a background job, as on upload
    try:
        _views().preview_now(pending)
    except storage.AnotherImport as e:
        page, status = _render(pending, sample, chosen, defaults, {}, 503, message=str(e))
        return page, status, {"Retry-After": "60"}
    except ImportFileError as e:
        return _render(
            pending,
            sample,
            chosen,
            defaults,
            {},
            400,
            message=f"{pending.file_name} {e}.",
            data=data,
        )
    return redirect(url_for("imports.show_preview", token=pending.token))


@bp.get("/preview/<token>/mapping.toml")
@requires("import_assets")
def download_mapping(token: str):
    """The mapping this upload uses, as a mapping file for `assetmap import --mapping`."""
    pending = _views()._pending_or_404(token)
    _, data = _current_mapping(pending)
    if not data:
        abort(404, description="This upload has no mapping yet; choose its columns first.")
    return _toml_download(data, source_of(pending))


@bp.get("/mappings/saved.toml")
@requires("import_assets")
def download_saved():
    """The newest mapping saved for a source (?source=...), as a mapping file."""
    source = request.args.get("source", "")
    saved = saved_mappings.newest(get_db(), source)
    if saved is None:
        abort(404, description=f"No mapping has been saved for the source {source!r}.")
    return _toml_download(saved["mapping"], source)


def _toml_download(data: dict, source: str) -> Response:
    # Only plain characters: the name goes into a header, and came from someone's upload.
    stem = re.sub(r"[^A-Za-z0-9._-]+", "-", source).strip("-.")[:60] or "import"
    response = Response(mapping_text(data), content_type="application/toml; charset=utf-8")
    response.headers["Content-Disposition"] = f'attachment; filename="{stem}-mapping.toml"'
    return response


# -- the guide -------------------------------------------------------------------------------------


def _guide_path() -> Path | None:
    """docs/importing.md: inside the package in a wheel, beside it in a checkout."""
    package = Path(__file__).resolve().parent.parent
    for candidate in (package / "docs" / GUIDE, package.parent / "docs" / GUIDE):
        if candidate.is_file():
            return candidate
    return None


@bp.get("/guide")
@requires("import_assets")
def guide():
    """The guide to importing (docs/importing.md), as a page of the app."""
    path = _guide_path()
    if path is None:
        abort(404, description="The guide to importing is not installed with this copy.")
    from markdown_it import MarkdownIt

    # The guide is ours, but raw HTML in it is still shown as text, never run.
    body = MarkdownIt("commonmark", {"html": False}).enable("table").render(path.read_text("utf-8"))
    return render_template("imports/guide.html", body=Markup(body))


_GUIDE_WORDS = re.compile(r"docs/importing\.md|the guide to importing", re.I)


@bp.app_template_test("mentions_guide")
def mentions_guide(message: object) -> bool:
    """Whether a message mentions the guide (inside a link already, it gets one beside it)."""
    return bool(_GUIDE_WORDS.search(str(message)))


@bp.app_template_filter("guide_links")
def guide_links(message: object) -> Markup:
    """A message, escaped, with each mention of the guide made a link to it."""
    escaped = str(escape(message))
    href = escape(url_for("import_mapping.guide"))
    return Markup(_GUIDE_WORDS.sub(lambda m: f'<a href="{href}">{m.group(0)}</a>', escaped))
