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
  // Where the list is ordered from after "Go" with a postcode or "Use my location" (null until
  // then): {lat, lon, label}. The list then holds what is in view, nearest to it first.
  var here = null;
  var SMALL_SCREEN = window.matchMedia("(max-width: 48rem)");

  // Every place on the map is also in the list under it, so neither markers nor clusters are
  // tab stops (a cluster of 60 was 60 presses of Tab): the list, and its "Show on the map"
  // buttons, are the keyboard's way to them. Markers keep Leaflet's role and Enter key.
  L.MarkerCluster.mergeOptions({ keyboard: false });

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
    var heading = box.appendChild(el("h2", p.name));
    heading.tabIndex = -1;  // focus moves here when the popup is opened from the keyboard
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
    marker.on("add", function () { if (marker._icon) marker._icon.tabIndex = -1; });
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
    offerShowOnMap();
  }

  function applyFilters() {
    var query = filterQuery();
    history.replaceState(null, "", location.pathname + (query ? "?" + query : ""));
    map.getContainer().removeAttribute("data-assets-loaded");
    showStatus("Loading places on the map…");
    // Once the map is at a postcode or the person's location it stays there, and the list keeps
    // to what is in view, nearest first.
    var listQuery = here ? filterQuery(inView()) : query;
    Promise.all([loadAssets(query), refreshList(listQuery)]).then(function (done) {
      var result = done[0];
      if (!here && result.bounds.isValid()) {
        map.fitBounds(result.bounds, { padding: [20, 20], maxZoom: 15 });
      }
      showLoaded(result);
    }).catch(showFailure);
  }

  /** The map's view, and the place the list is ordered from, as list parameters. */
  function inView() {
    var b = map.getBounds();
    var extra = {
      bbox: [b.getWest(), b.getSouth(), b.getEast(), b.getNorth()]
        .map(function (n) { return n.toFixed(5); }).join(","),
    };
    if (here) {
      extra.near = here.lat.toFixed(6) + "," + here.lon.toFixed(6);
      extra.near_label = here.label;
    }
    return extra;
  }

  function searchThisArea() {
    refreshList(filterQuery(inView())).then(function () {
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
      here = {
        lat: position.coords.latitude, lon: position.coords.longitude, label: "your location",
      };
      // Without animation, so the view the list is made from is the new one, not the old.
      map.setView([here.lat, here.lon], 15, { animate: false });
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
    here = { lat: body.centre.lat, lon: body.centre.lon, label: body.centre.label };
    map.setView([here.lat, here.lon], 15, { animate: false });
    showStatus("The map is centred on " + body.centre.label + ".");
    searchThisArea();
  }

  // The keyboard and the popups: a popup opened from the keyboard (Enter on a marker, or a
  // list's "Show on the map") takes the focus, so its text is read and its link is next;
  // Esc, or its close button, closes it and gives the focus back to where it came from.
  var opener = null;

  function fromKeyboardPath(element) {
    return element && element !== document.body &&
      (element.classList.contains("asset-marker") || element.classList.contains("show-on-map"));
  }

  map.on("popupopen", function (event) {
    var active = document.activeElement;
    if (!fromKeyboardPath(active)) { opener = null; return; }
    opener = active;
    var heading = event.popup.getElement().querySelector(".asset-popup h2");
    if (heading) heading.focus();
  });

  /** Where the focus goes back to when a popup closes: where it came from, or its marker. */
  function giveFocusBack(popup, back) {
    if (!back) return;
    if (!document.body.contains(back)) {
      var source = popup._source;  // the marker, its icon made again if it was re-clustered
      back = source && source._icon;
    }
    if (back) back.focus();
  }

  map.on("popupclose", function (event) {
    var container = event.popup.getElement();
    var active = document.activeElement;
    var lost = !active || active === document.body || (container && container.contains(active));
    var back = opener;
    opener = null;
    if (lost) giveFocusBack(event.popup, back);
  });

  map.getContainer().addEventListener("keydown", function (event) {
    if (event.key !== "Escape") return;
    var popup = event.target.closest && event.target.closest(".leaflet-popup");
    if (!popup) return;
    event.preventDefault();
    event.stopPropagation();
    map.closePopup();  // popupclose gives the focus back
  });

  /** "Show on the map" beside each place in the list: zoom to its marker and open it. */
  function showOnMap(button) {
    var found = markersById[button.getAttribute("data-asset")];
    if (!found) {
      showStatus("That place is not on the map with these filters.");
      return;
    }
    found.layer.zoomToShowLayer(found.marker, function () {
      button.focus();  // the popup opens from this button, and Esc comes back to it
      found.marker.openPopup();
    });
  }

  function offerShowOnMap() {
    if (!results) return;
    results.querySelectorAll(".show-on-map").forEach(function (button) { button.hidden = false; });
  }

  if (results) {
    results.addEventListener("click", function (event) {
      var button = event.target.closest && event.target.closest(".show-on-map");
      if (button) showOnMap(button);
    });
  }

  /** On a phone the map's layer control starts folded, and so do the filters and the key. */
  function fitSmallScreens() {
    if (!SMALL_SCREEN.matches) return;
    var control = config.layerControl && window[config.layerControl];
    if (control) {
      control.remove();
      control.options.collapsed = true;
      control.addTo(map);
    }
    document.querySelectorAll("details.collapse-on-phone").forEach(function (details) {
      details.open = false;
    });
  }

  fitSmallScreens();

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

  offerShowOnMap();
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
