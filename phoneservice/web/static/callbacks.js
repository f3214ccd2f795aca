// The callback queue refreshes itself every minute (hx-trigger="every 60s" on #queue).
// It must not wipe a form someone is filling in: skip the refresh while a field of the
// list has focus or holds unsent input, or a "Note eller annullér" panel is open.
// No inline script anywhere: the page's CSP is script-src 'self'.
(function () {
  "use strict";

  function changed(field) {
    if (field.type === "checkbox") {
      return field.checked !== field.defaultChecked;
    }
    if (field.tagName === "SELECT") {
      return field.selectedIndex > 0;
    }
    return field.value !== field.defaultValue;
  }

  function busy(queue) {
    var active = document.activeElement;
    if (active && queue.contains(active) && active.matches("input, select, textarea")) {
      return true;
    }
    if (queue.querySelector("details[open]")) {
      return true;
    }
    var fields = queue.querySelectorAll("input:not([type=hidden]), select, textarea");
    return Array.prototype.some.call(fields, changed);
  }

  // The refresh is no activity: it does not keep the session from timing out when idle.
  document.addEventListener("htmx:configRequest", function (event) {
    if (event.detail.elt === document.getElementById("queue")) {
      event.detail.headers["X-Phoneservice-Poll"] = "1";
    }
  });

  document.addEventListener("htmx:beforeRequest", function (event) {
    var queue = document.getElementById("queue");
    if (queue && event.detail.elt === queue && busy(queue)) {
      event.preventDefault();
    }
  });
})();
