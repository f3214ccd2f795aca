// What every page shares: the header's menu folded behind a button on a phone, and
// sideways-scrolling tables that a keyboard can reach.
// No inline script anywhere: the page's CSP is script-src 'self'.
(function () {
  "use strict";

  // The disclosure: the button says with aria-expanded whether the menu shows; the CSS
  // hides the menu on a phone while it is "false". Without this script the button stays
  // hidden and the menu shows, wrapped under the title.
  function menu() {
    var toggle = document.getElementById("menu-toggle");
    var panel = toggle && document.getElementById(toggle.getAttribute("aria-controls"));
    if (!panel) {
      return;
    }
    function show(open) {
      toggle.setAttribute("aria-expanded", open ? "true" : "false");
    }
    toggle.hidden = false;
    toggle.addEventListener("click", function () {
      show(toggle.getAttribute("aria-expanded") !== "true");
    });
    // Escape closes the open menu and puts the focus back on its button.
    toggle.parentElement.addEventListener("keydown", function (event) {
      if (event.key === "Escape" && toggle.getAttribute("aria-expanded") === "true") {
        show(false);
        toggle.focus();
      }
    });
  }

  // The heading just before ``box``, or else the first one of its section.
  function heading(box) {
    for (var node = box.previousElementSibling; node; node = node.previousElementSibling) {
      if (/^H[1-6]$/.test(node.tagName)) {
        return node;
      }
    }
    return (box.closest("section") || document).querySelector("h1, h2, h3");
  }

  // A table wider than the screen scrolls in its box: the box takes the focus, so the
  // arrow keys scroll it, and is named after the table's caption or the section's heading.
  function scrollers() {
    document.querySelectorAll(".table-scroll").forEach(function (box) {
      if (box.hasAttribute("tabindex") || box.scrollWidth <= box.clientWidth) {
        return;
      }
      var title = box.querySelector("caption") || heading(box);
      box.tabIndex = 0;
      if (!box.hasAttribute("role")) {
        box.setAttribute("role", "region");
      }
      if (title && !box.hasAttribute("aria-label") && !box.hasAttribute("aria-labelledby")) {
        box.setAttribute("aria-label", title.textContent.trim());
      }
    });
  }

  menu();
  scrollers();
  window.addEventListener("resize", scrollers);
})();
