/* The photo viewer of Causerie's galleries (causerie.albums, docs/albums.md).

   Without JavaScript each photo is a link to its largest size. With it, the
   link opens a modal <dialog> (HTML §4.11.4: showModal() makes the rest of
   the page inert and keeps focus inside): the large photo, its caption and
   "n of N", buttons for the previous and next photo and to close. Arrow
   keys move through the photos of that gallery, Escape closes (the dialog's
   own cancel), and focus goes back to the link that opened it.
   No inline style and no eval: the page's Content-Security-Policy holds. */
(function () {
  "use strict";
  if (typeof HTMLDialogElement === "undefined") {
    return;
  }
  var fr = (document.documentElement.lang || "").slice(0, 2) === "fr";
  var words = fr
    ? { viewer: "Visionneuse de photos", prev: "Photo précédente",
        next: "Photo suivante", close: "Fermer", of: " sur " }
    : { viewer: "Photo viewer", prev: "Previous photo", next: "Next photo",
        close: "Close", of: " of " };

  function button(name, label, text) {
    var b = document.createElement("button");
    b.type = "button";
    b.className = "viewer-button viewer-" + name;
    b.setAttribute("aria-label", label);
    b.textContent = text;
    return b;
  }

  var dialog = document.createElement("dialog");
  dialog.className = "viewer";
  dialog.setAttribute("aria-label", words.viewer);
  var figure = document.createElement("figure");
  figure.className = "viewer-figure";
  var image = document.createElement("img");
  image.className = "viewer-image";
  image.alt = "";
  var caption = document.createElement("figcaption");
  caption.className = "viewer-caption";
  var count = document.createElement("span");
  count.className = "viewer-count";
  var text = document.createElement("span");
  text.className = "viewer-text";
  caption.append(count, text);
  figure.append(image, caption);
  var prev = button("prev", words.prev, "‹");
  var next = button("next", words.next, "›");
  var close = button("close", words.close, "×");
  var controls = document.createElement("div");
  controls.className = "viewer-controls";
  controls.append(prev, next, close);
  dialog.append(figure, controls);

  var links = [];
  var at = 0;
  var opener = null;

  function show(index) {
    at = (index + links.length) % links.length;
    var link = links[at];
    var thumb = link.querySelector("img");
    var own = link.closest("figure").querySelector("figcaption");
    image.src = link.href;
    image.alt = thumb ? thumb.alt : "";
    if (thumb) {
      image.width = Number(thumb.getAttribute("width"));
      image.height = Number(thumb.getAttribute("height"));
    }
    count.textContent = (at + 1) + words.of + links.length;
    text.textContent = own ? " — " + own.textContent : "";
    var several = links.length > 1;
    prev.hidden = !several;
    next.hidden = !several;
  }

  function open(gallery, link) {
    links = Array.prototype.slice.call(gallery.querySelectorAll("a.gallery-link"));
    opener = link;
    if (!dialog.isConnected) {
      document.body.append(dialog);
    }
    show(links.indexOf(link));
    dialog.showModal();
    (links.length > 1 ? next : close).focus();
  }

  prev.addEventListener("click", function () { show(at - 1); });
  next.addEventListener("click", function () { show(at + 1); });
  close.addEventListener("click", function () { dialog.close(); });
  dialog.addEventListener("keydown", function (event) {
    if (event.key === "ArrowRight" && links.length > 1) {
      event.preventDefault();
      show(at + 1);
    } else if (event.key === "ArrowLeft" && links.length > 1) {
      event.preventDefault();
      show(at - 1);
    } else if (event.key === "Tab") {
      // Round the dialog's buttons: a modal dialog's Tab would otherwise
      // leave for the browser's own controls after the last one.
      var shown = [prev, next, close].filter(function (b) { return !b.hidden; });
      var i = shown.indexOf(document.activeElement);
      var to = event.shiftKey ? i - 1 : i + 1;
      event.preventDefault();
      shown[(to + shown.length) % shown.length].focus();
    }
  });
  // A click on the backdrop (outside the figure and buttons) closes too.
  dialog.addEventListener("click", function (event) {
    if (event.target === dialog) {
      dialog.close();
    }
  });
  dialog.addEventListener("close", function () {
    image.removeAttribute("src");
    if (opener) {
      opener.focus();
    }
  });

  document.querySelectorAll(".gallery").forEach(function (gallery) {
    gallery.addEventListener("click", function (event) {
      var link = event.target.closest("a.gallery-link");
      if (!link || event.ctrlKey || event.metaKey || event.shiftKey || event.button !== 0) {
        return; // a new tab or window is the browser's, as without JavaScript
      }
      event.preventDefault();
      open(gallery, link);
    });
  });
})();
