// relais ui: the search box finds as you type (the pages work without this: the form submits).
"use strict";
(function () {
  var box = document.getElementById("q");
  var out = document.getElementById("resultats-direct");
  if (!box || !out || !window.fetch) return;
  var timer = null, asked = 0;
  box.addEventListener("input", function () {
    clearTimeout(timer);
    timer = setTimeout(function () {
      var text = box.value.trim();
      if (text.length < 2) { out.hidden = true; out.innerHTML = ""; return; }
      var mine = ++asked;
      fetch("/recherche?partiel=1&q=" + encodeURIComponent(text), { credentials: "same-origin" })
        .then(function (r) { return r.ok ? r.text() : ""; })
        .then(function (html) {
          if (mine !== asked) return;  // a later keystroke asked since
          out.innerHTML = html;
          out.hidden = html === "";
        });
    }, 120);
  });
})();
