// aims — the little script the pages use. Everything works without it; it only adds comfort.
(function () {
  "use strict";

  // Copy buttons: <button data-copy="element-id"> copies that element's text.
  document.addEventListener("click", function (event) {
    var button = event.target.closest("[data-copy]");
    if (!button) return;
    var source = document.getElementById(button.getAttribute("data-copy"));
    if (!source || !navigator.clipboard) return;
    navigator.clipboard.writeText(source.textContent.trim()).then(function () {
      var label = button.lastChild;
      var before = label.textContent;
      label.textContent = "Copied";
      setTimeout(function () { label.textContent = before; }, 1600);
    });
  });

  // Forms with data-confirm ask before they submit (irreversible actions such as revoking).
  document.addEventListener("submit", function (event) {
    var message = event.target.getAttribute && event.target.getAttribute("data-confirm");
    if (message && !window.confirm(message)) event.preventDefault();
  });

  // The navigation is a <details> open by default, so it is there without scripts; on a
  // phone it folds into its "Menu" button, and opens again when the window widens.
  var phone = window.matchMedia("(max-width: 800px)");
  var navMenu = document.querySelector("details.nav-menu");
  function fitNav() { if (navMenu) navMenu.open = !phone.matches; }
  fitNav();
  if (phone.addEventListener) phone.addEventListener("change", fitNav);

  // A form with a link picker (see picker.rs): Enter in its search box searches at once (htmx
  // fetches the matches as one types) instead of submitting; Enter in another field submits
  // with the form's own button, not with the first picker's Search (the browser's default).
  document.addEventListener("keydown", function (event) {
    var input = event.target;
    if (event.key !== "Enter" || !input.matches || !input.matches("input") || !input.form) return;
    if (!input.form.querySelector("input[data-picker]")) return;
    if (input.matches("[data-picker]")) {
      if (!window.htmx) return;
      event.preventDefault();
      window.htmx.trigger(input, "search");
      return;
    }
    var submit = input.form.querySelector('button[type="submit"]:not([name="pick_field"]), input[type="submit"]');
    if (submit && input.form.requestSubmit) {
      event.preventDefault();
      input.form.requestSubmit(submit);
    }
  });

  // Menus made of <details>: close on Escape (returning focus) and on a click elsewhere.
  document.addEventListener("keydown", function (event) {
    if (event.key !== "Escape") return;
    document.querySelectorAll("details.menu[open]").forEach(function (menu) {
      menu.removeAttribute("open");
      menu.querySelector("summary").focus();
    });
  });
  document.addEventListener("click", function (event) {
    document.querySelectorAll("details.menu[open]").forEach(function (menu) {
      if (!menu.contains(event.target)) menu.removeAttribute("open");
    });
  });
})();
