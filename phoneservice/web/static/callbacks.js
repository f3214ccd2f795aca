// The callback queue (/callbacks): one line per task, the selected one open with its
// actions; keyboard shortcuts; the list refreshes itself every minute (hx-trigger on
// #queue) and a ringing call every second or two (hx-trigger on its status).
// The refresh must not wipe a form someone is filling in: it is skipped while a field of
// the list has focus or holds unsent input, or a "Note eller annullér" panel is open.
// Without JavaScript every task's date links to ?task=<id>, which the server opens.
// No inline script anywhere: the page's CSP is script-src 'self'.
(function () {
  "use strict";

  var remembered = null; // what had focus before a swap: put back after it

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

  function tasks() {
    return Array.prototype.slice.call(document.querySelectorAll("#queue tbody.task"));
  }

  function selectedTask() {
    return document.querySelector("#queue tbody.task.selected");
  }

  // The task under the cursor: the one holding focus, else the one open.
  function currentTask() {
    var active = document.activeElement;
    var row = active && active.closest ? active.closest("#queue tbody.task") : null;
    return row || selectedTask();
  }

  function select(row, open) {
    tasks().forEach(function (other) {
      var on = other === row && open;
      other.classList.toggle("selected", on);
      var pick = other.querySelector("a.pick");
      if (pick) {
        pick.setAttribute("aria-expanded", on ? "true" : "false");
      }
    });
  }

  function focusRow(row) {
    var pick = row && row.querySelector("a.pick");
    if (pick) {
      pick.focus();
      row.scrollIntoView({ block: "nearest" });
    }
  }

  function move(step) {
    var all = tasks();
    if (!all.length) {
      return;
    }
    var at = all.indexOf(currentTask());
    var next = at < 0 ? (step > 0 ? 0 : all.length - 1) : at + step;
    focusRow(all[Math.min(all.length - 1, Math.max(0, next))]);
  }

  // Open the task under the cursor and press one of its buttons (if it has it now).
  function press(selector) {
    var row = currentTask();
    if (!row) {
      return;
    }
    select(row, true);
    var button = row.querySelector(selector);
    if (button) {
      button.click();
    } else {
      focusRow(row);
    }
  }

  function attempt() {
    var row = currentTask();
    if (!row) {
      return;
    }
    select(row, true);
    var outcome = row.querySelector("select[name=outcome]");
    (outcome || row.querySelector("a.pick")).focus();
  }

  function toggleHelp() {
    var keys = document.getElementById("keys");
    if (keys) {
      keys.open = !keys.open;
      keys.querySelector("summary").focus();
    }
  }

  function typing(target) {
    return (
      target &&
      (target.isContentEditable || /^(INPUT|TEXTAREA|SELECT)$/.test(target.tagName))
    );
  }

  var SHORTCUTS = {
    j: function () { move(1); },
    ArrowDown: function () { move(1); },
    k: function () { move(-1); },
    ArrowUp: function () { move(-1); },
    // c takes a free task only: an admin's takeover of a colleague's task stays a click.
    c: function () { press('form[action$="/claim"]:not(:has(input[name=force])) button'); },
    r: function () { press("form.call button"); },
    a: attempt,
    "?": toggleHelp,
  };

  document.addEventListener("keydown", function (event) {
    if (event.defaultPrevented || event.ctrlKey || event.metaKey || event.altKey) {
      return;
    }
    if (typing(event.target) || !document.getElementById("queue")) {
      return;
    }
    var shortcut = Object.prototype.hasOwnProperty.call(SHORTCUTS, event.key)
      ? SHORTCUTS[event.key]
      : null;
    if (shortcut) {
      event.preventDefault();
      shortcut();
    }
  });

  // A task's date (or a click on its line) opens it, and closes the one open before.
  document.addEventListener("click", function (event) {
    if (event.button !== 0 || event.ctrlKey || event.metaKey || event.shiftKey) {
      return;
    }
    var target = event.target;
    var pick = target.closest("#queue a.pick");
    var line = target.closest("#queue tr.task-info");
    if (!pick && (!line || target.closest("a, button, input, select, label"))) {
      return;
    }
    event.preventDefault();
    var row = (pick || line).closest("tbody.task");
    select(row, !row.classList.contains("selected"));
    focusRow(row);
  });

  // Polls are no activity: they do not keep the session from timing out when idle.
  // The list's refresh keeps the open task open; a call's poll says whether its row is.
  document.addEventListener("htmx:configRequest", function (event) {
    var elt = event.detail.elt;
    if (elt === document.getElementById("queue")) {
      event.detail.headers["X-Phoneservice-Poll"] = "1";
      var open = selectedTask();
      if (open) {
        event.detail.parameters.task = open.getAttribute("data-task");
      }
    } else if (elt.classList && elt.classList.contains("call-state")) {
      var row = elt.closest("tbody.task");
      if (row && row.classList.contains("selected")) {
        event.detail.parameters.open = "1";
      }
    }
  });

  document.addEventListener("htmx:beforeRequest", function (event) {
    var queue = document.getElementById("queue");
    if (queue && event.detail.elt === queue && busy(queue)) {
      event.preventDefault();
    }
  });

  // A swapped row or list loses the focus held inside it: put it back where it was.
  document.addEventListener("htmx:beforeSwap", function () {
    var active = document.activeElement;
    var row = active && active.closest ? active.closest("#queue tbody.task") : null;
    remembered = row ? { id: active.id, row: row.id } : null;
  });

  document.addEventListener("htmx:afterSettle", function () {
    var focus = remembered;
    remembered = null;
    if (!focus || (document.activeElement && document.activeElement !== document.body)) {
      return;
    }
    var same = focus.id && document.getElementById(focus.id);
    var row = document.getElementById(focus.row);
    if (same) {
      same.focus();
    } else if (row) {
      focusRow(row);
    }
  });
})();
