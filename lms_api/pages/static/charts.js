// Draws each chart of the page with plotly.js: a <div data-figure="ID"> and its figure (data and
// layout) as JSON in <script type="application/json" id="ID">. Static charts: no mode bar.
"use strict";
document.addEventListener("DOMContentLoaded", function () {
  document.querySelectorAll("[data-figure]").forEach(function (element) {
    var source = document.getElementById(element.getAttribute("data-figure"));
    if (!source || typeof Plotly === "undefined") { return; }
    var figure = JSON.parse(source.textContent);
    Plotly.newPlot(element, figure.data, figure.layout, { displayModeBar: false, responsive: true, staticPlot: false })
      .then(function () { element.setAttribute("data-drawn", "true"); });
  });
});
