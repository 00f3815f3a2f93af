"""Folium maps of assets, with every script and stylesheet served by the app itself.

Folium draws the map, the tile layer, one clustered layer per strand and the layer control.
It does not get the assets: no asset text is ever written into the page's HTML or script.
The browser script static/js/asset-map.js fetches them as GeoJSON from the API and builds
each marker and popup with DOM calls (textContent), so a name like `${alert(1)}` stays text,
and thousands of assets do not make the page heavier.

This module has no Flask import: the caller passes a function that turns a static file name
into its URL.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from assetmap.record import taxonomy

if TYPE_CHECKING:
    from branca.element import Element

# Folium's resources by the names folium gives them, and the vendored file serving each.
# A resource missing here makes `build_asset_map` fail loudly rather than reach for a CDN.
LOCAL_RESOURCES: dict[str, str] = {
    "leaflet": "vendor/leaflet/leaflet.js",
    "leaflet_css": "vendor/leaflet/leaflet.css",
    "markerclusterjs": "vendor/leaflet.markercluster/leaflet.markercluster.js",
    "markerclustercss": "vendor/leaflet.markercluster/MarkerCluster.css",
    "markerclusterdefaultcss": "vendor/leaflet.markercluster/MarkerCluster.Default.css",
}

# What folium's Map declares for its own markers, icons and popups (jQuery, Bootstrap,
# Font Awesome, awesome-markers). We use none of those, so they are not loaded at all.
UNUSED_RESOURCES = frozenset(
    {
        "jquery",
        "bootstrap",
        "awesome_markers",
        "bootstrap_css",
        "glyphicons_css",
        "awesome_markers_font_css",
        "awesome_markers_css",
        "awesome_rotate_css",
    }
)

# What our own pages need and folium does not know about, loaded after folium's.
OWN_SCRIPTS = ("js/asset-map.js",)


@dataclass
class RenderedMap:
    """The parts of a folium map that a page template places: its element, its script, the
    scripts and stylesheets it needs (all local), and the configuration for asset-map.js."""

    html: str
    script: str
    scripts: list[str]  # before the folium script
    stylesheets: list[str]
    own_scripts: list[str] = field(default_factory=list)  # after it
    config: dict = field(default_factory=dict)


def _use_local_resources(element: Element, static_url: Callable[[str], str]) -> None:
    """Point an element's declared JS and CSS at our static files instead of a CDN."""
    for attribute in ("default_js", "default_css"):
        declared = getattr(element, attribute, None)
        if not declared:
            continue
        local = []
        for name, url in declared:
            if name in UNUSED_RESOURCES:
                continue
            if name not in LOCAL_RESOURCES:
                raise LookupError(
                    f"folium wants {name!r} from {url}; vendor it into assetmap/static and "
                    "add it to assetmap.maps.LOCAL_RESOURCES"
                )
            local.append((name, static_url(LOCAL_RESOURCES[name])))
        setattr(element, attribute, local)


def _walk(element: Element):
    yield element
    for child in element._children.values():
        yield from _walk(child)


def strand_layer_name(strand: taxonomy.Strand) -> str:
    """The layer control's label: a colour swatch (styled from strands.css) and the words."""
    return (
        f'<span class="strand-swatch strand-{strand.slug}" aria-hidden="true"></span>{strand.label}'
    )


def build_asset_map(
    *,
    static_url: Callable[[str], str],
    api_url: str,
    asset_url: str,
    tile_url: str,
    tile_attribution: str,
    centre: tuple[float, float],
    focus: str | None = None,
    zoom: int = 12,
) -> RenderedMap:
    """A map of every asset, one clustered layer per strand that the layer control can hide.

    `api_url` is the GeoJSON listing the browser pages through; `asset_url` is the asset
    page's URL with ASSET_ID where the id goes; `focus` is an asset id to zoom to and open.
    """
    import folium
    from folium.plugins import MarkerCluster

    m = folium.Map(location=list(centre), zoom_start=zoom, tiles=None, control_scale=True)
    folium.TileLayer(
        tile_url, attr=tile_attribution, name="Street map", max_zoom=19, control=False
    ).add_to(m)
    layers = {}
    for strand in taxonomy.STRANDS:
        cluster = MarkerCluster(
            name=strand_layer_name(strand),
            options={"chunkedLoading": True, "showCoverageOnHover": False},
        )
        cluster.add_to(m)
        layers[strand.slug] = cluster.get_name()
    control = folium.LayerControl(collapsed=False, position="topright")
    control.add_to(m)

    config = {
        "map": m.get_name(),
        "layers": layers,
        "api": api_url,
        "assetUrl": asset_url,
        "focus": focus,
        "strands": {s.slug: s.label for s in taxonomy.STRANDS},
        "kinds": {k.slug: k.label for k in taxonomy.KINDS},
        "layerControl": control.get_name(),
    }
    rendered = _render(m, static_url, own_scripts=OWN_SCRIPTS, config=config)
    # Folium declares the layer control with `let`, out of reach of asset-map.js, which folds
    # it away on a phone (open, it covers a fifth of the map and the zoom buttons).
    rendered.script += f"\nwindow.{control.get_name()} = {control.get_name()};\n"
    return rendered


def build_location_map(
    *,
    static_url: Callable[[str], str],
    lat: float,
    lon: float,
    tile_url: str,
    tile_attribution: str,
) -> RenderedMap:
    """A small map of one place: a circle at the point and nothing else (no text, no popup)."""
    import folium

    m = folium.Map(location=[lat, lon], zoom_start=16, tiles=None, control_scale=True)
    folium.TileLayer(tile_url, attr=tile_attribution, name="Street map", max_zoom=19).add_to(m)
    folium.CircleMarker(
        [lat, lon],
        radius=10,
        weight=3,
        color="#0b0c0c",
        fill=True,
        fill_color="#ffbf47",
        fill_opacity=0.9,
    ).add_to(m)
    return _render(m, static_url, own_scripts=(), config={})


def _render(m, static_url, *, own_scripts, config) -> RenderedMap:
    for element in _walk(m.get_root()):
        _use_local_resources(element, static_url)
    root = m.get_root()
    root.render()  # collects each element's script into root.script
    scripts, stylesheets = [], []
    for element in _walk(root):
        scripts.extend(url for _, url in getattr(element, "default_js", []) if url not in scripts)
        stylesheets.extend(
            url for _, url in getattr(element, "default_css", []) if url not in stylesheets
        )
    return RenderedMap(
        html=root.html.render(),
        script=root.script.render(),
        scripts=scripts,
        stylesheets=stylesheets,
        own_scripts=[static_url(path) for path in own_scripts],
        config=config,
    )


def build_plan_map(
    *,
    static_url: Callable[[str], str],
    points: list[tuple[float, float]],
    tile_url: str,
    tile_attribution: str,
) -> RenderedMap:
    """A map of a plan's activities, numbered 1, 2, 3 as in the list beside it."""
    import folium

    m = folium.Map(
        location=list(points[0]) if points else [53.42, -2.35],
        zoom_start=14,
        tiles=None,
        control_scale=True,
    )
    folium.TileLayer(tile_url, attr=tile_attribution, name="Street map", max_zoom=19).add_to(m)
    _numbered_markers(m, points)
    if len(points) > 1:
        m.fit_bounds(_bounds(points), padding=(30, 30))
    return _render(m, static_url, own_scripts=(), config={})


def build_search_map(
    *,
    static_url: Callable[[str], str],
    centre: tuple[float, float],
    radius_m: float,
    points: list[tuple[float, float]],
    first_number: int,
    tile_url: str,
    tile_attribution: str,
) -> RenderedMap:
    """The search circle around its centre, and the results numbered as in the list."""
    import folium

    m = folium.Map(location=list(centre), zoom_start=14, tiles=None, control_scale=True)
    folium.TileLayer(tile_url, attr=tile_attribution, name="Street map", max_zoom=19).add_to(m)
    folium.Circle(
        list(centre),
        radius=radius_m,
        color="#1d70b8",
        weight=2,
        fill=True,
        fill_opacity=0.05,
        interactive=False,
    ).add_to(m)
    folium.CircleMarker(
        list(centre), radius=5, color="#0b0c0c", fill=True, fill_opacity=1, interactive=False
    ).add_to(m)
    _numbered_markers(m, points, first_number)
    dlat = radius_m / 111_320
    dlon = dlat / max(math.cos(math.radians(centre[0])), 0.01)
    m.fit_bounds([[centre[0] - dlat, centre[1] - dlon], [centre[0] + dlat, centre[1] + dlon]])
    return _render(m, static_url, own_scripts=(), config={})


def _numbered_markers(m, points: list[tuple[float, float]], first: int = 1) -> None:
    """Markers carrying only their numbers (integers made here), never an asset's text."""
    import folium

    for number, (lat, lon) in enumerate(points, start=first):
        icon = folium.DivIcon(
            html=f'<span class="plan-marker">{int(number)}</span>',
            icon_size=(30, 30),
            icon_anchor=(15, 15),
            class_name="plan-marker-icon",
        )
        folium.Marker([lat, lon], icon=icon, keyboard=False).add_to(m)


def _bounds(points):
    return [
        [min(p[0] for p in points), min(p[1] for p in points)],
        [max(p[0] for p in points), max(p[1] for p in points)],
    ]
