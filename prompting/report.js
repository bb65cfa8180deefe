// Timeline report: seek the video on click, move the playhead, show the hovered item's full text.
// Text from the video is only ever written with textContent.
(function () {
  "use strict";
  var data = JSON.parse(document.getElementById("report-data").textContent);
  var video = document.getElementById("video");
  var now = document.getElementById("now");
  var hover = document.getElementById("hover");
  var heads = document.querySelectorAll(".playhead");
  var pad = function (n) { return (n < 10 ? "0" : "") + n; };

  function clock(t) {
    t = Math.max(0, Math.floor(t));
    var h = Math.floor(t / 3600), m = Math.floor((t % 3600) / 60), s = t % 60;
    return (h ? h + ":" + pad(m) : m) + ":" + pad(s);
  }

  function show(t) {
    now.textContent = clock(t);
    var left = Math.min(100, (100 * t) / data.duration) + "%";
    heads.forEach(function (h) { h.style.left = left; h.style.display = "block"; });
  }

  function seek(t) {
    if (!isFinite(t)) return;
    if (video) video.currentTime = t;
    show(t);
  }

  document.addEventListener("click", function (e) {
    var el = e.target.closest("[data-t]");
    if (el) {
      e.preventDefault();
      document.querySelectorAll(".sel").forEach(function (s) { s.classList.remove("sel"); });
      if (el.classList.contains("it")) el.classList.add("sel");
      seek(parseFloat(el.getAttribute("data-t")));
      return;
    }
    var track = e.target.closest(".ltrack");
    if (track && !track.classList.contains("empty")) {
      var box = track.getBoundingClientRect();
      seek(((e.clientX - box.left) / box.width) * data.duration);
    }
  });

  document.addEventListener("mouseover", function (e) {
    var el = e.target.closest(".it, .thumb");
    if (el) hover.textContent = el.getAttribute("title");
  });

  if (video) {
    video.addEventListener("timeupdate", function () { show(video.currentTime); });
    video.addEventListener("error", function () { document.getElementById("video-error").hidden = false; });
  }
  // a link such as report.html#t=12.5 (the search page's hits) opens the report at that time
  function seekHash() {
    var m = /^#t=(\d+(?:\.\d+)?)$/.exec(location.hash);
    if (m) seek(parseFloat(m[1]));
  }
  window.addEventListener("hashchange", seekHash);
  seekHash();
  document.documentElement.setAttribute("data-ready", "1");
})();
