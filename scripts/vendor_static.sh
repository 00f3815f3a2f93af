#!/usr/bin/env bash
# Refresh the vendored Leaflet and Leaflet.markercluster files in assetmap/static/vendor
# from the npm registry at the pinned versions below, keeping each package's licence.
# The app serves these itself so that no page needs a CDN (NHS and council networks often
# block them). Run it only to change a version; the result is committed.
set -euo pipefail
LEAFLET=1.9.4
MARKERCLUSTER=1.5.3
here=$(cd "$(dirname "$0")/.." && pwd)
dest="$here/assetmap/static/vendor"
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
cd "$work"
npm pack --silent "leaflet@$LEAFLET" "leaflet.markercluster@$MARKERCLUSTER" >/dev/null
rm -rf "$dest/leaflet" "$dest/leaflet.markercluster"
mkdir -p "$dest/leaflet" "$dest/leaflet.markercluster"
tar -xzf "leaflet-$LEAFLET.tgz"
cp package/dist/leaflet.js package/dist/leaflet.css package/LICENSE "$dest/leaflet/"
cp -r package/dist/images "$dest/leaflet/"
rm -rf package
tar -xzf "leaflet.markercluster-$MARKERCLUSTER.tgz"
cp package/dist/leaflet.markercluster.js package/dist/MarkerCluster.css \
   package/dist/MarkerCluster.Default.css package/MIT-LICENCE.txt "$dest/leaflet.markercluster/"
printf 'leaflet %s\nleaflet.markercluster %s\n' "$LEAFLET" "$MARKERCLUSTER" > "$dest/VERSIONS"
echo "vendored into $dest:"
cat "$dest/VERSIONS"
