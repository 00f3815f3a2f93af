/*
 * Fills the folium map on /coverage: the areas coloured by reach and by deprivation, the
 * assets on top, and (for coordinators) the searches that found little.
 *
 * Folium has drawn the map and empty layers; their JavaScript names, the API addresses and the
 * colour classes come in the JSON configuration block. The areas come from /api/v1/coverage
 * and the assets from /api/v1/assets; every label is built with DOM calls and textContent, so
 * an area's or an asset's name is always shown as text.
 */
(function () {
  "use strict";

  var config = JSON.parse(document.getElementById("coverage-map-config").textContent);
  var map = window[config.map];
  var layers = {};
  Object.keys(config.layers).forEach(function (name) { layers[name] = window[config.layers[name]]; });
  var status = document.getElementById("map-status");

  function showStatus(text) { if (status) status.textContent = text; }

  function colourOf(value, classes) {
    if (value === null || value === undefined) return config.noFigure;
    for (var i = 0; i < classes.length; i++) {
      if (value >= classes[i].low && value < classes[i].high) return classes[i].colour;
    }
    return config.noFigure;
  }

  function el(tag, text) {
    var node = document.createElement(tag);
    if (text !== undefined && text !== null) node.textContent = text;
    return node;
  }

  function percent(share) {
    return share === null || share === undefined ? "no postcodes" : Math.round(share * 100) + "%";
  }

  function areaLabel(p, extra) {
    var box = el("div");
    box.appendChild(el("strong", p.name));
    var reach = p.strands[config.strand] || {};
    box.appendChild(el("div", "Reach: " + percent(reach.share) + " of postcodes"));
    box.appendChild(el("div", "IMD decile: " + (p.imd_decile === null ? "not published" : p.imd_decile)));
    if (extra) box.appendChild(el("div", extra));
    return box;
  }

  function areaLayer(data, fill, label, name) {
    return L.geoJSON(data, {
      className: "coverage-area coverage-" + name,
      style: function (feature) {
        return { color: "#0b0c0c", weight: 1, fillColor: fill(feature), fillOpacity: 0.7 };
      },
      onEachFeature: function (feature, layer) {
        layer.bindTooltip(function () { return label(feature); }, { sticky: true });
      },
    });
  }

  async function fetchJson(url) {
    var response = await fetch(url, { headers: { Accept: "application/geo+json" } });
    if (!response.ok) throw new Error("the server answered " + response.status);
    return response.json();
  }

  async function loadAreas() {
    var data = await fetchJson(config.api);
    var reach = areaLayer(data, function (f) {
      return colourOf((f.properties.strands[config.strand] || {}).share, config.reachClasses);
    }, function (f) { return areaLabel(f.properties); }, "reach");
    var need = areaLayer(data, function (f) {
      return colourOf(f.properties.imd_decile, config.imdClasses);
    }, function (f) { return areaLabel(f.properties); }, "need");
    layers.reach.addLayer(reach);
    layers.need.addLayer(need);
    if (layers.demand && config.demand) {
      var demand = areaLayer(data, function (f) {
        var d = config.demand[f.properties.code];
        return d && d["class"] !== null ? config.demandClasses[d["class"]].colour : config.noFigure;
      }, function (f) {
        var d = config.demand[f.properties.code];
        return areaLabel(f.properties, "Searches that found little: " + (d ? d.words : "none"));
      }, "demand");
      layers.demand.addLayer(demand);
    }
    if (reach.getBounds().isValid()) map.fitBounds(reach.getBounds(), { padding: [10, 10] });
    return data.features.length;
  }

  async function loadAssets() {
    var count = 0;
    var url = config.assetsApi + (config.assetsApi.indexOf("?") >= 0 ? "&" : "?") +
      "fields=name,kind,strand&limit=1000";
    var offset = 0;
    for (;;) {
      var page = await fetchJson(url + "&offset=" + offset);
      page.features.forEach(function (feature) {
        var c = feature.geometry.coordinates;
        var marker = L.circleMarker([c[1], c[0]], {
          radius: 4, color: "#0b0c0c", weight: 1, fillColor: "#ffdd00", fillOpacity: 1,
          keyboard: false, className: "coverage-asset",
        });
        marker.bindTooltip(function () { return el("span", feature.properties.name); });
        layers.assets.addLayer(marker);
        count += 1;
      });
      offset += page.features.length;
      if (!page.next || page.features.length === 0) break;
    }
    return count;
  }

  Promise.all([loadAreas(), loadAssets()]).then(function (done) {
    var assets = done[1] === 1 ? "1 asset" : done[1] + " assets";
    showStatus("Showing " + done[0] + " areas and " + assets + ". The table below has every figure.");
    map.getContainer().setAttribute("data-areas-loaded", String(done[0]));
  }).catch(function (error) {
    showStatus("The map could not be loaded (" + error.message + "). The table below has every figure.");
    map.getContainer().setAttribute("data-areas-loaded", "error");
  });
})();
