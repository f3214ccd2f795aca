// The board: instant search by name, tag or number, the open filter, and live rows
// without a reload.
// No inline script anywhere: the page's CSP is script-src 'self'.

// Every page: a number's copy button, shown where the browser can copy.
(function () {
  "use strict";

  if (!navigator.clipboard || !window.isSecureContext) {
    return;
  }
  var status = document.createElement("span");
  status.className = "visually-hidden";
  status.setAttribute("role", "status");
  document.body.appendChild(status);
  document.querySelectorAll("button.copy[data-copy]").forEach(function (button) {
    button.hidden = false;
  });
  document.addEventListener("click", function (event) {
    var button = event.target.closest ? event.target.closest("button.copy[data-copy]") : null;
    if (!button) {
      return;
    }
    navigator.clipboard.writeText(button.dataset.copy).then(function () {
      button.classList.add("copied");
      status.textContent = (document.documentElement.lang === "en" ? "Copied " : "Kopieret ") +
        button.dataset.copy;
      window.setTimeout(function () { button.classList.remove("copied"); }, 1500);
    });
  });
})();

(function () {
  "use strict";

  var board = document.getElementById("board");
  if (!board) {
    return;
  }
  var search = document.getElementById("search");
  var onlyOpen = document.getElementById("only-open");
  // A query of digits and separators only is a number (Unit.matches, query_digits).
  var NUMBER_QUERY = /^[0-9+()./ -]*[0-9][0-9+()./ -]*$/;
  var pollMs = Math.max(1, Number(board.dataset.pollSeconds) || 60) * 1000;
  var LATE_MS = 500; // ask just after the change, never just before it
  var MIN_MS = 1000;
  var timer = null;

  function rows() {
    return document.getElementById("board-rows");
  }

  // Same rule as Unit.matches: the query is part of the id, the name or one tag, or its
  // digits are part of one of the forms of a number the server put in data-numbers.
  function matches(row, query, digits) {
    var words = row.dataset.search.split("|").some(function (field) {
      return field.indexOf(query) !== -1;
    });
    return words || (digits !== null && (row.dataset.numbers || "").split(" ").some(function (form) {
      return form.indexOf(digits) !== -1;
    }));
  }

  function filter() {
    var query = search ? search.value.trim().toLowerCase() : "";
    var digits = NUMBER_QUERY.test(query) ? query.replace(/[^0-9]/g, "") : null;
    var openOnly = onlyOpen ? onlyOpen.checked : false;
    var shown = 0;
    rows().querySelectorAll("section[data-group]").forEach(function (group) {
      var inGroup = 0;
      group.querySelectorAll("tr[data-search]").forEach(function (row) {
        var hit = (!query || matches(row, query, digits)) &&
          (!openOnly || row.classList.contains("is-open"));
        row.hidden = !hit;
        inGroup += hit ? 1 : 0;
      });
      group.hidden = inGroup === 0;
      shown += inGroup;
    });
    document.getElementById("no-match").hidden = shown > 0;
  }

  // Ask again when the server says the next change is due, and at least every poll.
  function schedule(delay) {
    window.clearTimeout(timer);
    timer = window.setTimeout(refresh, Math.max(MIN_MS, Math.min(delay, pollMs)));
  }

  function untilChange() {
    var current = rows().dataset;
    return Date.parse(current.nextChange) - Date.parse(current.serverNow) + LATE_MS;
  }

  // A refresh is no activity: it does not keep a signed-in session from timing out.
  function refresh() {
    var headers = { Accept: "text/html", "X-Phoneservice-Poll": "1" };
    fetch(board.dataset.rowsUrl, { cache: "no-store", headers: headers })
      .then(function (response) {
        if (!response.ok) {
          throw new Error("HTTP " + response.status);
        }
        return response.text();
      })
      .then(function (html) {
        var fresh = new DOMParser().parseFromString(html, "text/html").getElementById("board-rows");
        if (!fresh) {
          throw new Error("no rows in the answer");
        }
        rows().replaceWith(document.adoptNode(fresh));
        document.getElementById("stale").hidden = true;
        filter();
        schedule(untilChange());
      })
      .catch(function () {
        document.getElementById("stale").hidden = false;
        schedule(Math.min(pollMs, 15000));
      });
  }

  // The search and the filter stay in the address (?q=, ?open=1): a reload and the
  // language switch keep them.
  function remember() {
    var url = new URL(window.location.href);
    var query = search ? search.value.trim() : "";
    if (query) {
      url.searchParams.set("q", query);
    } else {
      url.searchParams.delete("q");
    }
    if (onlyOpen && onlyOpen.checked) {
      url.searchParams.set("open", "1");
    } else {
      url.searchParams.delete("open");
    }
    window.history.replaceState(null, "", url.pathname + url.search + url.hash);
    document.querySelectorAll("a.lang").forEach(function (link) {
      var target = new URL(link.href);
      var kept = new URLSearchParams(url.search);
      kept.set("lang", target.searchParams.get("lang"));
      link.href = "?" + kept.toString();
    });
  }

  function changed() {
    filter();
    remember();
  }

  if (onlyOpen) {
    onlyOpen.addEventListener("change", changed);
  }
  if (search) {
    search.addEventListener("input", changed);
    search.addEventListener("keydown", function (event) {
      if (event.key === "Escape") {
        search.value = "";
        changed();
      }
    });
    // Typing filters at once; Enter opens the only match instead of reloading.
    search.form.addEventListener("submit", function (event) {
      event.preventDefault();
      var visible = rows().querySelectorAll("tr[data-search]:not([hidden]) a");
      if (visible.length === 1) {
        window.location.href = visible[0].href;
      }
    });
  }
  document.addEventListener("visibilitychange", function () {
    if (document.visibilityState === "visible") {
      refresh();
    }
  });
  filter();
  schedule(untilChange());
})();
