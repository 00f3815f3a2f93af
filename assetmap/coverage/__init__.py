"""Where assets are missing: areas, their need (deprivation) and population, and the reach of
the directory's assets from where people live (issue 18).

- `areas`: reading boundary files (LSOA, MSOA, ward) into named areas.
- `figures`: reading need (IMD 2019 ranks and deciles) and population files, by area code.
- `reach`: for each area and strand, how many assets are within a walk of its postcodes, and
  the gap score that puts high need with low reach first.

All of it is plain Python over geopandas and shapely; SQL is in `assetmap/store/areas.py`.
"""
