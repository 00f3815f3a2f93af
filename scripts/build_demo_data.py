"""Build the demo data set, data/assets.geojson, from real Trafford open data.

    .venv/bin/python scripts/build_demo_data.py [--opendata PATH] [--out PATH]

`--opendata` is the shared open-data folder (default `<repo>/../shared/opendata`); `--out` is
the GeoJSON file to write (default `<repo>/data/assets.geojson`). Next to it the script also
writes `sources/` (unchanged copies of the OGL files it reads), `postcodes/` (the Trafford
extract of the ONS Postcode Directory, for postcode lookups) and `NOTICE.md` (sources,
licences and attribution). Running it twice gives byte-identical files.

Every record is validated with `assetmap.record.validation.validate_asset`; a record that cannot be
placed on the map or does not validate is listed on stderr with the reason and left out, never
dropped silently. The script ends by printing counts per source, strand and kind.

## Sources

Files are in `trafford/community_assets/<libraries|sports_clubs|mental_health>/` in the
open-data folder; `.*` is the CSV, with points from the GeoJSON of the same name.

| source | prefix | file(s) | last_verified |
|---|---|---|---|
| `trafford_libraries_2023` | `lib-` | trafford_libraries.csv | 2023-11-21 |
| `trafford_sports_clubs_2018` | `sport-` | sports_clubs.* | 2018-07-01 |
| `trafford_mental_health_2018` | `mh-` | trafford_mental_health_services.* | 2018-07-01 |
| `illustrative` | `illustrative-` | made up here, for what the open data lacks | 2025-01-01 |

`source_id` is a slug of the name (lower case, `[a-z0-9-]`); when two records of one source
share a name, the postcode is added to both (`being-there-m41-5sn`). `id` is the prefix plus
`source_id`. `verified_by` is "Trafford Council open data"; `status` is `active`;
`last_verified` is the date the source's README gives ("July 2018" is recorded as 2018-07-01).

Coordinates come from the source (the CSV's lon/lat, or the GeoJSON point matched on name and
postcode); a record without them is placed at its postcode from the ONS Postcode Directory
extract for Trafford. Postcodes outside Trafford cannot be looked up there, so such a record
is listed on stderr and left out.

Known typo in the source, corrected: `WA154 1HF` (Altrincham Anxiety Group) is `WA14 1HF`; the
source's own point lies 30 m from the WA14 1HF centroid.

## Mapping rules

Libraries: every library is a `place` with categories `learning_skills`, `digital_inclusion`
and audience `everyone`; `cost` is `free` (public libraries are free to visit and join). The
`type` column decides the strand and the organisation:

| type | strand / approach | organisation |
|---|---|---|
| Local authority run library | `access_community_resources` / `community_hubs` | Trafford Council |
| Partnership, community, volunteer run | `strengthening_communities` / `asset_based_methods` | - |
| `<X>` run library (Lostock High School) | `access_community_resources` / `community_hubs` | X |

(A partnership or community run library is an asset the community runs, hence asset-based
methods; the source does not name the partner.) By name: "Local Studies" adds `heritage`;
"Wellbeing" adds `mental_wellbeing`.

Sports clubs: every club is a `group` in `access_community_resources` /
`pathways_to_participation` with category `physical_activity`. The `category` column (split on
commas) adds: Walking or Rambling -> `walking`; Dance -> `arts_creativity`; Yoga or Tai Chi ->
`mental_wellbeing`. (In the 2018 file no category matches these, so every club is
`physical_activity` only.) Audiences from words in the name: Junior or Youth -> `children`,
`young_people`; Ladies or Women -> `women`; Men or Mens -> `men`; Veterans -> `older_people`
(in bowls and golf a veterans' club is for older players, not ex-service people); "Disabilities"
-> `disabled_people`. The description says what the source says: "<category> club in <town>."

Mental-health services and charities: category `mental_wellbeing` always. Strand, approach and
kind come from the first row whose words appear in the name or description (`access` is
`access_community_resources`, `pathways` is `pathways_to_participation`, `strengthening` is
`strengthening_communities`, `peer` is `volunteer_peer_roles`):

| words | strand / approach | kind |
|---|---|---|
| grass-roots; managed by ... communities | `strengthening` / `community_development` | group |
| peer support; support group; self-help group | `peer` / `peer_support` | group |
| drop-in group; meet others; hearing voices; network for | (the same) | group |
| "Wellbeing Centre" in the name | `access` / `community_hubs` | place |
| meets; meet-up; cafe | `access` / `pathways` | group |
| counselling; therapy; helpline; advocacy | `access` / `pathways` | service |
| advice; listening ear | (the same) | service |
| course; class; workshop | `access` / `pathways` | activity |
| (anything else) | `access` / `pathways` | service |

More categories by words: art/crafts -> `arts_creativity`; music/singing/choir ->
`music_singing`; dance -> `arts_creativity`, `physical_activity`; isolated/lonely/befriending/
listening ear -> `befriending_social`; carers -> `carers`; bereavement -> `bereavement`;
parent/mothers/children -> `parenting_families`; Men in Sheds -> `mens_sheds`; Christian/church
-> `faith`; reminisce -> `heritage`.

Audiences by words: young people/youth -> `young_people`; older adults/older people/over 50s
-> `older_people`; adults -> `adults`; children -> `children`; family/families/parents ->
`families`; women/mothers -> `women`; men -> `men` ("men and women", "male and female" and "Men
in Sheds" do not count); carers (not "parents and carers") -> `carers`; lesbian/gay/bisexual/
trans/LGBT -> `lgbtq`; veterans/armed forces -> `veterans`; refugee/asylum ->
`refugees_asylum_seekers`; dementia -> `people_with_dementia`; disability/disabled/impairment
-> `disabled_people`; mental health/mental ill-health/mood disorders/anxiety/depression/hear
voices -> `people_with_mental_health_needs`; open to everyone/people of all ages ->
`everyone`. Ages: "aged 13 to 25", "aged between 13 and 19" -> min_age and max_age; "aged 16
and over", "aged 18 years and above", "over 50s" -> min_age.

Referral: "self referral" or "drop in" -> `self_referral` true; "referral from services" ->
`link_worker_referral` true; otherwise both are left empty (unknown). Cost: a "£" amount ->
`paid`, with the phrase as `cost_details`; otherwise empty (unknown). Organisation: "blueSCI"
-> blueSCI; Self Help Services (named, or its website) -> Self Help Services; "Age UK Trafford"
-> Age UK Trafford; "(Later Life Living)" -> Later Life Living; otherwise empty. Schedule: each
sentence naming a weekday becomes the schedule's notes, and, unless it gives a range of days
("Monday to Friday"), sessions: each named day with each time range ("1.30-3.30pm"), weekly, or
first/second/third/fourth/last for "third Wednesday of each month", or fortnightly for
"alternate" or "every other"; "at 2pm" gives a start time only.

Illustrative records (`source: illustrative`, ids `illustrative-...`, descriptions beginning
"Illustrative example:") are made up for the demo: volunteer and peer roles, collaborations and
partnerships, and the schedule, cost, accessibility and self-referral fields the open data
lacks. They are placed at real Trafford postcodes (coordinates from the postcode file) and their
names end "(illustrative)".
"""

from __future__ import annotations

import argparse
import csv
import json
import re
import shutil
import sys
import unicodedata
from collections import Counter
from dataclasses import dataclass
from pathlib import Path

from assetmap.record.formats import ATTRIBUTION, to_feature
from assetmap.record.schedules import sessions_from_text
from assetmap.record.validation import validate_asset
from assetmap.search.postcodes import normalise_postcode

REPO = Path(__file__).resolve().parents[1]

VERIFIED_BY = "Trafford Council open data"
ILLUSTRATIVE = "illustrative"
ILLUSTRATIVE_DATE = "2025-01-01"

ONS_ATTRIBUTION = (
    "Contains OS data © Crown copyright and database right; Contains Royal Mail data © Royal "
    "Mail copyright and database right; Source: Office for National Statistics licensed under "
    "the Open Government Licence v.3.0"
)
OGL = "Open Government Licence v3.0"
OGL_URL = "https://www.nationalarchives.gov.uk/doc/open-government-licence/version/3/"


@dataclass(frozen=True)
class Source:
    """One open-data file set: how its records are labelled and credited."""

    slug: str
    prefix: str
    title: str
    files: tuple[str, ...]  # paths under the opendata folder
    last_verified: str
    publisher_url: str
    attribution: str  # as the source's README gives it
    as_of: str  # the README's "temporal coverage"
    origin: str  # the README's "source"


LIBRARIES = Source(
    slug="trafford_libraries_2023",
    prefix="lib",
    title="Libraries in Trafford",
    files=("trafford/community_assets/libraries/trafford_libraries.csv",),
    last_verified="2023-11-21",
    publisher_url="https://www.trafforddatalab.io/open_data/libraries",
    attribution="Trafford Council",
    as_of="Trafford data correct at 21 November 2023",
    origin="The DCMS public libraries basic dataset, reviewed and amended by Trafford Council.",
)
SPORTS_CLUBS = Source(
    slug="trafford_sports_clubs_2018",
    prefix="sport",
    title="Sports clubs in Trafford",
    files=(
        "trafford/community_assets/sports_clubs/sports_clubs.csv",
        "trafford/community_assets/sports_clubs/sports_clubs.geojson",
    ),
    last_verified="2018-07-01",
    publisher_url="https://www.trafforddatalab.io/open_data/sports_clubs",
    attribution="Trafford Council",
    as_of="Correct as of July 2018",
    origin="Trafford Council.",
)
MENTAL_HEALTH = Source(
    slug="trafford_mental_health_2018",
    prefix="mh",
    title="Mental health services for Trafford residents",
    files=(
        "trafford/community_assets/mental_health/trafford_mental_health_services.csv",
        "trafford/community_assets/mental_health/trafford_mental_health_services.geojson",
    ),
    last_verified="2018-07-01",
    publisher_url="https://www.trafforddatalab.io/open_data/mental_health",
    attribution="Trafford Council",
    as_of="Correct as of July 2018",
    origin="Trafford Council, and crowdsourced from the organisations' websites.",
)
SOURCES = (LIBRARIES, SPORTS_CLUBS, MENTAL_HEALTH)
POSTCODE_FILE = "trafford/postcodes/trafford_postcodes_onspd_2022-06_lsoa11.csv"

# Typos in the source postcodes, each checked against the source's own point.
POSTCODE_CORRECTIONS = {"WA154 1HF": "WA14 1HF"}


# --- small helpers -------------------------------------------------------------------------


def slugify(text: str) -> str:
    """Lower-case ASCII letters, digits and single hyphens: "Talk Listen Change (TLC)" ->
    "talk-listen-change-tlc"."""
    ascii_text = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode()
    return re.sub(r"[^a-z0-9]+", "-", ascii_text.lower().replace("&", " and ")).strip("-")


def read_csv(path: Path) -> list[dict[str, str]]:
    with path.open(encoding="utf-8-sig", newline="") as f:
        return [{k: (v or "").strip() for k, v in row.items()} for row in csv.DictReader(f)]


def read_points(path: Path) -> dict[tuple[str, str], tuple[float, float]]:
    """The GeoJSON points of a source keyed by (name, postcode), as (lon, lat)."""
    with path.open(encoding="utf-8") as f:
        collection = json.load(f)
    points = {}
    for feature in collection["features"]:
        geometry = feature.get("geometry")
        if geometry and geometry.get("type") == "Point":
            props = feature["properties"]
            lon, lat = geometry["coordinates"][:2]
            points[(props["name"].strip(), props["postcode"].strip())] = (lon, lat)
    return points


def load_postcodes(path: Path) -> dict[str, tuple[float, float]]:
    """Normalised postcode -> (lon, lat) from the ONS Postcode Directory extract."""
    table = {}
    for row in read_csv(path):
        postcode = normalise_postcode(row["postcode"])
        if postcode and row["lon"] and row["lat"]:
            table[postcode] = (float(row["lon"]), float(row["lat"]))
    return table


def town(address: str) -> str:
    """The last part of an address, which in these files is the town."""
    return address.rsplit(",", 1)[-1].strip().rstrip(".")


def first_match(rules, text: str):
    """The value of the first (pattern, value) rule whose pattern is found in the text."""
    for pattern, value in rules:
        if re.search(pattern, text, re.I):
            return value
    return None


def all_matches(rules, text: str) -> list[str]:
    """Every slug named by a (pattern, slugs) rule found in the text, first-seen order."""
    found: list[str] = []
    for pattern, values in rules:
        if re.search(pattern, text, re.I):
            found.extend(v for v in values if v not in found)
    return found


def base_record(source: Source, name: str, source_id: str) -> dict:
    return {
        "id": f"{source.prefix}-{source_id}",
        "name": name,
        "status": "active",
        "last_verified": source.last_verified,
        "verified_by": VERIFIED_BY,
        "source": source.slug,
        "source_id": source_id,
    }


def source_ids(rows: list[dict[str, str]]) -> list[str]:
    """A slug per row from the name, with the postcode added where names repeat."""
    names = Counter(slugify(r["name"]) for r in rows)
    return [
        slugify(r["name"])
        if names[slugify(r["name"])] == 1
        else f"{slugify(r['name'])}-{slugify(r['postcode'])}"
        for r in rows
    ]


# --- libraries -----------------------------------------------------------------------------

LIBRARY_COMMUNITY_RUN = r"^(partnership|community|volunteer|independent)"
LIBRARY_NAME_CATEGORIES = [(r"local studies", ["heritage"]), (r"wellbeing", ["mental_wellbeing"])]


def library_records(opendata: Path) -> list[dict]:
    """Libraries: a place in community hubs, or asset-based methods when the community runs it."""
    rows = read_csv(opendata / LIBRARIES.files[0])
    records = []
    for row, source_id in zip(rows, source_ids(rows), strict=True):
        kind_of_library = row["type"]
        if kind_of_library.lower().startswith("local authority"):
            strand, approach, organisation = (
                "access_community_resources",
                "community_hubs",
                "Trafford Council",
            )
        elif re.match(LIBRARY_COMMUNITY_RUN, kind_of_library, re.I):
            strand, approach, organisation = "strengthening_communities", "asset_based_methods", ""
        else:
            runner = re.sub(r"\s+run library$", "", kind_of_library, flags=re.I)
            strand, approach, organisation = "access_community_resources", "community_hubs", runner
        record = base_record(LIBRARIES, row["name"], source_id)
        record.update(
            description=f"{kind_of_library} in {town(row['address'])}.",
            kind="place",
            strand=strand,
            approach=approach,
            categories=["learning_skills", "digital_inclusion"]
            + all_matches(LIBRARY_NAME_CATEGORIES, row["name"]),
            audiences=["everyone"],
            organisation=organisation,
            address=row["address"],
            postcode=row["postcode"],
            email=row["email"],
            website=row["website"],
            cost="free",
            cost_details="Free to visit and to join.",
            lon=float(row["lon"]) if row["lon"] else None,
            lat=float(row["lat"]) if row["lat"] else None,
        )
        records.append(record)
    return records


# --- sports clubs --------------------------------------------------------------------------

SPORT_CATEGORIES = {
    "walking": ["walking"],
    "rambling": ["walking"],
    "dance": ["arts_creativity"],
    "yoga": ["mental_wellbeing"],
    "tai chi": ["mental_wellbeing"],
}
SPORT_NAME_AUDIENCES = [
    (r"\b(junior|juniors|youth)\b", ["children", "young_people"]),
    (r"\b(ladies|women)\b", ["women"]),
    (r"\b(men|mens|men's)\b", ["men"]),
    # In bowls and golf a "veterans" club is for older players, not ex-service people.
    (r"\bveterans?'?\b", ["older_people"]),
    (r"disabilit", ["disabled_people"]),
]


def sports_club_records(opendata: Path) -> list[dict]:
    """Sports clubs: a group in pathways to participation, physical activity and more by sport."""
    rows = read_csv(opendata / SPORTS_CLUBS.files[0])
    points = read_points(opendata / SPORTS_CLUBS.files[1])
    records = []
    for row, source_id in zip(rows, source_ids(rows), strict=True):
        sports = [s.strip() for s in row["category"].split(",") if s.strip()]
        categories = ["physical_activity"]
        for sport in sports:
            extra = SPORT_CATEGORIES.get(sport.lower(), [])
            categories += [c for c in extra if c not in categories]
        point = points.get((row["name"], row["postcode"]))
        record = base_record(SPORTS_CLUBS, row["name"], source_id)
        record.update(
            description=f"{' and '.join(sports)} club in {town(row['address'])}.",
            kind="group",
            strand="access_community_resources",
            approach="pathways_to_participation",
            categories=categories,
            audiences=all_matches(SPORT_NAME_AUDIENCES, row["name"]),
            address=row["address"],
            postcode=row["postcode"],
            lon=point[0] if point else None,
            lat=point[1] if point else None,
        )
        records.append(record)
    return records


# --- mental-health services ----------------------------------------------------------------

MH_STRAND_RULES = [
    (
        r"grass-roots|managed by [\w\s]*communities",
        ("strengthening_communities", "community_development", "group"),
    ),
    (
        r"peer support|support group|self[- ]help group|drop[- ]in group|meet others"
        r"|hearing voices|network for",
        ("volunteer_peer_roles", "peer_support", "group"),
    ),
    (
        r"^[^|]*wellbeing centre[^|]*\|",  # in the name (the text is "name | description")
        ("access_community_resources", "community_hubs", "place"),
    ),
    (
        r"\bmeets?\b|meet[- ]up|\bcaf[eé]\b",
        ("access_community_resources", "pathways_to_participation", "group"),
    ),
    (
        r"counselling|therap|helpline|advocac|advice|listening ear",
        ("access_community_resources", "pathways_to_participation", "service"),
    ),
    (
        r"\bcourses?\b|\bclass(es)?\b|\bworkshops?\b",
        ("access_community_resources", "pathways_to_participation", "activity"),
    ),
]
MH_DEFAULT = ("access_community_resources", "pathways_to_participation", "service")

MH_CATEGORIES = [
    (r"\barts?\b|\bcrafts?\b", ["arts_creativity"]),
    (r"music|singing|choir", ["music_singing"]),
    (r"\bdanc", ["arts_creativity", "physical_activity"]),
    (r"isolat|lonel|befriend|listening ear", ["befriending_social"]),
    (r"(?<!parents and )\bcarers\b", ["carers"]),
    (r"bereave", ["bereavement"]),
    (r"parent|mothers|\bchildren\b", ["parenting_families"]),
    (r"men in sheds|men's sheds?", ["mens_sheds"]),
    (r"christian|church", ["faith"]),
    (r"reminisc", ["heritage"]),
]
MH_AUDIENCES = [
    (r"young people|\byouth\b", ["young_people"]),
    (r"older (adults|people)|over \d+s\b", ["older_people"]),
    (r"(?<!older )\badults\b", ["adults"]),
    (r"\bchildren\b", ["children"]),
    (r"\bfamil(y|ies)\b|\bparents?\b", ["families"]),
    (r"\bwomen\b|\bmothers\b", ["women"]),
    (r"\bmen\b(?! in sheds)", ["men"]),
    (r"(?<!parents and )\bcarers\b", ["carers"]),
    (r"lesbian|\bgay\b|bisexual|\btrans\b|\blgbt", ["lgbtq"]),
    (r"veteran|armed forces", ["veterans"]),
    (r"refugee|asylum", ["refugees_asylum_seekers"]),
    (r"dementia|dememtia|demetia", ["people_with_dementia"]),
    (r"disabilit|disabled|impairment", ["disabled_people"]),
    (
        r"mental health|mental ill|mood disorder|anxiety|depression|hear voices",
        ["people_with_mental_health_needs"],
    ),
    (r"open to everyone|people of all ages", ["everyone"]),
]
# Phrases that name both sexes say nothing about who a service is for.
MH_BOTH_SEXES = r"men and women|male and female"
MH_AGE_RANGE = r"aged (?:between )?(\d+) (?:to|and) (\d+)"
MH_MIN_AGE = r"aged (\d+)(?: years)? and (?:over|above)|over (\d+)s\b"
MH_ORGANISATIONS = [
    (r"bluesci", "blueSCI"),
    (r"self help services|selfhelpservices\.org\.uk", "Self Help Services"),
    (r"^age uk trafford", "Age UK Trafford"),
    (r"\(later life living\)", "Later Life Living"),
]


def mental_health_records(opendata: Path) -> list[dict]:
    """Mental-health services and charities, sorted into strands by the words they use."""
    rows = read_csv(opendata / MENTAL_HEALTH.files[0])
    points = read_points(opendata / MENTAL_HEALTH.files[1])
    records = []
    for row, source_id in zip(rows, source_ids(rows), strict=True):
        text = f"{row['name']} | {row['description']}"
        strand, approach, kind = first_match(MH_STRAND_RULES, text) or MH_DEFAULT
        audience_text = re.sub(MH_BOTH_SEXES, " ", text, flags=re.I)
        min_age, max_age = ages(row["description"])
        postcode = POSTCODE_CORRECTIONS.get(row["postcode"], row["postcode"])
        point = points.get((row["name"], row["postcode"]))
        cost_phrase = re.search(r"£\s?\d[^.;]*", row["description"])
        record = base_record(MENTAL_HEALTH, row["name"], source_id)
        record.update(
            description=row["description"],
            kind=kind,
            strand=strand,
            approach=approach,
            categories=["mental_wellbeing"]
            + [c for c in all_matches(MH_CATEGORIES, text) if c != "mental_wellbeing"],
            audiences=all_matches(MH_AUDIENCES, audience_text),
            min_age=min_age,
            max_age=max_age,
            organisation=first_match(MH_ORGANISATIONS, f"{text} | {row['website']}") or "",
            address=row["address"],
            postcode=postcode,
            phone=row["telephone"],
            website=row["website"],
            schedule=schedule_from_text(row["description"]),
            cost="paid" if cost_phrase else None,
            cost_details=cost_phrase.group(0).strip() if cost_phrase else "",
            self_referral=True if re.search(r"self[- ]referral|drop[- ]in", text, re.I) else None,
            link_worker_referral=True if re.search(r"referral from services", text, re.I) else None,
            lon=point[0] if point else None,
            lat=point[1] if point else None,
        )
        records.append(record)
    return records


def ages(text: str) -> tuple[int | None, int | None]:
    """(min_age, max_age) from "aged 13 to 25", "aged 16 and over", "over 50s"."""
    if m := re.search(MH_AGE_RANGE, text, re.I):
        return int(m.group(1)), int(m.group(2))
    if m := re.search(MH_MIN_AGE, text, re.I):
        return int(m.group(1) or m.group(2)), None
    return None, None


DAY_RE = re.compile(r"\b(monday|tuesday|wednesday|thursday|friday|saturday|sunday)s?\b", re.I)


def schedule_from_text(text: str) -> dict:
    """Sessions and notes from sentences such as "Meets on Tuesdays 1.30-3.30pm"."""
    sentences = [s.strip() for s in re.split(r"(?<=[.;])\s+", text) if DAY_RE.search(s)]
    sessions = [session for sentence in sentences for session in sessions_from_text(sentence)]
    return {"sessions": sessions, "notes": " ".join(sentences)}


# --- illustrative records ------------------------------------------------------------------


def weekly(day: str, start: str, end: str, frequency: str = "weekly") -> dict:
    return {"day": day, "frequency": frequency, "start": start, "end": end}


ILLUSTRATIVE_RECORDS = [
    {
        "name": "Sale Community Walking Buddies (illustrative)",
        "description": "Illustrative example: volunteer walk leaders take small groups on "
        "gentle, flat walks of about an hour from the town centre, at the pace of the slowest "
        "walker. New volunteers are trained and walk alongside a leader first.",
        "kind": "volunteering",
        "strand": "volunteer_peer_roles",
        "approach": "volunteer_health_roles",
        "categories": ["walking", "physical_activity", "volunteering"],
        "audiences": ["adults", "older_people"],
        "address": "Town centre, Sale",
        "postcode": "M33 7AA",
        "schedule": {
            "sessions": [weekly("tuesday", "10:00", "12:00")],
            "notes": "Meet at the town centre; walks last about an hour.",
        },
        "cost": "free",
        "accessibility": ["public_transport"],
    },
    {
        "name": "Stretford Telephone Befriending Volunteers (illustrative)",
        "description": "Illustrative example: volunteers make a weekly friendly phone call to "
        "someone who lives alone. Training and a monthly catch-up for volunteers are provided.",
        "kind": "volunteering",
        "strand": "volunteer_peer_roles",
        "approach": "bridging_roles",
        "categories": ["befriending_social", "volunteering"],
        "audiences": ["adults"],
        "address": "Stretford",
        "postcode": "M32 9BU",
        "schedule": {
            "sessions": [weekly("wednesday", "18:00", "19:00", "first")],
            "notes": "Calls at times that suit the volunteer; volunteers meet on the "
            "first Wednesday of the month.",
        },
        "cost": "free",
        "accessibility": ["step_free", "accessible_toilet"],
    },
    {
        "name": "Altrincham Carers Peer Mentoring (illustrative)",
        "description": "Illustrative example: carers who have looked after a relative for "
        "some years are paired with people new to caring, for a chat over coffee every "
        "fortnight.",
        "kind": "group",
        "strand": "volunteer_peer_roles",
        "approach": "peer_mentoring",
        "categories": ["carers", "befriending_social"],
        "audiences": ["carers"],
        "address": "Town centre, Altrincham",
        "postcode": "WA14 1EQ",
        "schedule": {
            "sessions": [weekly("thursday", "10:30", "12:00", "fortnightly")],
            "notes": "",
        },
        "cost": "free",
        "accessibility": ["step_free", "hearing_loop", "public_transport"],
    },
    {
        "name": "Urmston Health Champions (illustrative)",
        "description": "Illustrative example: residents trained as health champions share "
        "information about local services and healthy living with neighbours and at community "
        "events.",
        "kind": "volunteering",
        "strand": "volunteer_peer_roles",
        "approach": "peer_education",
        "categories": ["volunteering", "learning_skills"],
        "audiences": ["adults"],
        "address": "Urmston",
        "postcode": "M41 5ND",
        "schedule": {
            "sessions": [weekly("monday", "18:00", "19:30", "second")],
            "notes": "Champions meet on the second Monday of each month.",
        },
        "cost": "free",
        "accessibility": ["step_free", "large_print"],
    },
    {
        "name": "Partington Community Food Partnership (illustrative)",
        "description": "Illustrative example: residents, a food bank, the school and the "
        "housing provider plan and run a weekly community meal and food share together.",
        "kind": "group",
        "strand": "collaborations_partnerships",
        "approach": "co_production_projects",
        "categories": ["food_support", "lunch_clubs_food", "befriending_social"],
        "audiences": ["everyone"],
        "address": "Partington",
        "postcode": "M31 4EB",
        "schedule": {"sessions": [weekly("wednesday", "12:00", "13:30")], "notes": ""},
        "cost": "low_cost",
        "cost_details": "Pay as you feel; nobody is turned away.",
        "accessibility": ["step_free", "accessible_toilet", "parking"],
    },
    {
        "name": "Old Trafford Neighbourhood Health Forum (illustrative)",
        "description": "Illustrative example: residents and local health and council staff "
        "meet to decide together what the neighbourhood's health priorities are and how money "
        "is spent.",
        "kind": "group",
        "strand": "collaborations_partnerships",
        "approach": "community_engagement_in_planning",
        "categories": ["mental_wellbeing"],
        "audiences": ["everyone"],
        "address": "Old Trafford",
        "postcode": "M16 0AU",
        "schedule": {
            "sessions": [weekly("tuesday", "18:30", "20:00", "last")],
            "notes": "Interpreters can be booked in advance.",
        },
        "cost": "free",
        "accessibility": ["step_free", "hearing_loop", "bsl"],
        "languages": ["English", "Urdu", "Somali"],
    },
    {
        "name": "Sale West Community Research Panel (illustrative)",
        "description": "Illustrative example: residents are trained and paid to interview "
        "neighbours about what helps and harms wellbeing, and present the findings with "
        "researchers.",
        "kind": "volunteering",
        "strand": "collaborations_partnerships",
        "approach": "community_based_participatory_research",
        "categories": ["volunteering", "learning_skills"],
        "audiences": ["adults"],
        "address": "Sale West, Sale",
        "postcode": "M33 4UP",
        "schedule": {"sessions": [], "notes": "Sessions arranged with each cohort."},
        "cost": "free",
        "accessibility": ["step_free"],
    },
    {
        "name": "Stretford Area Wellbeing Partnership Activities (illustrative)",
        "description": "Illustrative example: a programme of taster activities across one "
        "neighbourhood, chosen and run jointly by local groups, the council and GP practices.",
        "kind": "activity",
        "strand": "collaborations_partnerships",
        "approach": "area_based_initiatives",
        "categories": ["physical_activity", "arts_creativity"],
        "audiences": ["everyone"],
        "address": "Stretford",
        "postcode": "M32 0AB",
        "schedule": {"sessions": [weekly("saturday", "10:00", "13:00", "first")], "notes": ""},
        "cost": "free",
        "accessibility": ["step_free", "accessible_toilet", "public_transport"],
    },
    {
        "name": "Urmston Community Shed (illustrative)",
        "description": "Illustrative example: a workshop where people, mostly older men, make "
        "and mend things together, share skills and have a brew.",
        "kind": "group",
        "strand": "strengthening_communities",
        "approach": "social_network_approaches",
        "categories": ["mens_sheds", "befriending_social"],
        "audiences": ["men", "older_people"],
        "address": "Urmston",
        "postcode": "M41 0AB",
        "schedule": {
            "sessions": [weekly("monday", "10:00", "15:00"), weekly("thursday", "10:00", "15:00")],
            "notes": "",
        },
        "cost": "low_cost",
        "cost_details": "£2 a session, first one free.",
        "accessibility": ["step_free", "parking"],
    },
    {
        "name": "Hale Community Garden Volunteers (illustrative)",
        "description": "Illustrative example: neighbours look after a shared garden and grow "
        "vegetables for a local lunch club; no experience needed.",
        "kind": "volunteering",
        "strand": "strengthening_communities",
        "approach": "community_development",
        "categories": ["gardening_nature", "volunteering"],
        "audiences": ["everyone"],
        "address": "Hale",
        "postcode": "WA15 9AB",
        "schedule": {
            "sessions": [weekly("friday", "09:30", "12:00")],
            "notes": "Tools and gloves provided.",
        },
        "cost": "free",
        "accessibility": ["parking"],
    },
]


def illustrative_records() -> list[dict]:
    """The made-up records, placed later at their (real) postcodes like any other record."""
    records = []
    for example in ILLUSTRATIVE_RECORDS:
        source_id = slugify(example["name"].replace("(illustrative)", ""))
        record = {
            "id": f"illustrative-{source_id}",
            "status": "active",
            "self_referral": True,
            "link_worker_referral": True,
            "referral_details": "Illustrative: ask to join with the form, or a link worker "
            "can refer you.",
            "last_verified": ILLUSTRATIVE_DATE,
            "verified_by": "assetmap demo data (illustrative)",
            "source": ILLUSTRATIVE,
            "source_id": source_id,
            "lon": None,
            "lat": None,
            **example,
        }
        records.append(record)
    return records


# --- placing, validating and writing -------------------------------------------------------


def place(records: list[dict], postcodes: dict[str, tuple[float, float]]):
    """Fill lon/lat from the postcode where the source has no point; list the ones that fail."""
    placed, unplaced = [], []
    for record in records:
        if record.get("lon") is not None and record.get("lat") is not None:
            record["position_source"] = "given"
            placed.append(record)
            continue
        postcode = normalise_postcode(record.get("postcode") or "")
        if postcode is None:
            reason = "no point in the source and no valid postcode"
        elif postcode not in postcodes:
            reason = f"no point in the source and {postcode} is not in the Trafford postcode file"
        else:
            record["lon"], record["lat"] = postcodes[postcode]
            record["position_source"] = "postcode"
            placed.append(record)
            continue
        unplaced.append((record, reason))
    return placed, unplaced


def validated(records: list[dict]):
    """(valid records as validate_asset cleans them, rejected (record, errors) pairs)."""
    valid, rejected = [], []
    for record in records:
        data = {k: v for k, v in record.items() if v is not None}
        data["lon"], data["lat"] = round(float(data["lon"]), 6), round(float(data["lat"]), 6)
        result = validate_asset(data)
        if result.ok:
            valid.append(result.record)
        else:
            rejected.append((record, result.errors))
    return valid, rejected


def _rounded(record: dict) -> dict:
    """Coordinates to 6 decimal places (about 10 cm), so the file does not carry noise."""
    return {**record, "lat": round(record["lat"], 6), "lon": round(record["lon"], 6)}


def write_geojson(records: list[dict], out: Path) -> None:
    collection = {
        "type": "FeatureCollection",
        "attribution": ATTRIBUTION,
        "features": [to_feature(_rounded(r)) for r in sorted(records, key=lambda r: r["id"])],
    }
    out.parent.mkdir(parents=True, exist_ok=True)
    with out.open("w", encoding="utf-8", newline="\n") as f:
        json.dump(collection, f, indent=1, ensure_ascii=False, sort_keys=False)
        f.write("\n")


def copy_sources(opendata: Path, data_dir: Path) -> None:
    """Unchanged copies of the files the data set comes from, and the postcode table."""
    (data_dir / "sources").mkdir(parents=True, exist_ok=True)
    (data_dir / "postcodes").mkdir(parents=True, exist_ok=True)
    for source in SOURCES:
        for name in source.files:
            shutil.copyfile(opendata / name, data_dir / "sources" / Path(name).name)
    shutil.copyfile(opendata / POSTCODE_FILE, data_dir / "postcodes" / Path(POSTCODE_FILE).name)


def notice_text() -> str:
    """data/NOTICE.md: each copied file with its source, licence and attribution."""
    lines = [
        "# Data notices",
        "",
        "`assets.geojson` is built by `scripts/build_demo_data.py` from the files below,",
        "which are unchanged copies of public files published under the Open Government",
        f"Licence v3.0 ({OGL_URL}).",
        "The rules that turn each file into asset records are in the script's docstring.",
        "",
        "Records whose `source` is `illustrative` (ids beginning `illustrative-`) are made up",
        "for illustration: they show features the open data lacks and describe no real group.",
        "",
    ]
    for source in SOURCES:
        lines += [f"## {source.title} (`source: {source.slug}`)", ""]
        lines += [f"- File: `sources/{Path(name).name}`" for name in source.files]
        lines += [
            f"- Source: {source.origin} Published by Trafford Council (Trafford Data Lab) at "
            f"{source.publisher_url} ({source.as_of}).",
            f"- Licence: {OGL}.",
            f'- Attribution: "{source.attribution}". Contains public sector information '
            f"licensed under the {OGL}.",
            "",
        ]
    lines += [
        "## Postcodes",
        "",
        f"- File: `postcodes/{Path(POSTCODE_FILE).name}`",
        "- Source: ONS Postcode Directory (June 2022), the Trafford extract published by "
        "Trafford Data Lab; used to place records at their postcode.",
        f"- Licence: {OGL}.",
        f'- Attribution: "{ONS_ATTRIBUTION}".',
        "",
    ]
    return "\n".join(lines)


def build(opendata: Path, out: Path) -> int:
    """Build everything; return the number of records listed as left out."""
    data_dir = out.parent
    postcodes = load_postcodes(opendata / POSTCODE_FILE)
    by_source = {
        LIBRARIES.slug: library_records(opendata),
        SPORTS_CLUBS.slug: sports_club_records(opendata),
        MENTAL_HEALTH.slug: mental_health_records(opendata),
        ILLUSTRATIVE: illustrative_records(),
    }
    records = [r for rs in by_source.values() for r in rs]
    ids = Counter(r["id"] for r in records)
    if repeated := [i for i, n in ids.items() if n > 1]:
        raise SystemExit(f"ids made twice (fix the slug rule): {', '.join(sorted(repeated))}")

    placed, unplaced = place(records, postcodes)
    valid, rejected = validated(placed)
    for record, reason in unplaced:
        print(
            f"not placed: {record['name']} ({record.get('postcode') or 'no postcode'}), "
            f"{record['source']}: {reason}",
            file=sys.stderr,
        )
    for record, errors in rejected:
        print(
            f"invalid: {record['name']} ({record.get('postcode') or 'no postcode'}), "
            f"{record['source']}: " + "; ".join(str(e) for e in errors.values()),
            file=sys.stderr,
        )

    copy_sources(opendata, data_dir)
    (data_dir / "NOTICE.md").write_text(notice_text(), encoding="utf-8", newline="\n")
    write_geojson(valid, out)

    print(f"wrote {len(valid)} assets to {out}")
    for title, key in (("source", "source"), ("strand", "strand"), ("kind", "kind")):
        counts = Counter(r[key] for r in valid)
        print(f"per {title}: " + ", ".join(f"{k} {counts[k]}" for k in sorted(counts)))
    return len(unplaced) + len(rejected)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument(
        "--opendata",
        type=Path,
        default=REPO.parent / "shared" / "opendata",
        help="the shared open-data folder (default: %(default)s)",
    )
    parser.add_argument(
        "--out",
        type=Path,
        default=REPO / "data" / "assets.geojson",
        help="the GeoJSON file to write (default: %(default)s)",
    )
    args = parser.parse_args(argv)
    if not (args.opendata / POSTCODE_FILE).exists():
        parser.error(f"{args.opendata} does not hold {POSTCODE_FILE}")
    build(args.opendata, args.out)
    return 0


if __name__ == "__main__":
    sys.exit(main())
