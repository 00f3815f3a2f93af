"""Build the demo data set, data/assets.geojson, from real Trafford open data.

    .venv/bin/python scripts/build_demo_data.py [--opendata PATH] [--out PATH]

`--opendata` is the shared open-data folder (default `<repo>/../shared/opendata`); `--out` is
the GeoJSON file to write (default `<repo>/data/assets.geojson`). Next to it the script also
writes `sources/` (unchanged copies of the open-data files it reads), `postcodes/` (the Trafford
extract of the ONS Postcode Directory, for postcode lookups), `areas/` (LSOA and ward
boundaries, deprivation and population, for the coverage figures) and `NOTICE.md` (sources,
licences and attribution). Running it twice gives byte-identical files.

Every record is validated with `assetmap.record.validation.validate_asset`; a record that cannot be
placed on the map or does not validate is listed on stderr with the reason and left out, never
dropped silently. The script ends by printing counts per source, strand and kind.

## Sources

Files are in `trafford/community_assets/<folder>/` in the open-data folder (`.*` is a CSV with
points from the GeoJSON of the same name). The shared README and each publisher's page give
the licences; data/NOTICE.md repeats them with the attribution each asks for.

| source | prefix | file(s) | last_verified |
|---|---|---|---|
| `trafford_libraries_2023` | `lib-` | libraries/*.csv | 2023-11-21 |
| `trafford_mental_health_2018` | `mh-` | mental_health/* | 2018-07-01 |
| `sport_england_active_places_2025` | `sportsite-` | sport_facilities/*.csv | the site's |
| `trafford_allotments_2019` | `allotment-` | allotments/* | 2019-02-01 |
| `dfe_childrens_centres_2019` | `childrens-centre-` | childrens_centres/* | 2019-08-01 |
| `os_open_greenspace_2023` | `park-` | greenspaces/* (sites, entrances) | 2023-10-01 |
| `local_nature_reserves_2024` | `nature-reserve-` | local_nature_reserves/* | 2024-06-18 |
| `os_openmap_places_of_worship_2018` | `worship-` | places_of_worship/* | 2018-01-01 |
| `illustrative` | `illustrative-` | made up here, for what the open data lacks | 2025-01-01 |

`id` is the prefix plus a slug of the name (lower case, `[a-z0-9-]`); when two records of one
source share a name, the postcode is added (`being-there-m41-5sn`). `source_id` is the
source's own id where it has one (Sport England's site_id, the OpenStreetMap id of an
allotment, the Department for Education's URN, Natural England's id, the lowest Ordnance
Survey id among a place of worship's buildings), otherwise the slug. `verified_by` names the
publisher's data set; `status` is `active`; `last_verified` is the date the source gives
("July 2018" is recorded as 2018-07-01, "2018" as 2018-01-01).

Left out on purpose (each rule is a table below, and the script prints how many it left out):
the 2018 list of sports clubs (trafford/community_assets/sports_clubs): 140 clubs with a name,
a sport and an address and nothing else, no phone, email, website, times or cost, seven years
old. A club is an organisation, and without a way to reach it a resident cannot join and a
link worker cannot refer; places can be visited, so parks, allotments, places of worship and
sports sites stay without contacts. Sport England's 2025 sites, with phones, websites, how
each facility may be used and access, cover the same sports venues. Also left out: Sport
England sites for private use only (schools' and companies' own), Open Greenspace sites other
than named parks (GREENSPACE_TYPES says why for each type), and chapels of cemeteries and
schools.

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

Sport England Active Places: one `place` per site (the file has a row per facility), in
`access_community_resources` / `pathways_to_participation`, category `physical_activity`, at
the source's point, with its phone, email and website ("NA" and "00000 000000" are empty).
The description names the facilities in everyday words (FACILITY_WORDS) and how each may be
used (SPORT_ACCESS, from access_type):

| access_type | said | cost |
|---|---|---|
| Free Public Access | free to use (no booking needed) | `free` |
| Pay and Play | pay and play (pay when you go, no membership needed) | `paid` |
| Registered Membership use | for members (join to use it) | `paid` |
| Sports Club / Community Association | used by sports clubs and community groups | unknown |
| Private Use | (the facility is left out; a site with only these is left out) | |

`cost` is set when every facility left gives the same; when they differ, `cost_details` says
which is which. Accessibility when every facility answers Yes (SPORT_ACCESSIBILITY):
entrance, doorways and reception area -> `step_free`; toilets -> `accessible_toilet`; car park
-> `parking`. "Getting there" says disabled parking and accessible changing rooms (when every
facility has them) and the source's disability notes. The place in the description is the
postcode's neighbourhood (the source's town is often the post town, "Manchester"). A site with
a park's name is named by what it has there ("Davyhulme Park: outdoor tennis courts").

Allotments: a `place`, category `gardening_nature`, "<name> Allotments", at the source's centre
point, with the OpenStreetMap outline as its service area; outlines of one name within about
150 m are one site (two parts of Moor Nook), at the point of its largest part.

Children's centres: a `place` in `access_community_resources` / `community_hubs`, category
`parenting_families`, audiences `families` and `children`, with the phone given.

Parks (OS Open Greenspace): named "Public Park Or Garden" sites only (GREENSPACE_TYPES), a
`place` in `access_community_resources` / `pathways_to_participation`, categories `walking`,
`physical_activity` (and `gardening_nature` for a "community garden", PARK_NAME_CATEGORIES),
audience `everyone`, `free`. Placed at the site's pedestrian entrance nearest its middle
(entrances within about 20 m of the outline), so distances and walking times are to a way
in; at a point inside the site when it has none. A park that is also a local nature reserve
is left to the reserve.

Local nature reserves: a `place`, categories `walking`, `gardening_nature`, audience
`everyone`, at the source's point, with the reserve's area in the description.

Places of worship (OS OpenMap Local religious buildings): a `place` in
`access_community_resources` / `community_hubs`, category `faith`. Buildings of one name
within about 150 m are one place (a church and its hall), placed inside the largest building;
the building outline is not kept as a service area (it is the building, not the area it
serves). The description names the tradition from words in the name (WORSHIP_TRADITIONS:
"Methodist church in Sale Moor.").

Outlines kept as service areas (parks, reserves, allotments) are simplified to within about
5 m and their coordinates rounded to 6 places, so the file in git stays small. Records from
files without postcodes get the nearest postcode in the ONS extract and its neighbourhood
(the House of Commons Library's MSOA name) as their address.

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
import math
import re
import shutil
import sys
import unicodedata
from collections import Counter
from dataclasses import dataclass
from pathlib import Path

from shapely.geometry import mapping, shape
from shapely.ops import unary_union

from assetmap.record.formats import ATTRIBUTION, to_feature
from assetmap.record.schedules import sessions_from_text
from assetmap.record.validation import validate_asset
from assetmap.search.postcodes import normalise_postcode

REPO = Path(__file__).resolve().parents[1]

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
    publisher: str = "Trafford Council (Trafford Data Lab)"
    verified_by: str = "Trafford Council open data"  # who the record says checked it
    licence: str = "Open Government Licence v3.0"


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
SPORT_FACILITIES = Source(
    slug="sport_england_active_places_2025",
    prefix="sportsite",
    title="Sport England Active Places: sports facilities in Trafford",
    files=("trafford/community_assets/sport_facilities/sports_facilities.csv",),
    last_verified="",  # each site's own site_last_updated_date
    publisher_url="https://www.activeplacespower.com/opendata",
    attribution="Contains Data © Sport England",
    as_of="each site's last update, August 2024 to August 2025",
    origin="Sport England Active Places, the Trafford extract made by Trafford Data Lab.",
    publisher="Sport England",
    verified_by="Sport England Active Places",
    licence="Creative Commons Attribution 4.0 (https://creativecommons.org/licenses/by/4.0/), "
    "as Sport England licenses Active Places data (Trafford Data Lab lists the extract under the "
    "Open Government Licence v3.0); either way the attribution below is required",
)
ALLOTMENTS = Source(
    slug="trafford_allotments_2019",
    prefix="allotment",
    title="Allotments in Trafford",
    files=(
        "trafford/community_assets/allotments/trafford_allotments.csv",
        "trafford/community_assets/allotments/trafford_allotments.geojson",
    ),
    last_verified="2019-02-01",
    publisher_url="https://www.trafford.gov.uk/residents/leisure-and-lifestyle/parks-and-open-"
    "spaces/allotments/allotments-in-trafford.aspx",
    attribution="Trafford Council; boundaries © OpenStreetMap contributors (ODbL)",
    as_of="last updated February 2019",
    origin="Trafford Council and OpenStreetMap.",
    licence="Open Government Licence v3.0; the boundaries Open Database License (ODbL) 1.0 "
    "(https://www.openstreetmap.org/copyright)",
)
CHILDRENS_CENTRES = Source(
    slug="dfe_childrens_centres_2019",
    prefix="childrens-centre",
    title="Children's centres in Trafford",
    files=(
        "trafford/community_assets/childrens_centres/trafford_childrens_centres.csv",
        "trafford/community_assets/childrens_centres/trafford_childrens_centres.geojson",
    ),
    last_verified="2019-08-01",
    publisher_url="https://get-information-schools.service.gov.uk/",
    attribution="Department for Education",
    as_of="correct as of August 2019",
    origin="Department for Education (Get Information about Schools), the Trafford extract made "
    "by Trafford Data Lab.",
    publisher="Department for Education",
    verified_by="Department for Education open data",
)
PARKS = Source(
    slug="os_open_greenspace_2023",
    prefix="park",
    title="Public parks and gardens in Trafford (OS Open Greenspace)",
    files=(
        "trafford/community_assets/greenspaces/trafford_greenspace_sites.geojson",
        "trafford/community_assets/greenspaces/trafford_greenspace_access_points.geojson",
    ),
    last_verified="2023-10-01",
    publisher_url="https://www.ordnancesurvey.co.uk/products/os-open-greenspace",
    attribution="Contains Ordnance Survey data © Crown copyright and database right",
    as_of="October 2023",
    origin="Ordnance Survey Open Greenspace, the Trafford extract made by Trafford Data Lab.",
    publisher="Ordnance Survey",
    verified_by="Ordnance Survey Open Greenspace",
)
NATURE_RESERVES = Source(
    slug="local_nature_reserves_2024",
    prefix="nature-reserve",
    title="Local nature reserves in Trafford",
    files=(
        "trafford/community_assets/local_nature_reserves/trafford_local_nature_reserves.geojson",
    ),
    last_verified="2024-06-18",
    publisher_url="https://www.data.gov.uk/dataset/acdf4a9e-a115-41fb-bbe9-603c819aa7f7/"
    "local-nature-reserves-england",
    attribution="© Natural England copyright. Contains Ordnance Survey data © Crown copyright "
    "and database right 2024",
    as_of="18 June 2024",
    origin="Natural England, the Trafford extract made by Trafford Data Lab.",
    publisher="Natural England",
    verified_by="Natural England open data",
)
PLACES_OF_WORSHIP = Source(
    slug="os_openmap_places_of_worship_2018",
    prefix="worship",
    title="Places of worship in Trafford (OS OpenMap Local)",
    files=("trafford/community_assets/places_of_worship/trafford_places_of_worship.geojson",),
    last_verified="2018-01-01",
    publisher_url="https://www.ordnancesurvey.co.uk/products/os-openmap-local",
    attribution="Contains OS data © Crown copyright and database right 2018",
    as_of="2018",
    origin="Ordnance Survey OpenMap Local (religious buildings), the Trafford extract made by "
    "Trafford Data Lab.",
    publisher="Ordnance Survey",
    verified_by="Ordnance Survey OpenMap Local",
)
SOURCES = (
    LIBRARIES,
    MENTAL_HEALTH,
    SPORT_FACILITIES,
    ALLOTMENTS,
    CHILDRENS_CENTRES,
    PARKS,
    NATURE_RESERVES,
    PLACES_OF_WORSHIP,
)
POSTCODE_FILE = "trafford/postcodes/trafford_postcodes_onspd_2022-06_lsoa11.csv"
# Copied unchanged for the coverage figures (`make run` loads them with `assetmap areas`).
AREA_FILES = (
    "trafford/boundaries/lsoa_2011_trafford_lsoa_generalised.geojson",
    "trafford/boundaries/ward_2023_trafford_ward_generalised.geojson",
    "trafford/deprivation/imd2019_trafford_lsoa11.csv",
    "trafford/population/mid-year_population_estimates_all_geographies.csv",
)

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


@dataclass(frozen=True)
class Postcode:
    postcode: str
    lon: float
    lat: float
    neighbourhood: str  # the House of Commons Library's name for its MSOA ("Sale Moor")


class PostcodeTable:
    """The ONS Postcode Directory extract: a postcode's point, and the postcode nearest a point."""

    def __init__(self, path: Path):
        self.by_postcode: dict[str, Postcode] = {}
        for row in read_csv(path):
            postcode = normalise_postcode(row["postcode"])
            if postcode and row["lon"] and row["lat"]:
                self.by_postcode[postcode] = Postcode(
                    postcode, float(row["lon"]), float(row["lat"]), row["msoa_hcl_name"]
                )
        self._all = sorted(self.by_postcode.values(), key=lambda p: p.postcode)

    def point(self, postcode: str) -> tuple[float, float] | None:
        found = self.by_postcode.get(postcode)
        return (found.lon, found.lat) if found else None

    def nearest(self, lon: float, lat: float) -> Postcode:
        """The postcode whose point is nearest (east-west degrees scaled by the latitude's
        cosine, which at this size is as good as the great-circle distance); ties by postcode."""
        scale = math.cos(math.radians(lat)) ** 2
        return min(self._all, key=lambda p: (p.lon - lon) ** 2 * scale + (p.lat - lat) ** 2)


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
        "verified_by": source.verified_by,
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


# --- places given as shapes: where to put the point, and the outline kept ----------------

# Outlines are simplified to within about 5 m (0.00005°) and their coordinates rounded to 6
# places: a park keeps its shape on the map, and the demo file (kept in git) stays small.
SIMPLIFY_DEGREES = 0.00005
# An entrance counts as a site's when it lies within about 20 m of the site's outline.
ENTRANCE_DEGREES = 0.0003


def _rounded_coordinates(value):
    if isinstance(value, (list, tuple)):
        if value and isinstance(value[0], (int, float)):
            return [round(float(v), 6) for v in value]
        return [_rounded_coordinates(v) for v in value]
    return value


def service_area(geometry) -> dict:
    """A site's outline as the record's service area: simplified, coordinates to 6 places."""
    simple = geometry.simplify(SIMPLIFY_DEGREES, preserve_topology=True)
    geojson = mapping(simple)
    return {"type": geojson["type"], "coordinates": _rounded_coordinates(geojson["coordinates"])}


def read_features(path: Path) -> list[dict]:
    with path.open(encoding="utf-8") as f:
        return json.load(f)["features"]


def entrance_or_inside(site, entrances: list) -> tuple[float, float]:
    """Where a site is placed: its entrance nearest the middle of the site, so that distances
    and walking times are to a way in; a point inside it when no entrance is listed."""
    near = [p for p in entrances if site.distance(p) <= ENTRANCE_DEGREES]
    if near:
        middle = site.centroid
        best = min(near, key=lambda p: (p.distance(middle), p.x, p.y))
        return best.x, best.y
    point = site.representative_point()
    return point.x, point.y


def nearest_area(postcodes: PostcodeTable, record: dict) -> None:
    """A record with no postcode in its source gets the nearest one in the ONS directory, and
    that postcode's neighbourhood as its address, so people can find it and search can place
    it by name."""
    nearest = postcodes.nearest(record["lon"], record["lat"])
    record["postcode"] = nearest.postcode
    record["address"] = nearest.neighbourhood


# --- Sport England Active Places -----------------------------------------------------------

# What each facility type is called in the description (Sport England's names, in everyday
# words). "All-weather pitches" are artificial grass pitches: the everyday name, and one a
# search for "art" does not find (keywords match the start of a word). A type not listed stops
# the build, so that a new one in a later file is worded on purpose.
FACILITY_WORDS = {
    "Swimming pools": "swimming pool",
    "Sports halls": "sports hall",
    "Health and fitness gym stations": "gym",
    "Studios": "activity studio",
    "Grass pitches": "grass pitches",
    "Artificial grass pitches": "all-weather pitches",
    "Outdoor tennis courts": "outdoor tennis courts",
    "Indoor tennis courts": "indoor tennis courts",
    "Squash courts": "squash courts",
    "Golf": "golf course",
    "Athletics": "athletics track",
    "Ski slopes": "ski slope",
    "Ice rinks": "ice rink",
}


@dataclass(frozen=True)
class Access:
    """What Sport England's access_type means for a resident."""

    open_to_residents: bool
    cost: str | None  # "free", "paid", or None when the source does not say
    words: str  # how the description says it
    short: str  # how the cost details say it, when a site's facilities differ


SPORT_ACCESS = {
    "Free Public Access": Access(True, "free", "free to use (no booking needed)", "free"),
    "Pay and Play": Access(
        True, "paid", "pay and play (pay when you go, no membership needed)", "pay as you go"
    ),
    "Registered Membership use": Access(True, "paid", "for members (join to use it)", "members"),
    "Sports Club / Community Association": Access(
        True,
        None,
        "used by sports clubs and community groups (ask about joining one)",
        "through a club",
    ),
    "Private Use": Access(False, None, "private use", ""),
}
# Accessibility from the access fields: a term is given when every facility on the site
# answers Yes to every field named. Sport England's entrance, doorway and reception
# questions together are read as step-free access.
SPORT_ACCESSIBILITY = [
    (
        (
            "disability_finding_reaching_entrance",
            "disability_doorways",
            "disability_reception_area",
        ),
        "step_free",
    ),
    (("disability_toilets",), "accessible_toilet"),
    (("car_park",), "parking"),
]
# Access fields with no term of their own, said in "Getting there" when every facility says Yes.
SPORT_ACCESS_NOTES = [
    ("disability_parking", "Disabled parking."),
    ("disability_changing_facilities", "Accessible changing rooms."),
]
# Placeholders for "no phone number" in the source.
NO_VALUE = {"", "NA", "00000 000000"}


def sport_site_records(
    opendata: Path, postcodes: PostcodeTable, parks: set[str]
) -> tuple[list[dict], int]:
    """One place per Sport England site open to residents, with its facilities, how each may be
    used, contacts and access; (records, how many private-use sites were left out).

    A site named as a park is is named by what it has there ("Davyhulme
    Park: outdoor tennis courts"), so that a list holding both tells them apart.
    """
    rows = read_csv(opendata / SPORT_FACILITIES.files[0])
    sites: dict[str, list[dict[str, str]]] = {}
    for row in rows:
        if row["facility_type"] not in FACILITY_WORDS:
            raise SystemExit(f"facility type {row['facility_type']!r}: add it to FACILITY_WORDS")
        if row["access_type"] not in SPORT_ACCESS:
            raise SystemExit(f"access type {row['access_type']!r}: add it to SPORT_ACCESS")
        sites.setdefault(row["site_id"], []).append(row)
    firsts = [facilities[0] for facilities in sites.values()]
    names = Counter(slugify(r["site_name"]) for r in firsts)
    records, private = [], 0
    for site_id, facilities in sites.items():
        open_rows = [r for r in facilities if SPORT_ACCESS[r["access_type"]].open_to_residents]
        if not open_rows:
            private += 1
            continue
        first = facilities[0]
        slug = slugify(first["site_name"])
        if names[slug] > 1:
            slug = f"{slug}-{slugify(first['postcode'])}"
        by_access: dict[str, list[str]] = {}
        for row in open_rows:
            words = FACILITY_WORDS[row["facility_type"]]
            kinds = by_access.setdefault(row["access_type"], [])
            if words not in kinds:
                kinds.append(words)
        everything = list(dict.fromkeys(w for kinds in by_access.values() for w in kinds))
        uses = [
            f"{and_list(kinds).capitalize()}: {SPORT_ACCESS[access].words}."
            for access, kinds in by_access.items()
        ]
        costs = {SPORT_ACCESS[access].cost for access in by_access}
        name = first["site_name"]
        if name in parks:
            name = f"{name}: {and_list(everything)}"
        record = base_record(SPORT_FACILITIES, name, site_id)
        record["id"] = f"{SPORT_FACILITIES.prefix}-{slug}"
        at = postcodes.by_postcode.get(normalise_postcode(first["postcode"]) or "")
        # The neighbourhood, as the source's town is often the post town ("Manchester").
        what = f"{and_list(everything).capitalize()} in {at.neighbourhood if at else first['town']}"
        if len(uses) == 1:  # "Swimming pool and gym in Sale: pay and play: ..."
            (access,) = by_access
            description = f"{what}, {SPORT_ACCESS[access].words}."
        else:
            description = f"{what}. " + " ".join(uses)
        record.update(
            description=description,
            kind="place",
            strand="access_community_resources",
            approach="pathways_to_participation",
            categories=["physical_activity"],
            address=", ".join(v for v in (first["street"], first["town"]) if v not in NO_VALUE),
            postcode=first["postcode"],
            phone=_value(first["telephone"]),
            email=_value(first["email"]),
            website=_value(first["website"]),
            cost=costs.pop() if len(costs) == 1 else None,
            cost_details="; ".join(
                f"{and_list(kinds)}: {SPORT_ACCESS[access].short}"
                for access, kinds in by_access.items()
            )
            if len(uses) > 1
            else "",
            accessibility=[
                term
                for fields_needed, term in SPORT_ACCESSIBILITY
                if all(r[name] == "Yes" for r in facilities for name in fields_needed)
            ],
            access_notes=" ".join(
                [
                    note
                    for name, note in SPORT_ACCESS_NOTES
                    if all(r[name] == "Yes" for r in facilities)
                ]
                + sorted({r["disability_notes"] for r in facilities} - NO_VALUE)
            ),
            last_verified=max(r["site_last_updated_date"] for r in facilities),
            lon=float(first["lon"]),
            lat=float(first["lat"]),
        )
        records.append(record)
    return records, private


def _value(text: str) -> str:
    return "" if text in NO_VALUE else text


def and_list(items: list[str]) -> str:
    """["pool", "gym", "studio"] -> "pool, gym and studio"."""
    return items[0] if len(items) == 1 else f"{', '.join(items[:-1])} and {items[-1]}"


# --- allotments ----------------------------------------------------------------------------


def allotment_records(opendata: Path, postcodes: PostcodeTable) -> list[dict]:
    """Allotment sites: a place for gardening, with the site's outline (OpenStreetMap) as its
    service area. Outlines of one name within SAME_PLACE_DEGREES are one site (OpenStreetMap
    draws some sites in parts), placed at the source's centre point of its largest part."""
    rows = read_csv(opendata / ALLOTMENTS.files[0])
    outlines = {
        f["properties"]["osm_id"]: shape(f["geometry"])
        for f in read_features(opendata / ALLOTMENTS.files[1])
    }
    sites = same_places([(row["name"], outlines[row["osm_id"]], row) for row in rows])
    records = []
    for name, parts in sites:
        _, largest = max(parts, key=lambda part: (part[0].area, part[1]["osm_id"]))
        if "allotment" not in name.lower():
            name = f"{name} Allotments"
        record = base_record(ALLOTMENTS, name, largest["osm_id"])
        record.update(lon=float(largest["lon"]), lat=float(largest["lat"]))
        nearest_area(postcodes, record)
        record.update(
            description=f"Allotment site in {record['address']}: plots where gardeners grow "
            "their own fruit, vegetables and flowers.",
            kind="place",
            strand="access_community_resources",
            approach="pathways_to_participation",
            categories=["gardening_nature"],
            service_area=service_area(unary_union([outline for outline, _ in parts])),
        )
        records.append(record)
    _ids_with_postcode_where_names_repeat(records, ALLOTMENTS)
    return records


# Shapes of one name within this distance (about 150 m) are one place: a church and its hall,
# an allotment site drawn in two parts.
SAME_PLACE_DEGREES = 0.002


def same_places(named_shapes: list[tuple[str, object, object]]) -> list[tuple[str, list]]:
    """(name, shape, item) triples grouped into places: [(name, [(shape, item), ...])], in the
    order first seen. Shapes join a place when they have its name and lie within
    SAME_PLACE_DEGREES of one of its shapes."""
    places: list[tuple[str, list]] = []
    for name, outline, item in named_shapes:
        for place_name, parts in places:
            if place_name == name and any(
                outline.distance(other) <= SAME_PLACE_DEGREES for other, _ in parts
            ):
                parts.append((outline, item))
                break
        else:
            places.append((name, [(outline, item)]))
    return places


def _ids_with_postcode_where_names_repeat(records: list[dict], source: Source) -> None:
    """Ids from the name, with the postcode added where names repeat (two "Moor Nook")."""
    names = Counter(slugify(r["name"]) for r in records)
    for record in records:
        slug = slugify(record["name"])
        if names[slug] > 1:
            slug = f"{slug}-{slugify(record['postcode'])}"
        record["id"] = f"{source.prefix}-{slug}"


# --- children's centres --------------------------------------------------------------------


def childrens_centre_records(opendata: Path) -> list[dict]:
    """Children's centres: a place for families with young children, with its phone."""
    records = []
    for row in read_csv(opendata / CHILDRENS_CENTRES.files[0]):
        record = base_record(CHILDRENS_CENTRES, row["name"], row["unique_reference_number"])
        where = re.sub(r"\s*children's centre$", "", row["name"], flags=re.I)
        record["id"] = f"{CHILDRENS_CENTRES.prefix}-{slugify(where)}"
        record.update(
            description=f"Children's centre in {where}: "
            "activities, advice and support for families with young children.",
            kind="place",
            strand="access_community_resources",
            approach="community_hubs",
            categories=["parenting_families"],
            audiences=["families", "children"],
            address=row["address"],
            postcode=row["postcode"],
            phone=row["telephone"],
            lon=float(row["lon"]),
            lat=float(row["lat"]),
        )
        records.append(record)
    return records


# --- parks (OS Open Greenspace) and local nature reserves ---------------------------------

# Which Open Greenspace sites become assets. Only named public parks and gardens: the other
# types are covered better by another source, or are not somewhere a resident goes to take
# part (and almost none of them have names: 88 of 88 play spaces, 48 of 48 bowling greens).
GREENSPACE_TYPES = {
    "Public Park Or Garden": "kept when it has a name",
    "Allotments Or Community Growing Spaces": "left out: the allotments file has them, named",
    "Religious Grounds": "left out: the places of worship file has the buildings",
    "Other Sports Facility": "left out: Sport England's sites have them, with contacts",
    "Playing Field": "left out: Sport England's sites have the pitches open to residents",
    "Tennis Court": "left out: Sport England's sites have them",
    "Golf Course": "left out: Sport England's sites have them",
    "Bowling Green": "left out: none has a name",
    "Play Space": "left out: none has a name",
    "Cemetery": "left out: not an activity",
}


# More categories for a park by words in its name.
PARK_NAME_CATEGORIES = [(r"community garden", ["gardening_nature"])]


def park_records(
    opendata: Path, postcodes: PostcodeTable, reserves: set[str]
) -> tuple[list[dict], Counter]:
    """Named public parks and gardens, placed at an entrance; (records, how many sites of each
    type were left out). A park that is also a local nature reserve is left to the reserve."""
    entrances = [
        shape(f["geometry"])
        for f in read_features(opendata / PARKS.files[1])
        if "Pedestrian" in f["properties"]["access_type"]
    ]
    records, left_out = [], Counter()
    for feature in read_features(opendata / PARKS.files[0]):
        props = feature["properties"]
        site_type, name = props["site_type"], (props["site_name"] or "").strip()
        if site_type not in GREENSPACE_TYPES:
            raise SystemExit(f"greenspace type {site_type!r}: add it to GREENSPACE_TYPES")
        if site_type != "Public Park Or Garden" or not name or name in reserves:
            left_out[site_type] += 1
            continue
        site = shape(feature["geometry"])
        record = base_record(PARKS, name, slugify(name))
        record["lon"], record["lat"] = entrance_or_inside(site, entrances)
        nearest_area(postcodes, record)
        record.update(
            description=f"Public park in {record['address']}, open to everyone: somewhere to "
            "walk, play and sit outside.",
            kind="place",
            strand="access_community_resources",
            approach="pathways_to_participation",
            categories=["walking", "physical_activity"] + all_matches(PARK_NAME_CATEGORIES, name),
            audiences=["everyone"],
            cost="free",
            cost_details="Free to visit.",
            service_area=service_area(site),
        )
        records.append(record)
    _ids_with_postcode_where_names_repeat(records, PARKS)
    return records, left_out


def nature_reserve_records(opendata: Path, postcodes: PostcodeTable) -> list[dict]:
    """Local nature reserves: places for walking and nature, at the source's point."""
    records = []
    for feature in read_features(opendata / NATURE_RESERVES.files[0]):
        props = feature["properties"]
        record = base_record(NATURE_RESERVES, props["site_name"], str(props["natural_england_gid"]))
        record["id"] = f"{NATURE_RESERVES.prefix}-{slugify(props['site_name'])}"
        record.update(lon=props["lon"], lat=props["lat"])
        nearest_area(postcodes, record)
        record.update(
            description=f"Local nature reserve in {record['address']} "
            f"({props['site_area_hectares']:.1f} hectares): a place for people and wildlife, "
            "to enjoy nature or learn about it.",
            kind="place",
            strand="access_community_resources",
            approach="pathways_to_participation",
            categories=["walking", "gardening_nature"],
            audiences=["everyone"],
            service_area=service_area(shape(feature["geometry"])),
        )
        records.append(record)
    return records


# --- places of worship ---------------------------------------------------------------------

# Buildings left out by name: chapels of cemeteries and schools are not open community venues.
WORSHIP_LEFT_OUT = r"cemetery|school"
# The tradition, from words in the name, said in the description ("Methodist church in Sale").
WORSHIP_TRADITIONS = [
    (r"synagogue|hebrew congregation", "synagogue"),
    (r"masjid|mosque", "mosque (masjid)"),
    (r"kingdom hall", "Kingdom Hall of Jehovah's Witnesses"),
    (r"methodist", "Methodist church"),
    (r"roman catholic|catholic", "Catholic church"),
    (r"baptist", "Baptist church"),
    (r"united reformed", "United Reformed church"),
    (r"unitarian", "Unitarian chapel"),
    (r"spiritualist", "Spiritualist church"),
    (r"salvation army", "Salvation Army church"),
    (r"congregational", "Congregational church"),
    (r"evangelical", "Evangelical church"),
    (r"church|chapel", "church"),
]


def place_of_worship_records(opendata: Path, postcodes: PostcodeTable) -> tuple[list[dict], int]:
    """Named places of worship, one per building or group of buildings of one name; (records,
    how many buildings were left out by WORSHIP_LEFT_OUT). The building's outline is not kept:
    it is the building, not the area it serves."""
    buildings, left_out = [], 0
    for feature in read_features(opendata / PLACES_OF_WORSHIP.files[0]):
        name = feature["properties"]["DISTNAME"].strip()
        if re.search(WORSHIP_LEFT_OUT, name, re.I):
            left_out += 1
            continue
        buildings.append((name, shape(feature["geometry"]), feature["properties"]["ID"]))
    records = []
    for name, parts in same_places(buildings):
        largest, _ = max(parts, key=lambda part: (part[0].area, part[1]))
        point = largest.representative_point()
        record = base_record(PLACES_OF_WORSHIP, name, min(os_id for _, os_id in parts))
        record.update(lon=point.x, lat=point.y)
        nearest_area(postcodes, record)
        tradition = first_match(WORSHIP_TRADITIONS, name) or "place of worship"
        record.update(
            description=f"{tradition[0].upper()}{tradition[1:]} in {record['address']}.",
            kind="place",
            strand="access_community_resources",
            approach="community_hubs",
            categories=["faith"],
        )
        records.append(record)
    _ids_with_postcode_where_names_repeat(records, PLACES_OF_WORSHIP)
    return records, left_out


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


def place(records: list[dict], postcodes: PostcodeTable):
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
        elif postcodes.point(postcode) is None:
            reason = f"no point in the source and {postcode} is not in the Trafford postcode file"
        else:
            record["lon"], record["lat"] = postcodes.point(postcode)
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
    """Unchanged copies of the files the data set comes from, the postcode table, and the
    areas, deprivation and population for coverage."""
    (data_dir / "sources").mkdir(parents=True, exist_ok=True)
    (data_dir / "postcodes").mkdir(parents=True, exist_ok=True)
    (data_dir / "areas").mkdir(parents=True, exist_ok=True)
    for name in AREA_FILES:
        shutil.copyfile(opendata / name, data_dir / "areas" / Path(name).name)
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
        f"Licence v3.0 ({OGL_URL}),",
        "except Sport England's (Creative Commons Attribution 4.0); the allotment boundaries are",
        "also under the Open Database License, as OpenStreetMap data. The rules that turn each",
        "file into asset records are in the script's docstring.",
        "",
        "Records made from files without postcodes (parks, nature reserves, allotments, places",
        "of worship) carry the nearest postcode in the ONS Postcode Directory extract below, and",
        "that postcode's neighbourhood as their address.",
        "",
        "Records whose `source` is `illustrative` (ids beginning `illustrative-`) are made up",
        "for illustration: they show features the open data lacks and describe no real group.",
        "",
    ]
    for source in SOURCES:
        lines += [f"## {source.title} (`source: {source.slug}`)", ""]
        lines += [f"- File: `sources/{Path(name).name}`" for name in source.files]
        lines += [
            f"- Source: {source.origin} Published by {source.publisher} at "
            f"{source.publisher_url} ({source.as_of}).",
            f"- Licence: {source.licence}.",
            f'- Attribution: "{source.attribution}".'
            + (
                f" Contains public sector information licensed under the {OGL}."
                if source.licence.startswith(OGL)
                else ""
            ),
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
        "## Areas, deprivation and population, for the coverage figures",
        "",
        *(f"- File: `areas/{Path(name).name}`" for name in AREA_FILES),
        "- Source: LSOA 2011 and ward 2023 boundaries (generalised) from the ONS Open Geography "
        "Portal; the English Indices of Deprivation 2019, File 1 (MHCLG), Trafford's 138 rows "
        "with the national file's header and format; ONS mid-2020 population estimates by "
        "local authority, ward, MSOA, LSOA and output area. Republished by Trafford Data Lab "
        "(traffordDataLab/spatial_data and open_data).",
        f"- Licence: {OGL}.",
        '- Attribution: "Contains National Statistics and OS data © Crown copyright and '
        'database right" (boundaries); "Contains public sector information licensed under the '
        f'{OGL}" (deprivation, population).',
        "",
    ]
    return "\n".join(lines)


def build(opendata: Path, out: Path) -> int:
    """Build everything; return the number of records listed as left out."""
    data_dir = out.parent
    postcodes = PostcodeTable(opendata / POSTCODE_FILE)
    reserves = nature_reserve_records(opendata, postcodes)
    parks, greenspace_left_out = park_records(opendata, postcodes, {r["name"] for r in reserves})
    sport_sites, private_sites = sport_site_records(
        opendata, postcodes, {r["name"] for r in parks + reserves}
    )
    worship, worship_left_out = place_of_worship_records(opendata, postcodes)
    by_source = {
        LIBRARIES.slug: library_records(opendata),
        MENTAL_HEALTH.slug: mental_health_records(opendata),
        SPORT_FACILITIES.slug: sport_sites,
        ALLOTMENTS.slug: allotment_records(opendata, postcodes),
        CHILDRENS_CENTRES.slug: childrens_centre_records(opendata),
        PARKS.slug: parks,
        NATURE_RESERVES.slug: reserves,
        PLACES_OF_WORSHIP.slug: worship,
        ILLUSTRATIVE: illustrative_records(),
    }
    print(f"left out by rule: {private_sites} Sport England sites for private use only;")
    print(
        f"  {worship_left_out} cemetery and school chapels; Open Greenspace sites: "
        + ", ".join(f"{n} {kind}" for kind, n in sorted(greenspace_left_out.items()))
        + " (see GREENSPACE_TYPES)"
    )
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
