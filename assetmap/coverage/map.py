"""The coverage page's folium map: empty layers that static/js/coverage-map.js fills.

Folium draws the map, the street tiles, one layer for the chosen strand's reach and one for
the deprivation deciles (a choice of two: the layer control's radio buttons), the assets on
top, and for coordinators the searches that found little. As on the main map
(`assetmap.maps`), no area or asset text is written into the page: the script fetches the
areas from /api/v1/coverage and the assets from /api/v1/assets and builds every shape and
label with DOM calls.

The colour classes are declared here once: the script colours the areas from them and the
page's legend says each in words.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from assetmap.maps import RenderedMap, _render
from assetmap.record.taxonomy import Strand


@dataclass(frozen=True)
class ColourClass:
    low: float  # the class holds values from low (inclusive)...
    high: float  # ...to high (exclusive)
    colour: str
    words: str


def reach_classes(minutes: int) -> tuple[ColourClass, ...]:
    """Reach (share of postcodes with an asset within the walk): darker is less reached."""
    walk = f"a {minutes}-minute walk"
    return (
        ColourClass(0.0, 0.2, "#3f007d", f"Under 20% of postcodes have one within {walk}"),
        ColourClass(0.2, 0.4, "#6a51a3", "20% to 40% of postcodes"),
        ColourClass(0.4, 0.6, "#9e9ac8", "40% to 60% of postcodes"),
        ColourClass(0.6, 0.8, "#cbc9e2", "60% to 80% of postcodes"),
        ColourClass(0.8, 1.01, "#f2f0f7", "80% or more of postcodes"),
    )


IMD_CLASSES = (
    ColourClass(1, 3, "#a50f15", "Deciles 1 and 2: among the 20% most deprived in England"),
    ColourClass(3, 5, "#de2d26", "Deciles 3 and 4"),
    ColourClass(5, 7, "#fb6a4a", "Deciles 5 and 6"),
    ColourClass(7, 9, "#fcae91", "Deciles 7 and 8"),
    ColourClass(9, 11, "#fee5d9", "Deciles 9 and 10: among the 20% least deprived"),
)

DEMAND_CLASSES = (
    ColourClass(1, 5, "#fdd49e", "Fewer than 5 searches found little"),
    ColourClass(5, 20, "#fc8d59", "5 to 19 searches found little"),
    ColourClass(20, 10**9, "#b30000", "20 or more searches found little"),
)

NO_FIGURE = "#bdbdbd"  # an area without postcodes, or without a decile


def class_of(value: float | None, classes: tuple[ColourClass, ...]) -> int | None:
    """The index of the class holding `value`, or None."""
    if value is None:
        return None
    for index, c in enumerate(classes):
        if c.low <= value < c.high:
            return index
    return None


def _classes_json(classes) -> list[dict]:
    return [{"low": c.low, "high": c.high, "colour": c.colour} for c in classes]


def build_coverage_map(
    *,
    static_url: Callable[[str], str],
    strand: Strand,
    minutes: int,
    tile_url: str,
    tile_attribution: str,
    centre: tuple[float, float],
    with_demand: bool,
) -> RenderedMap:
    import folium

    m = folium.Map(location=list(centre), zoom_start=12, tiles=None, control_scale=True)
    folium.TileLayer(
        tile_url, attr=tile_attribution, name="Street map", max_zoom=19, control=False
    ).add_to(m)
    reach = folium.FeatureGroup(name=f"Reach: {strand.label}", overlay=False, show=True)
    need = folium.FeatureGroup(name="Deprivation (IMD 2019 decile)", overlay=False, show=False)
    assets = folium.FeatureGroup(name=f"Assets: {strand.label}", overlay=True, show=True)
    layers = {"reach": reach, "need": need, "assets": assets}
    if with_demand:
        layers["demand"] = folium.FeatureGroup(
            name="Searches that found little", overlay=True, show=False
        )
    for layer in layers.values():
        layer.add_to(m)
    folium.LayerControl(collapsed=False, position="topright").add_to(m)
    config = {
        "map": m.get_name(),
        "layers": {name: layer.get_name() for name, layer in layers.items()},
        "strand": strand.slug,
        "reachClasses": _classes_json(reach_classes(minutes)),
        "imdClasses": _classes_json(IMD_CLASSES),
        "demandClasses": _classes_json(DEMAND_CLASSES),
        "noFigure": NO_FIGURE,
    }
    return _render(m, static_url, own_scripts=("js/coverage-map.js",), config=config)
