"""Hostile strings: what attackers and accidents put into a directory's text fields.

EXACT strings must read back exactly as entered, everywhere, and never run. CLEANED strings
are reduced by assetmap.record.validation (HTML formatting from web pages becomes text; NUL and
invisible characters go) and must read back as the value given, and never run either.
"""

EXACT = [
    "<script>alert(1)</script>",
    "<img src=x onerror=alert(1)>${alert(2)}",
    '"><svg onload=alert(3)>',
    '\'><iframe src="javascript:alert(4)"></iframe>',
    "`${alert(5)}` and ${alert(5)}",
    "</script><script>alert(6)</script>",
    "javascript:alert(7)",
    "data:text/html;base64,PHNjcmlwdD5hbGVydCg4KTwvc2NyaXB0Pg==",
    "<svg><script>alert(9)</script></svg>",
    "{{ 7*7 }} {% print(7*7) %} #{7*7}",
    "\u202eevil\u202c right-to-left override",
    "'; DROP TABLE assets; --",
    'name:walk OR "bar NEAR(a b) * ^ -x AND',
    "<<SCRIPT>alert(19);//<</SCRIPT>",
    '" onmouseover="alert(20)" x="',
    "<style>*{display:none}</style>",
    "%3Cscript%3Ealert(22)%3C%2Fscript%3E",
    "＜script＞alert(23)＜/script＞ full-width",
    "\\u003cscript\\u003ealert(24)\\u003c/script\\u003e",
    '<math><maction actiontype="statusline" xlink:href="javascript:alert(25)">x</maction></math>',
]

CLEANED = {
    "Null\x00byte<script>alert(26)</script>": "Nullbyte<script>alert(26)</script>",
    "Zero\u200bwidth ${alert(27)}": "Zerowidth ${alert(27)}",
    '<a href="javascript:alert(28)">click me</a>': "click me",
    "&lt;script&gt;alert(29)&lt;/script&gt;": "<script>alert(29)</script>",
    "<p>Tea &amp; cake</p><script>alert(30)</script>": "Tea & cake",
}


def corpus() -> list[tuple[str, str]]:
    """(as entered, as it must read back) for every hostile string."""
    return [(s, s) for s in EXACT] + list(CLEANED.items())


def enter_through_form(client, entered: str, n: int = 0) -> str:
    """Add an asset named and described `entered` through the coordinator's form (the client
    must be signed in as a coordinator), placed by `n` so markers do not overlap; returns its
    id."""
    from tests.conftest import csrf_token

    token = csrf_token(client, "/manage/assets/new")
    response = client.post(
        "/manage/assets/new",
        data={
            "csrf_token": token,
            "name": entered,
            "description": entered,
            "kind": "group",
            "strand": "access_community_resources",
            "lat": str(53.4363 + n * 0.002),
            "lon": "-2.3034",
            "organisation": entered,
        },
    )
    assert response.status_code == 302, response.get_data(as_text=True)[:2000]
    return response.headers["Location"].rsplit("/", 1)[1]


def load_file_features(prefix: str = "hostile-load") -> list[dict]:
    """A GeoJSON feature per hostile string, for `assetmap load`; ids are prefix-N."""
    features = []
    for n, (entered, _) in enumerate(corpus()):
        features.append(
            {
                "type": "Feature",
                "id": f"{prefix}-{n}",
                "geometry": {"type": "Point", "coordinates": [-2.3034 + n * 0.002, 53.4263]},
                "properties": {
                    "name": entered,
                    "description": entered,
                    "kind": "group",
                    "strand": "volunteer_peer_roles",
                    "organisation": entered,
                },
            }
        )
    return features


def hostile_assets(prefix: str = "hostile") -> list[dict]:
    """One raw asset per hostile string, in every free-text field an Open Referral service
    carries (name, description, organiser, address, access notes, cost, language, schedule
    notes); ids are prefix-N."""
    from tests.conftest import make_asset

    return [
        make_asset(
            id=f"{prefix}-{n}",
            name=entered,
            description=entered,
            organisation=entered,
            address=entered,
            access_notes=entered,
            cost_details=entered,
            languages=[entered],
            schedule={"sessions": [], "notes": entered},
        )
        for n, (entered, _) in enumerate(corpus())
    ]
