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

  var form = document.getElementById("map-filters");
  var results = document.getElementById("results");

  /** The filters chosen in the form, as a query string (empty values left out). */
  function filterQuery(extra) {
    var params = new URLSearchParams();
    if (form) {
      new FormData(form).forEach(function (value, name) {
        if (value !== "" && config.filters.indexOf(name) >= 0) params.append(name, value);
      });
    }
    Object.keys(extra || {}).forEach(function (name) { params.set(name, extra[name]); });
    return params.toString();
  }

  // The map needs only these properties; the rest are on each asset's page.
  var MAP_FIELDS = "name,kind,strand,source,address,postcode";
  var PAGE_SIZE = 1000;
  var generation = 0;

  async function fetchPage(query, offset) {
    var url = config.api + "?" + (query ? query + "&" : "") + "fields=" + MAP_FIELDS +
      "&limit=" + PAGE_SIZE + "&offset=" + offset;
    var response = await fetch(url, { headers: { Accept: "application/geo+json" } });
    if (!response.ok) throw new Error("the server answered " + response.status);
    return response.json();
  }

  /**
   * Fetch every asset matching the filters, a page at a time (the pages after the first in
   * parallel), and add them to their strand's cluster layer in chunks. A newer call (the
   * filters changed again) makes an older one stop adding markers.
   */
  async function loadAssets(query) {
    var mine = ++generation;
    var result = { count: 0, bounds: L.latLngBounds([]) };
    Object.keys(layers).forEach(function (strand) { layers[strand].clearLayers(); });
    markersById = {};

    function add(features) {
      if (mine !== generation) return;
      var byStrand = {};
      features.forEach(function (feature) {
        var layer = layers[feature.properties.strand];
        if (!layer) return;
        var marker = makeMarker(feature);
        markersById[feature.id] = { marker: marker, layer: layer };
        (byStrand[feature.properties.strand] = byStrand[feature.properties.strand] || []).push(marker);
        result.bounds.extend(marker.getLatLng());
        result.count += 1;
      });
      Object.keys(byStrand).forEach(function (strand) {
        clustering.push(addToLayer(layers[strand], byStrand[strand]));
      });
    }

    var clustering = [];
    var first = await fetchPage(query, 0);
    add(first.features);
    var offsets = [];
    for (var offset = first.features.length; offset < first.total; offset += PAGE_SIZE) {
      offsets.push(offset);
    }
    var pages = await Promise.all(offsets.map(function (o) { return fetchPage(query, o); }));
    pages.forEach(function (page) { add(page.features); });
    await Promise.all(clustering);
    if (mine !== generation) throw new Error("superseded");
    return result;
  }

  /**
   * Add markers to a cluster layer; resolves once the layer has clustered them all (with
   * chunkedLoading the work is spread over several frames so the page stays responsive).
   */
  function addToLayer(layer, markers) {
    return new Promise(function (resolve) {
      if (!layer._map) {  // a strand hidden in the layer control clusters when shown again
        layer.addLayers(markers);
        resolve();
        return;
      }
      layer.options.chunkProgress = function (done, total) { if (done >= total) resolve(); };
      layer.addLayers(markers);
    });
  }

  function showLoaded(result) {
    showStatus(result.count === 1 ? "Showing 1 place." : "Showing " + result.count + " places.");
    map.getContainer().setAttribute("data-assets-loaded", String(result.count));
  }

  function showFailure(error) {
    if (error.message === "superseded") return;  // a newer set of filters is loading
    showStatus("The places could not be loaded (" + error.message + "). The list below still works.");
    map.getContainer().setAttribute("data-assets-loaded", "error");
  }

  /** Replace the list under the map with the server's list for these filters. */
  async function refreshList(query) {
    if (!results) return;
    var response = await fetch(config.listUrl + (query ? "?" + query : ""));
    if (!response.ok) throw new Error("the server answered " + response.status);
    // The server escapes every value in this fragment, as in any page it renders.
    results.innerHTML = await response.text();
  }

  function applyFilters() {
    var query = filterQuery();
    history.replaceState(null, "", location.pathname + (query ? "?" + query : ""));
    map.getContainer().removeAttribute("data-assets-loaded");
    showStatus("Loading places on the map…");
    Promise.all([loadAssets(query), refreshList(query)]).then(function (done) {
      var result = done[0];
      if (result.bounds.isValid()) map.fitBounds(result.bounds, { padding: [20, 20], maxZoom: 15 });
      showLoaded(result);
    }).catch(showFailure);
  }

  function searchThisArea() {
    var b = map.getBounds();
    var bbox = [b.getWest(), b.getSouth(), b.getEast(), b.getNorth()]
      .map(function (n) { return n.toFixed(5); }).join(",");
    refreshList(filterQuery({ bbox: bbox })).then(function () {
      var heading = document.getElementById("results-heading");
      if (heading) { heading.setAttribute("tabindex", "-1"); heading.focus(); }
    }).catch(showFailure);
  }

  function useMyLocation() {
    if (!navigator.geolocation) {
      showStatus("This browser cannot share its location. Move the map instead.");
      return;
    }
    showStatus("Asking your browser for your location…");
    navigator.geolocation.getCurrentPosition(function (position) {
      map.setView([position.coords.latitude, position.coords.longitude], 15);
      showStatus("The map is centred on your location.");
      searchThisArea();
    }, function () {
      showStatus("Your location was not shared, so the map has not moved.");
    }, { timeout: 10000, maximumAge: 600000 });
  }

  /** Move the map to a postcode (placed by the search API) and list what is around it. */
  async function goToPostcode(event) {
    event.preventDefault();
    var postcode = document.getElementById("map-postcode").value.trim();
    if (!postcode) { showStatus("Type a postcode, such as M33 7ZF."); return; }
    var url = config.searchApi + "?limit=1&radius_km=1&postcode=" + encodeURIComponent(postcode);
    var response = await fetch(url, { headers: { Accept: "application/geo+json" } });
    var body = await response.json();
    if (!response.ok) {
      showStatus(body.error.replace(/^postcode: /, ""));
      return;
    }
    map.setView([body.centre.lat, body.centre.lon], 15);
    showStatus("The map is centred on " + body.centre.label + ".");
    searchThisArea();
  }

  var jump = document.getElementById("postcode-jump");
  if (jump) {
    jump.addEventListener("submit", function (event) {
      goToPostcode(event).catch(showFailure);
    });
  }

  if (form) {
    form.addEventListener("change", applyFilters);
    form.addEventListener("submit", function (event) { event.preventDefault(); applyFilters(); });
    var tools = document.querySelector(".map-tools");
    if (tools) tools.hidden = false;
    document.getElementById("search-area").addEventListener("click", searchThisArea);
    document.getElementById("use-location").addEventListener("click", useMyLocation);
  }

  loadAssets(filterQuery()).then(function (result) {
    var focus = config.focus && markersById[config.focus];
    if (focus) {
      // Jump straight to street level (no animation), then open it, out of a cluster if need be.
      map.setView(focus.marker.getLatLng(), 17, { animate: false });
      focus.layer.zoomToShowLayer(focus.marker, function () { focus.marker.openPopup(); });
    } else if (result.bounds.isValid()) {
      map.fitBounds(result.bounds, { padding: [20, 20], maxZoom: 15 });
    }
    showLoaded(result);
  }).catch(showFailure);
})();
