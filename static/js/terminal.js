// The terminal panel: Enter runs the command (Shift+Enter adds a line, for `apply -f -` pastes),
// Up/Down walk the history (kept in this browser only), Tab completes, Ctrl+L clears the log.
(function () {
  "use strict";
  var HISTORY_LIMIT = 200;
  var ENTRIES_KEPT = 300;

  function historyKey(panel) { return "terminal-history:" + panel.dataset.runUrl; }

  function loadHistory(panel) {
    try { return JSON.parse(window.sessionStorage.getItem(historyKey(panel)) || "[]"); } catch (e) { return []; }
  }

  function saveHistory(panel, history) {
    try { window.sessionStorage.setItem(historyKey(panel), JSON.stringify(history.slice(-HISTORY_LIMIT))); } catch (e) { /* private mode */ }
  }

  function csrfToken(form) {
    var field = form.querySelector("input[name=csrfmiddlewaretoken]");
    return field ? field.value : "";
  }

  function appendEntry(log, html) {
    log.insertAdjacentHTML("beforeend", html);
    while (log.children.length > ENTRIES_KEPT) { log.removeChild(log.firstElementChild); }
    log.scrollTop = log.scrollHeight;
  }

  function errorEntry(line, message) {
    var entry = document.createElement("div");
    entry.className = "terminal-entry terminal-failed";
    var command = document.createElement("div");
    command.className = "terminal-command";
    command.textContent = "$ " + line;
    var output = document.createElement("pre");
    output.className = "terminal-output";
    output.textContent = message;
    entry.appendChild(command);
    entry.appendChild(output);
    return entry.outerHTML;
  }

  function run(panel, input, log, form) {
    var line = input.value.replace(/\s+$/, "");
    if (!line) { return; }
    var history = loadHistory(panel);
    if (history[history.length - 1] !== line) { history.push(line); saveHistory(panel, history); }
    panel.historyIndex = null;
    panel.classList.add("terminal-busy");
    var body = new URLSearchParams({ line: line });
    fetch(panel.dataset.runUrl, {
      method: "POST", body: body, credentials: "same-origin",
      headers: { "X-CSRFToken": csrfToken(form), "Accept": "text/html" }
    }).then(function (response) {
      return response.text().then(function (text) {
        appendEntry(log, response.ok ? text : errorEntry(line, "The terminal could not run this (HTTP " + response.status + ")."));
      });
    }).catch(function () {
      appendEntry(log, errorEntry(line, "The page lost its connection to the server."));
    }).finally(function () {
      panel.classList.remove("terminal-busy");
      input.value = "kubectl ";
      input.rows = 1;
      input.focus();
    });
  }

  function recall(panel, input, step) {
    var history = loadHistory(panel);
    if (!history.length) { return; }
    var index = panel.historyIndex === null || panel.historyIndex === undefined ? history.length : panel.historyIndex;
    index = Math.max(0, Math.min(history.length, index + step));
    panel.historyIndex = index;
    input.value = index === history.length ? "kubectl " : history[index];
    input.rows = Math.min(12, input.value.split("\n").length);
  }

  function commonPrefix(words) {
    var prefix = words[0] || "";
    words.forEach(function (word) { while (word.indexOf(prefix) !== 0) { prefix = prefix.slice(0, -1); } });
    return prefix;
  }

  function showCompletions(list, words, onPick) {
    list.innerHTML = "";
    words.forEach(function (word) {
      var item = document.createElement("li");
      item.textContent = word;
      item.setAttribute("role", "option");
      item.addEventListener("click", function () { onPick(word); });
      list.appendChild(item);
    });
    list.hidden = words.length === 0;
  }

  function completeLine(panel, input, list) {
    var line = input.value;
    var url = panel.dataset.completeUrl + "?line=" + encodeURIComponent(line);
    fetch(url, { credentials: "same-origin", headers: { "Accept": "application/json" } })
      .then(function (response) { return response.ok ? response.json() : { completions: [] }; })
      .then(function (answer) {
        var words = answer.completions || [];
        var start = /\s$/.test(line) ? line.length : line.search(/\S+$/);
        var replace = function (word) {
          input.value = line.slice(0, start) + word + (words.length === 1 ? " " : "");
          list.hidden = true;
          input.focus();
        };
        if (words.length === 1) { replace(words[0]); return; }
        var shared = commonPrefix(words);
        if (shared.length > line.length - start) { input.value = line.slice(0, start) + shared; }
        showCompletions(list, words, replace);
      });
  }

  function attach(panel) {
    var form = panel.querySelector(".terminal-form");
    var input = panel.querySelector(".terminal-input");
    var log = panel.querySelector(".terminal-log");
    var list = panel.querySelector(".terminal-completions");
    form.addEventListener("submit", function (event) { event.preventDefault(); run(panel, input, log, form); });
    input.addEventListener("input", function () { input.rows = Math.min(12, input.value.split("\n").length); });
    input.addEventListener("keydown", function (event) {
      var multiline = input.value.indexOf("\n") >= 0;
      if (event.key === "Enter" && !event.shiftKey) {
        event.preventDefault();
        list.hidden = true;
        run(panel, input, log, form);
      } else if (event.key === "ArrowUp" && !multiline) {
        event.preventDefault();
        recall(panel, input, -1);
      } else if (event.key === "ArrowDown" && !multiline) {
        event.preventDefault();
        recall(panel, input, 1);
      } else if (event.key === "Tab" && !event.shiftKey) {
        event.preventDefault();
        completeLine(panel, input, list);
      } else if (event.key === "Escape") {
        list.hidden = true;
      } else if ((event.key === "l" || event.key === "L") && event.ctrlKey) {
        event.preventDefault();
        log.innerHTML = "";
      }
    });
  }

  function attachAll(root) {
    (root || document).querySelectorAll(".terminal:not([data-terminal-ready])").forEach(function (panel) {
      panel.setAttribute("data-terminal-ready", "");
      attach(panel);
    });
  }

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", function () { attachAll(document); });
  } else {
    attachAll(document);
  }
  document.addEventListener("htmx:load", function (event) { attachAll(event.target); });
  window.KubeTerminal = { attachAll: attachAll };
})();
