/*
 * Fills the folium map on /map with assets fetched from the GeoJSON API.
 *
 * Folium has drawn the map and one marker-cluster layer per strand; their JavaScript names come
 * in the JSON configuration block. Each marker and popup is built with DOM calls and
 * textContent, never by joining strings into HTML, so text such as "<img onerror=...>" or
 * "${alert(1)}" in an asset's name is shown as text and never runs.
 */
(function () {
  "use strict";

  var config = JSON.parse(document.getElementById("asset-map-config").textContent);
  var map = window[config.map];
  var status = document.getElementById("map-status");
  var layers = {};
  Object.keys(config.layers).forEach(function (strand) {
    var layer = window[config.layers[strand]];
    layer.options.iconCreateFunction = clusterIcon(strand);
    layers[strand] = layer;
  });
  var markersById = {};

  function clusterIcon(strand) {
    return function (cluster) {
      var count = cluster.getChildCount();
      var size = count < 10 ? 34 : count < 100 ? 42 : 50;
      var element = document.createElement("span");
      element.textContent = String(count);
      return L.divIcon({
        html: element,
        className: "asset-cluster strand-" + strand,
        iconSize: [size, size],
      });
    };
  }

  function el(tag, text, className) {
    var node = document.createElement(tag);
    if (text !== undefined && text !== null) node.textContent = text;
    if (className) node.className = className;
    return node;
  }

  function popupContent(feature) {
    var p = feature.properties;
    var box = el("div", null, "asset-popup");
    box.appendChild(el("h2", p.name));
    var kind = config.kinds[p.kind] || p.kind;
    var strand = config.strands[p.strand] || p.strand;
    box.appendChild(el("p", kind + " · " + strand));
    if (p.source === "illustrative") {
      box.appendChild(el("p", "Illustrative example, not a real group.", "popup-illustrative"));
    }
    if (p.address || p.postcode) {
      box.appendChild(el("p", [p.address, p.postcode].filter(Boolean).join(", ")));
    }
    var link = el("a", "Details of " + p.name);
    link.href = config.assetUrl.replace("ASSET_ID", encodeURIComponent(feature.id));
    box.appendChild(el("p")).appendChild(link);
    return box;
  }

  function makeMarker(feature) {
    var coordinates = feature.geometry.coordinates;
    var strand = feature.properties.strand;
    var marker = L.marker([coordinates[1], coordinates[0]], {
      icon: L.divIcon({ className: "asset-marker strand-" + strand, iconSize: [16, 16] }),
      title: feature.properties.name,
      alt: feature.properties.name,
      keyboard: true,
    });
    marker.bindPopup(function () { return popupContent(feature); });
    marker.assetId = feature.id;
    return marker;
  }

  function showStatus(text) {
    if (status) status.textContent = text;
  }

  async function loadAssets() {
    var url = config.api + (config.api.indexOf("?") < 0 ? "?" : "&") + "limit=1000";
    var count = 0;
    var bounds = L.latLngBounds([]);
    while (url) {
      var response = await fetch(url, { headers: { Accept: "application/geo+json" } });
      if (!response.ok) throw new Error("the server answered " + response.status);
      var page = await response.json();
      var byStrand = {};
      page.features.forEach(function (feature) {
        var layer = layers[feature.properties.strand];
        if (!layer) return;
        var marker = makeMarker(feature);
        markersById[feature.id] = { marker: marker, layer: layer };
        (byStrand[feature.properties.strand] = byStrand[feature.properties.strand] || []).push(marker);
        bounds.extend(marker.getLatLng());
        count += 1;
      });
      Object.keys(byStrand).forEach(function (strand) {
        layers[strand].addLayers(byStrand[strand]);
      });
      url = page.next;
    }
    return { count: count, bounds: bounds };
  }

  loadAssets().then(function (result) {
    var focus = config.focus && markersById[config.focus];
    if (focus) {
      // Jump straight to street level (no animation), then open it, out of a cluster if need be.
      map.setView(focus.marker.getLatLng(), 17, { animate: false });
      focus.layer.zoomToShowLayer(focus.marker, function () { focus.marker.openPopup(); });
    } else if (result.bounds.isValid()) {
      map.fitBounds(result.bounds, { padding: [20, 20] });
    }
    showStatus(result.count === 1 ? "Showing 1 place." : "Showing " + result.count + " places.");
    map.getContainer().setAttribute("data-assets-loaded", String(result.count));
  }).catch(function (error) {
    showStatus("The places could not be loaded (" + error.message + "). Please reload the page.");
    map.getContainer().setAttribute("data-assets-loaded", "error");
  });
})();
