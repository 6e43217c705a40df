// Workshops: the class view's sort and filter (tiles arrive over htmx's websocket), and the
// student's banners from ws/workshops/<id>/student/ (pause, broadcast, move, reset, questions).
(function () {
  "use strict";
  var MAX_RECONNECT_MS = 10000;

  function arrangeTiles() {
    var grid = document.getElementById("class-tiles");
    if (!grid) return;
    var filter = (document.getElementById("tile-filter") || {}).value || "";
    var sort = (document.getElementById("tile-sort") || {}).value || "joined";
    var stuckOnly = (document.getElementById("tile-stuck") || {}).checked;
    var tiles = Array.prototype.slice.call(grid.querySelectorAll(".ws-tile"));
    tiles.forEach(function (tile, index) {
      if (!tile.dataset.joined) tile.dataset.joined = String(index);
      tile.hidden = (filter && tile.dataset.name.indexOf(filter.toLowerCase()) < 0) ||
        (stuckOnly && tile.dataset.pass === "1");
    });
    var key = {
      joined: function (t) { return Number(t.dataset.joined); },
      name: function (t) { return t.dataset.name; },
      step: function (t) { return -Number(t.dataset.step); },
      pass: function (t) { return Number(t.dataset.pass); }
    }[sort];
    tiles.sort(function (a, b) { var x = key(a), y = key(b); return x < y ? -1 : x > y ? 1 : 0; });
    tiles.forEach(function (tile) { grid.appendChild(tile); });
  }

  function setUpClassView() {
    if (!document.getElementById("class-tiles")) return;
    ["tile-filter", "tile-sort", "tile-stuck"].forEach(function (id) {
      var element = document.getElementById(id);
      if (element) element.addEventListener("input", arrangeTiles);
      if (element) element.addEventListener("change", arrangeTiles);
    });
    document.body.addEventListener("htmx:oobAfterSwap", function () { window.requestAnimationFrame(arrangeTiles); });
  }

  function csrfToken() {
    var match = document.cookie.match(/(?:^|; )csrftoken=([^;]+)/);
    return match ? decodeURIComponent(match[1]) : "";
  }

  function setUpStudentBar() {
    var bar = document.getElementById("workshop-bar");
    if (!bar) return;
    var banner = document.getElementById("workshop-banner");
    var form = document.getElementById("workshop-answer");
    var delay = 500;
    function connect() {
      var scheme = location.protocol === "https:" ? "wss://" : "ws://";
      var socket = new WebSocket(scheme + location.host + bar.dataset.ws);
      socket.onopen = function () { delay = 500; };
      socket.onmessage = function (message) {
        var data = JSON.parse(message.data);
        if (data.type !== "banner") return;
        banner.textContent = data.text;
        banner.hidden = false;
        banner.dataset.kind = data.kind;
        if (data.kind === "question") {
          form.dataset.broadcast = data.broadcast;
          document.getElementById("workshop-question").textContent = data.text;
          form.hidden = false;
        }
        if (data.kind === "moved" || data.kind === "reset" || data.kind === "presenter") {
          window.setTimeout(function () { location.reload(); }, 1500);
        }
      };
      socket.onclose = function () {
        window.setTimeout(connect, delay);
        delay = Math.min(delay * 2, MAX_RECONNECT_MS);
      };
    }
    connect();
    form.addEventListener("submit", function (event) {
      event.preventDefault();
      fetch(bar.dataset.answerUrl + form.dataset.broadcast + "/answer/", {
        method: "POST", credentials: "same-origin",
        headers: {"Content-Type": "application/json", "X-CSRFToken": csrfToken()},
        body: JSON.stringify({answer: form.elements.answer.value})
      }).then(function (response) { if (response.ok) form.hidden = true; });
    });
  }

  document.addEventListener("DOMContentLoaded", function () { setUpClassView(); setUpStudentBar(); });
})();
