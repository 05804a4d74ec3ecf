// Small progressive enhancements; every page works without JavaScript.
(function () {
  "use strict";
  document.documentElement.classList.add("js");

  document.addEventListener("DOMContentLoaded", function () {
    // Tick off ingredients while cooking.
    document.querySelectorAll(".checklist li").forEach(function (item) {
      item.setAttribute("role", "checkbox");
      item.setAttribute("aria-checked", "false");
      item.tabIndex = 0;
      function toggle() {
        var done = item.classList.toggle("is-done");
        item.setAttribute("aria-checked", done ? "true" : "false");
      }
      item.addEventListener("click", toggle);
      item.addEventListener("keydown", function (event) {
        if (event.key === " " || event.key === "Enter") {
          event.preventDefault();
          toggle();
        }
      });
    });

    // Apply the tag filter as soon as a tag is chosen.
    document.querySelectorAll("select[data-autosubmit]").forEach(function (select) {
      select.addEventListener("change", function () {
        select.form.submit();
      });
    });

    // Fade out success messages after a few seconds.
    document.querySelectorAll(".message-success").forEach(function (message) {
      setTimeout(function () {
        message.classList.add("is-fading");
      }, 5000);
    });
  });
})();
