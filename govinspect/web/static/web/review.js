// Review before issue: at most data-max typical examples per problem type (the server refuses more as well), and the
// bulk-clear form's host/pattern inputs follow the chosen mode.
(function () {
  "use strict";
  var form = document.getElementById("examples-form");
  if (form) {
    var max = parseInt(form.getAttribute("data-max") || "5", 10);
    var groups = form.querySelectorAll("fieldset.example-group");
    var update = function (group) {
      var boxes = group.querySelectorAll("input[type=checkbox]");
      var n = 0;
      boxes.forEach(function (b) { if (b.checked) { n += 1; } });
      boxes.forEach(function (b) { b.disabled = !b.checked && n >= max; });
      var out = group.querySelector(".example-chosen");
      if (out) { out.textContent = String(n); }
    };
    groups.forEach(function (g) {
      update(g);
      g.addEventListener("change", function () { update(g); });
    });
  }
  var clear = document.getElementById("clear-form");
  if (clear) {
    var host = document.getElementById("clear-host");
    var pattern = document.getElementById("clear-pattern");
    var follow = function () {
      var mode = clear.querySelector("input[name=mode]:checked");
      var byHost = !mode || mode.value === "host";
      host.disabled = !byHost;
      pattern.disabled = byHost;
    };
    clear.querySelectorAll("input[name=mode]").forEach(function (r) { r.addEventListener("change", follow); });
    follow();
  }
}());
