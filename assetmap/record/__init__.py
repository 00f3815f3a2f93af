"""The directory's record: what an asset is, and everything about one asset on its own.

taxonomy     the strands, approaches, kinds, categories, audiences: the one list of slugs
fields       the fields of an asset record, and which are professional-only
values       reading what people enter (empty, a term however spelled, quoted)
validation   checks and cleans an asset record; every error names the field and the fix
html_text    HTML pasted into a description, made plain text
schedules    sessions (weekly, monthly, fortnightly), times, parts of the day, the next one
describe     an asset's details in plain words (schedules, ages)
history      what changed between two versions, field by field
ids          the ids assets get
formats      records to and from GeoJSON features and CSV rows
loading      `assetmap load`: a GeoJSON/CSV export validated and upserted
form         the coordinator's form, made from fields
"""
