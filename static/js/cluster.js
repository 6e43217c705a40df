/* The live cluster view's animator and small behaviours (no build step, no dependencies).
 *
 * The server pushes two kinds of websocket messages (web/consumers.py):
 *   - HTML fragments with hx-swap-oob: htmx's ws extension swaps them;
 *   - JSON {"type": "events", ...}: intercepted here (htmx:wsBeforeMessage) and animated as dots
 *     travelling between the SVG's component boxes, flashes and etcd-panel counters.
 * The animator never falls behind: dots are scheduled on a queue whose end stays within
 * MAX_LAG_MS of now; beyond that gaps shrink to zero, then dots coalesce (same hop: one dot
 * with a count) or are dropped. Counters are in window.clusterViewStats (lagMs: how far the
 * queue's end is ahead of now; frames: animation frames drawn) and two performance marks time a
 * control: "cv-control-click" when one is pressed, "cv-first-animation" when the first animation
 * of what it caused starts (measure "cv-click-to-animation"; bench/bench_page.py reads them).
 */
(function () {
  "use strict";

  var MAX_LAG_MS = 1500;        // the animation never shows something older than this
  var BASE_GAP_MS = 110;        // pause between two hops at 1x, so a request's path reads in order
  var TRAVEL_MS = 650;          // a dot's trip at 1x
  var MIN_TRAVEL_MS = 220;
  var MAX_ACTIVE_DOTS = 60;
  var MAX_PENDING = 1500;
  var COALESCE_MS = 250;
  var LOG_STORY_KEPT = 120;
  var LOG_NOISE_KEPT = 40;
  var SVG_NS = "http://www.w3.org/2000/svg";
  var CLOCK_REFRESH_MS = 100;

  var reducedMotion = window.matchMedia && window.matchMedia("(prefers-reduced-motion: reduce)").matches;

  var stats = {
    received: 0, animated: 0, coalesced: 0, droppedByClient: 0, droppedByServer: 0,
    messages: 0, maxHandleMs: 0, perSecond: 0, clickToAnimationMs: null, lastClickToAnimationMs: null,
    lagMs: 0, maxLagMs: 0, pending: 0, frames: 0
  };
  window.clusterViewStats = stats;

  var root, svg, layer, pending = [], active = [], nextStartMs = 0, boxes = {}, speed = 1;
  var clickAt = null, secondWindow = [];
  var clockAnchor = null;   // { nowMs, atMs, speed, paused }: the virtual time at a wall instant
  var shownNowMs = null;    // what the clock shows

  function ready(fn) {
    if (document.readyState !== "loading") fn(); else document.addEventListener("DOMContentLoaded", fn);
  }

  ready(function () {
    root = document.getElementById("cluster-view");
    if (!root) return;
    svg = root.querySelector("svg.cluster-svg");
    var graph = svg && svg.querySelector("g.graph");
    if (graph) {
      layer = document.createElementNS(SVG_NS, "g");
      layer.setAttribute("id", "cv-anim");
      graph.appendChild(layer);
    }
    syncClock(true);
    setInterval(showClock, CLOCK_REFRESH_MS);
    applySvgClasses();
    wireLogFilters();
    wireTimeline();
    wireMachineClicks();
    addStatsLine();
    document.body.addEventListener("htmx:wsBeforeMessage", onSocketMessage);
    document.body.addEventListener("htmx:wsClose", reconnectWhenMoved);
    document.body.addEventListener("htmx:oobBeforeSwap", rememberUiState);
    document.body.addEventListener("htmx:oobAfterSwap", afterSwap);
    document.body.addEventListener("htmx:beforeRequest", function (event) {
      if (root.contains(event.target) && event.detail.requestConfig &&
          event.detail.requestConfig.path === root.dataset.actionUrl) {
        clickAt = performance.now();
        performance.clearMarks("cv-first-animation");
        performance.mark("cv-control-click");
      }
    });
    wireLogAnnouncements();
    requestAnimationFrame(frame);
  });

  /* --- messages ------------------------------------------------------------------------- */
  // The server closes with 4012 when another server process took the cluster over, and 4013 when
  // the process holding it stopped answering (web/tunnel.py). htmx reconnects by itself only after
  // 1006/1011-1013, which a server cannot send; a new connection reaches the cluster's holder.
  var RECONNECT_CODES = [4012, 4013];
  function reconnectWhenMoved(event) {
    var detail = event.detail || {};
    if (!detail.event || RECONNECT_CODES.indexOf(detail.event.code) < 0 || !detail.socketWrapper) return;
    setTimeout(function () { detail.socketWrapper.reconnect(); }, 200 + Math.random() * 800);
  }

  function onSocketMessage(event) {
    var text = event.detail.message;
    if (typeof text !== "string" || text.charAt(0) !== "{") return;  // HTML: htmx swaps it
    event.preventDefault();
    var started = performance.now();
    var message;
    try { message = JSON.parse(text); } catch (error) { return; }
    if (message.type === "events") absorb(message, started);
    else if (message.type === "result") showResult(message);
    var took = performance.now() - started;
    if (took > stats.maxHandleMs) stats.maxHandleMs = Math.round(took * 10) / 10;
  }

  function showResult(message) {
    if (message.ok) return;
    var status = document.getElementById("control-status");
    if (status) { status.textContent = message.message; status.classList.add("error"); }
  }

  function absorb(message, nowMs) {
    stats.messages += 1;
    stats.received += message.events.length;
    stats.droppedByServer += message.dropped || 0;
    speed = message.speed || speed;
    anchorClock(message.now, speed, !!message.paused);
    secondWindow.push([nowMs, message.events.length + (message.dropped || 0)]);
    while (secondWindow.length && secondWindow[0][0] < nowMs - 1000) secondWindow.shift();
    stats.perSecond = secondWindow.reduce(function (sum, item) { return sum + item[1]; }, 0);
    var measuring = clickAt !== null && message.events.some(function (e) { return e[2] === "action"; });
    var items = [];
    message.events.forEach(function (raw) {
      var item = toAnimation(raw);
      if (item) items.push(item);
    });
    if (measuring) {
      // What the learner just did goes first: older dots still queued are dropped, and older
      // flashes and counters (cheap, and they carry the story) play at once instead of later,
      // or the queue (first in, first out) would hold the new items back behind them.
      var before = pending.length;
      pending = pending.filter(function (item) { return item.type !== "dot"; });
      stats.droppedByClient += before - pending.length;
      pending.forEach(function (item) { item.startMs = nowMs; });
      nextStartMs = nowMs;
      items.forEach(function (item) { item.afterClick = true; });
      clickAt = null;
    }
    schedule(items, nowMs);
  }

  function recordFirstAnimation() {
    if (!performance.getEntriesByName("cv-control-click", "mark").length) return;
    if (performance.getEntriesByName("cv-first-animation", "mark").length) return;
    performance.mark("cv-first-animation");
    performance.clearMeasures("cv-click-to-animation");
    var measure = performance.measure("cv-click-to-animation", "cv-control-click", "cv-first-animation");
    var ms = Math.round(measure ? measure.duration : 0);
    stats.lastClickToAnimationMs = ms;
    if (stats.clickToAnimationMs === null) stats.clickToAnimationMs = ms;
  }

  /* --- what each event looks like ------------------------------------------------------- */
  function toAnimation(raw) {
    var kind = raw[2], source = raw[3], target = raw[4], payload = raw[5] || {};
    switch (kind) {
      case "api.request":
        return dot(source, target, payload.verb === "get" || payload.verb === "list" || payload.verb === "watch" ? "other" : "write", "");
      case "api.response":
        return dot(source, target, payload.code >= 400 ? "error" : "other", payload.code >= 400 ? String(payload.code) : "");
      case "etcd.request": return dot(source, target, "etcd", "");
      case "etcd.replicate": return dot(source, target, "etcd", "", { row: target, field: "last_index", value: payload.to_index });
      case "etcd.ack": return dot(source, target, "ack", "", { row: source, acked: true });
      case "etcd.append": return effect(source, "flash", { row: source, field: "last_index", value: payload.index });
      case "etcd.commit": return effect(source, "flash", { row: source, field: "commit", value: payload.index });
      case "etcd.apply": return effect(null, null, { row: source, field: "applied", value: payload.index, quiet: true });
      case "etcd.heartbeat": return effect(target, "pulse", null, true);
      case "kubelet.lease.renew": return effect(source, "pulse", null, true);
      case "etcd.request.timeout": return dot(source, target, "error", "timeout");
      case "api.watch": return dot(source, target, "watch", "");
      case "cri.call": return dot(target, source, "other", "");
      case "scheduler.bound": case "controller.sync": case "leader.acquired":
      case "etcd.leader.elected": case "apiserver.ready": return effect(source, "flash");
      case "leader.lost": case "etcd.leader.stepdown": return effect(source, "flash-bad");
      case "action": return effect(payload.target ? machineOrComponent(payload.target) : null, "flash");
      case "machine.down": case "network.partition": return effect(payload.machine || target, "flash-bad");
      case "process.stop": return effect(payload.process || target, "flash-bad");
      default: return null;
    }
  }

  function dot(from, to, style, label, counter) {
    return { type: "dot", from: from, to: to, style: style, label: label, counter: counter || null };
  }

  function effect(on, flash, counter, noise) {
    return { type: "effect", on: on, flash: flash, counter: counter || null, noise: !!noise };
  }

  function machineOrComponent(target) {
    return target.indexOf("/") >= 0 ? null : target;
  }

  /* --- scheduling: never more than MAX_LAG_MS behind ------------------------------------------ */
  function schedule(items, nowMs) {
    if (!items.length) return;
    if (nextStartMs < nowMs) nextStartMs = nowMs;
    var gap = reducedMotion ? 0 : BASE_GAP_MS / Math.sqrt(Math.max(1, speed));
    var dots = items.filter(function (item) { return item.type === "dot"; }).length || 1;
    if (nextStartMs + gap * dots > nowMs + MAX_LAG_MS) {
      gap = Math.max(0, (nowMs + MAX_LAG_MS - nextStartMs) / dots);
    }
    items.forEach(function (item) {
      item.startMs = Math.min(nextStartMs, nowMs + MAX_LAG_MS);
      if (item.type === "dot") nextStartMs += gap;
      pending.push(item);
    });
    if (pending.length > MAX_PENDING) {
      // Shed the oldest dots first: flashes and etcd counters are cheap and carry the story.
      var excess = pending.length - MAX_PENDING;
      pending = pending.filter(function (item) {
        if (excess > 0 && item.type === "dot") { excess -= 1; stats.droppedByClient += 1; return false; }
        return true;
      });
      if (pending.length > MAX_PENDING) {
        stats.droppedByClient += pending.length - MAX_PENDING;
        pending.splice(0, pending.length - MAX_PENDING);
      }
    }
  }

  function frame(nowMs) {
    stats.frames += 1;
    stats.pending = pending.length;
    stats.lagMs = pending.length ? Math.max(0, Math.round(pending[pending.length - 1].startMs - nowMs)) : 0;
    if (stats.lagMs > stats.maxLagMs) stats.maxLagMs = stats.lagMs;
    var due = 0;
    while (due < pending.length && pending[due].startMs <= nowMs) due++;
    if (due) pending.splice(0, due).forEach(function (item) { start(item, nowMs); });
    var travel = Math.max(MIN_TRAVEL_MS, TRAVEL_MS / Math.sqrt(Math.max(1, speed)));
    active = active.filter(function (item) {
      var progress = (nowMs - item.startedMs) / travel;
      if (progress >= 1) { item.node.remove(); if (item.text) item.text.remove(); return false; }
      var x = item.from.x + (item.to.x - item.from.x) * progress;
      var y = item.from.y + (item.to.y - item.from.y) * progress;
      // Fade in and out: a dot that arrives does not linger on the box's edge.
      var opacity = Math.min(1, progress / 0.15, (1 - progress) / 0.3).toFixed(2);
      item.node.setAttribute("cx", x.toFixed(1));
      item.node.setAttribute("cy", y.toFixed(1));
      item.node.setAttribute("opacity", opacity);
      if (item.text) {
        item.text.setAttribute("x", (x + item.labelDx).toFixed(1));
        item.text.setAttribute("y", (y + item.labelDy).toFixed(1));
        item.text.setAttribute("opacity", opacity);
      }
      return true;
    });
    requestAnimationFrame(frame);
  }

  function start(item, nowMs) {
    if (item.afterClick) recordFirstAnimation();
    if (item.counter) updateCounter(item.counter);
    if (item.type === "effect") {
      if (item.on && item.flash) flash(item.on, item.flash);
      stats.animated += 1;
      return;
    }
    if (item.counter === null || !item.counter.quiet) flash(item.to, "flash");
    if (reducedMotion || !layer) { stats.animated += 1; return; }
    var ends = endpoints(item.from, item.to);
    if (!ends) return;
    var from = ends[0], to = ends[1];
    var key = item.from + ">" + item.to + ">" + item.style;
    for (var i = 0; i < active.length; i++) {
      if (active[i].key === key && nowMs - active[i].startedMs < COALESCE_MS) {
        active[i].count += 1;
        // "×2" everywhere is clutter; a count says something from three on.
        if (active[i].count >= 3) setLabel(active[i], "×" + active[i].count);
        stats.coalesced += 1;
        return;
      }
    }
    if (active.length >= MAX_ACTIVE_DOTS) { stats.droppedByClient += 1; return; }
    var circle = document.createElementNS(SVG_NS, "circle");
    circle.setAttribute("r", item.style === "error" ? "4.5" : "3.5");
    circle.setAttribute("class", "cv-dot " + item.style);
    circle.setAttribute("cx", from.x); circle.setAttribute("cy", from.y);
    layer.appendChild(circle);
    var animation = { key: key, node: circle, text: null, from: from, to: to, startedMs: nowMs, count: 1,
                      labelDx: 5, labelDy: -5, labelClass: item.style === "error" ? "error" : "" };
    // Labels sit on the side away from the path so they cross no more text than the dot does.
    if (Math.abs(to.y - from.y) > Math.abs(to.x - from.x)) { animation.labelDx = 6; animation.labelDy = 3; }
    if (item.label) setLabel(animation, item.label);
    active.push(animation);
    stats.animated += 1;
  }

  function setLabel(animation, text) {
    if (!animation.text) {
      animation.text = document.createElementNS(SVG_NS, "text");
      animation.text.setAttribute("class", "cv-dot-label " + animation.labelClass);
      layer.appendChild(animation.text);
    }
    animation.text.textContent = text;
  }

  function element(name) {
    if (!name) return null;
    return document.getElementById("comp-" + name) || document.getElementById("node-" + name);
  }

  function box(name) {
    if (boxes[name]) return boxes[name];
    var found = element(name);
    if (!found || !found.getBBox) return null;
    var bounds = found.getBBox();
    boxes[name] = { x: bounds.x, y: bounds.y, width: bounds.width, height: bounds.height,
                    cx: bounds.x + bounds.width / 2, cy: bounds.y + bounds.height / 2 };
    return boxes[name];
  }

  /* Where the straight line between two boxes' centres leaves the first and enters the second
     (a few points outside), so a dot never covers a component's name. */
  function endpoints(fromName, toName) {
    var a = box(fromName), b = box(toName);
    if (!a || !b || fromName === toName) return null;
    return [edgePoint(a, b.cx - a.cx, b.cy - a.cy), edgePoint(b, a.cx - b.cx, a.cy - b.cy)];
  }

  function edgePoint(bounds, dx, dy) {
    var margin = 3;
    var halfW = bounds.width / 2 + margin, halfH = bounds.height / 2 + margin;
    if (dx === 0 && dy === 0) return { x: bounds.cx, y: bounds.cy - halfH };
    var scale = Math.min(dx ? halfW / Math.abs(dx) : Infinity, dy ? halfH / Math.abs(dy) : Infinity);
    return { x: bounds.cx + dx * scale, y: bounds.cy + dy * scale };
  }

  function flash(name, className) {
    var found = element(name);
    if (!found) return;
    found.classList.add(className);
    setTimeout(function () { found.classList.remove(className); }, className === "pulse" ? 180 : 450);
  }

  function updateCounter(counter) {
    var row = document.getElementById("etcd-row-" + counter.row);
    if (!row) return;
    if (counter.acked) {
      row.classList.remove("acked"); void row.offsetWidth; row.classList.add("acked");
      return;
    }
    var cell = row.querySelector('[data-field="' + counter.field + '"]');
    if (!cell || counter.value === undefined || counter.value === null) return;
    if (Number(cell.textContent) >= counter.value) return;
    cell.textContent = counter.value;
    if (!reducedMotion) { cell.classList.remove("bump"); void cell.offsetWidth; cell.classList.add("bump"); }
  }

  /* --- fragments -------------------------------------------------------------------------------- */
  var savedUi = null;

  function rememberUiState(event) {
    var target = event.detail && event.detail.target;
    if (!target || !root || !root.contains(target)) return;
    var focused = document.activeElement;
    savedUi = {
      open: Array.prototype.map.call(target.querySelectorAll("details[open][id]"), function (d) { return d.id; }),
      focus: focused && target.contains(focused) && focused.id ? focused.id : null,
      pods: Array.prototype.map.call(target.querySelectorAll(".pod[id]"), function (p) { return p.id; })
    };
  }

  function afterSwap(event) {
    var target = event.detail && event.detail.target;
    if (!root || !target) return;
    if (savedUi) {
      savedUi.open.forEach(function (id) { var d = document.getElementById(id); if (d) d.open = true; });
      if (savedUi.focus) { var f = document.getElementById(savedUi.focus); if (f) f.focus(); }
      if (savedUi.pods.length) markNewPods(savedUi.pods);
      savedUi = null;
    }
    applySvgClasses();
    syncClock(target.id === "clock-status");
    trimLog();
    applyAnnouncements();
  }

  function markNewPods(before) {
    if (reducedMotion) return;
    var known = {};
    before.forEach(function (id) { known[id] = true; });
    document.querySelectorAll("#cluster-overlay .pod[id]").forEach(function (pod) {
      if (!known[pod.id]) pod.classList.add("fresh");
    });
  }

  function applySvgClasses() {
    var overlay = document.getElementById("cluster-overlay");
    if (!overlay || !overlay.dataset.svgClasses) return;
    var classes;
    try { classes = JSON.parse(overlay.dataset.svgClasses); } catch (error) { return; }
    Object.keys(classes).forEach(function (id) {
      var found = document.getElementById(id);
      if (!found) return;
      var keep = ["flash", "flash-bad", "pulse"].filter(function (name) { return found.classList.contains(name); });
      found.setAttribute("class", classes[id] + (keep.length ? " " + keep.join(" ") : ""));
    });
  }

  /* --- the clock -----------------------------------------------------------------------------
   * The server renders the clock when its speed, pause or timeline changes; between renders it runs
   * here, anchored on the clock's data-* and on the time every events push carries. */
  // rendered: the clock element came from the server (page load, or its fragment was swapped), so
  // its data-now-ms is the server's time; otherwise it is what showClock last wrote there.
  function syncClock(rendered) {
    var clock = document.getElementById("clock-status");
    if (!clock) return;
    speed = parseFloat(clock.dataset.speed) || speed;
    var select = document.getElementById("cv-speed-select");
    if (select && document.activeElement !== select) select.value = String(Math.round(speed));
    var range = document.getElementById("cv-timeline-range");
    if (range) range.min = clock.dataset.earliestMs || 0;
    if (!rendered) return;
    // A render may start a new timeline (a rewind): the time may go back, once.
    anchorClock(Number(clock.dataset.nowMs), speed, clock.dataset.paused === "1");
    shownNowMs = null;
    showClock();
  }

  function anchorClock(nowMs, clockSpeed, paused) {
    if (!isFinite(nowMs)) return;
    clockAnchor = { nowMs: nowMs, atMs: performance.now(), speed: clockSpeed, paused: paused };
  }

  function clockNowMs() {
    if (!clockAnchor) return null;
    var projected = clockAnchor.paused ? clockAnchor.nowMs
      : clockAnchor.nowMs + Math.floor((performance.now() - clockAnchor.atMs) * clockAnchor.speed);
    // The server's time in a push may trail this projection by a tick: hold the clock rather than
    // show it going back, unless it ran ahead of a server that fell behind by more than half a second.
    if (shownNowMs !== null && projected < shownNowMs && shownNowMs - projected < 500 * clockAnchor.speed) {
      return shownNowMs;
    }
    return projected;
  }

  function showClock() {
    var clock = document.getElementById("clock-status");
    var nowMs = clockNowMs();
    if (!clock || nowMs === null || nowMs === shownNowMs) return;
    shownNowMs = nowMs;
    clock.dataset.nowMs = String(nowMs);
    var time = clock.querySelector(".cv-clock-time");
    if (time) {
      time.textContent = formatTime(nowMs);
      var epochMs = Number(clock.dataset.startEpochMs);
      if (isFinite(epochMs)) {
        var wall = new Date(epochMs + nowMs).toISOString().slice(0, 19) + "Z";
        time.setAttribute("datetime", wall);
        time.setAttribute("title", wall);
      }
    }
    var range = document.getElementById("cv-timeline-range");
    if (range && document.activeElement !== range && !range.dataset.dragging) {
      range.max = nowMs;
      range.value = nowMs;
      // The slider snaps to whole seconds; its label shows the clock's own time, as the server does.
      var output = document.getElementById("cv-timeline-output");
      if (output) output.textContent = formatTime(nowMs);
      range.setAttribute("aria-valuetext", formatTime(nowMs));
    }
  }

  function trimLog() {
    var list = document.getElementById("event-log-entries");
    if (!list) return;
    var seen = {}, story = 0, noise = 0;
    Array.prototype.slice.call(list.children).forEach(function (entry) {
      if (seen[entry.id]) { entry.remove(); return; }
      seen[entry.id] = true;
      var isNoise = entry.classList.contains("noise");
      if (isNoise ? ++noise > LOG_NOISE_KEPT : ++story > LOG_STORY_KEPT) entry.remove();
    });
  }

  /* --- controls ----------------------------------------------------------------------------------- */
  function wireLogFilters() {
    var log = root.querySelector(".cv-log");
    if (!log) return;
    log.addEventListener("change", function (event) {
      var input = event.target;
      if (input.dataset.logFilter) log.classList.toggle("hide-" + input.dataset.logFilter, !input.checked);
      if (input.hasAttribute("data-log-noise")) log.classList.toggle("show-noise", input.checked);
    });
  }

  // As web/narration.py format_virtual_time: minutes:seconds.tenths, hours first past an hour.
  function formatTime(ms) {
    var tenths = Math.floor(Math.max(0, ms) / 100), hours = Math.floor(tenths / 36000);
    var minutes = Math.floor((tenths % 36000) / 600), seconds = Math.floor((tenths % 600) / 10);
    var tail = (minutes < 10 ? "0" : "") + minutes + ":" + (seconds < 10 ? "0" : "") + seconds + "." + (tenths % 10);
    return hours ? hours + ":" + tail : tail;
  }

  function showRangeTime(range) {
    var output = document.getElementById("cv-timeline-output");
    var text = formatTime(Number(range.value));
    if (output) output.textContent = text;
    range.setAttribute("aria-valuetext", text);
  }

  function wireTimeline() {
    var range = document.getElementById("cv-timeline-range");
    if (!range) return;
    range.addEventListener("input", function () { range.dataset.dragging = "1"; showRangeTime(range); });
    range.addEventListener("change", function () { showRangeTime(range); });
    range.form.addEventListener("htmx:afterRequest", function () { delete range.dataset.dragging; });
    range.addEventListener("blur", function () { delete range.dataset.dragging; });
  }

  function wireMachineClicks() {
    if (!svg) return;
    svg.addEventListener("click", function (event) {
      var machine = event.target.closest && event.target.closest("g.machine");
      if (!machine) return;
      var controls = document.getElementById("controls-" + machine.id.replace(/^node-/, ""));
      if (!controls) return;
      controls.open = true;
      controls.scrollIntoView({ block: "nearest", behavior: reducedMotion ? "auto" : "smooth" });
      controls.querySelector("summary").focus();
    });
  }

  /* The narrated log is an aria-live region; a reader can silence it (at 100x it talks a lot). */
  function wireLogAnnouncements() {
    var toggle = document.getElementById("cv-log-announce");
    if (!toggle) return;
    toggle.addEventListener("change", applyAnnouncements);
    applyAnnouncements();
  }

  function applyAnnouncements() {
    var toggle = document.getElementById("cv-log-announce");
    var list = document.getElementById("event-log-entries");
    if (toggle && list) list.setAttribute("aria-live", toggle.checked ? "polite" : "off");
  }

  function addStatsLine() {
    var log = root.querySelector(".cv-log");
    if (!log) return;
    var line = document.createElement("p");
    line.className = "cv-stats";
    line.setAttribute("aria-hidden", "true");
    log.appendChild(line);
    setInterval(function () {
      line.textContent = stats.perSecond + " events/s · " + stats.animated + " shown · " + stats.coalesced +
        " merged · " + (stats.droppedByServer + stats.droppedByClient) + " skipped";
    }, 1000);
  }
})();
