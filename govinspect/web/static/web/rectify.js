// The rectification item page: at most N files per claim/dispute (said before sending), and while the re-check of a
// claim is queued or running the page reloads itself until the answer is there.
(function () {
  "use strict";
  document.querySelectorAll("input[type=file][data-max-files]").forEach(function (input) {
    var max = parseInt(input.getAttribute("data-max-files"), 10) || 5;
    var note = input.closest("form").querySelector(".file-note");
    var button = input.closest("form").querySelector("button[type=submit]");
    input.addEventListener("change", function () {
      var n = input.files ? input.files.length : 0;
      var over = n > max;
      if (note) {
        note.hidden = n === 0;
        note.textContent = over ? "一次最多上传 " + max + " 个文件，请重新选择" : "已选择 " + n + " 个文件";
        note.classList.toggle("error", over);
      }
      if (button) { button.disabled = over; }
    });
  });
  var page = document.getElementById("rectify-item");
  if (page && page.getAttribute("data-waiting") === "1") {
    var tries = parseInt(sessionStorage.getItem("rectify-wait-" + location.pathname) || "0", 10);
    if (tries < 60) {
      sessionStorage.setItem("rectify-wait-" + location.pathname, String(tries + 1));
      window.setTimeout(function () { location.reload(); }, 5000);
    }
  } else if (page) {
    sessionStorage.removeItem("rectify-wait-" + location.pathname);
  }
})();
