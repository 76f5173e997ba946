"use strict";
// ReDoc puts its styles in <style> elements at run time; the page's CSP lets them in with this response's
// nonce, which the browser shows to the script that carries it (and hides from the page's markup).
(function () {
  const container = document.getElementById("redoc-container");
  Redoc.init(container.dataset.schemaUrl, { nonce: document.currentScript.nonce }, container);
})();
