/*
 * The client's plan map shows every numbered activity, on screen and on paper.
 *
 * The map is fitted to its markers when the page opens, and again at print size before the
 * page prints: Leaflet places markers by pixel, so a map fitted at screen size and then printed
 * narrower loses the markers near its edge (marker 1 went missing printed from a wide window,
 * and was cut in half from a narrow one). The print size is fixed in plan.css (180 mm by
 * 80 mm, the width of A4 inside its margins), so the fit made here is the one that prints,
 * whatever the window's width. After printing the map goes back as it was.
 *
 * Browsers tell a page it is about to print in two ways (the beforeprint event, and the print
 * media query starting to match), and not all of them use both; either one fits the map.
 */
(function () {
  "use strict";

  var box = document.querySelector(".plan-map .folium-map");
  var map = box && window[box.id];
  if (!map || typeof map.fitBounds !== "function") return;

  var bounds = L.latLngBounds([]);
  map.eachLayer(function (layer) {
    if (layer instanceof L.Marker) bounds.extend(layer.getLatLng());
  });
  if (!bounds.isValid()) return;

  // Half a marker (30 px wide) and a margin, so no number touches the edge.
  var FIT = { padding: [32, 32], maxZoom: 16, animate: false };
  var PRINTING = "plan-map-printing";
  var before = null;

  function fit() {
    map.invalidateSize({ animate: false, pan: false });
    map.fitBounds(bounds, FIT);
  }

  function beforePrint() {
    if (before) return;
    before = { centre: map.getCenter(), zoom: map.getZoom() };
    document.documentElement.classList.add(PRINTING);
    fit();
    box.setAttribute("data-fitted-for", "print");
  }

  function afterPrint() {
    if (!before) return;
    document.documentElement.classList.remove(PRINTING);
    map.invalidateSize({ animate: false, pan: false });
    map.setView(before.centre, before.zoom, { animate: false });
    before = null;
    box.setAttribute("data-fitted-for", "screen");
  }

  // Folium's own fit may still be zooming, with animation, when this runs; fitting now would
  // be undone when that animation ends, so fit once it has.
  function fitForScreen() {
    fit();
    box.setAttribute("data-fitted-for", "screen");
  }
  if (map._animatingZoom) map.once("zoomend", fitForScreen);
  else fitForScreen();
  window.addEventListener("beforeprint", beforePrint);
  window.addEventListener("afterprint", afterPrint);
  var printing = window.matchMedia("print");
  var onChange = function (event) { if (event.matches) beforePrint(); else afterPrint(); };
  if (printing.addEventListener) printing.addEventListener("change", onChange);
  else if (printing.addListener) printing.addListener(onChange);
})();
