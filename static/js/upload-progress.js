// Documents page: send the form with XMLHttpRequest so the worker sees how much of their
// files has gone (phones on a weak signal). Without this script the form posts as usual.
(function () {
  var form = document.getElementById("documents-form");
  if (!form || !window.FormData || !window.XMLHttpRequest) return;
  var box = form.querySelector(".flexpool-upload__progress");
  var bar = box.querySelector("progress");
  var status = box.querySelector("[role=status]");

  form.addEventListener("submit", function (event) {
    event.preventDefault();
    var button = form.querySelector("button[type=submit]");
    button.disabled = true;
    box.hidden = false;
    status.textContent = "Sending your documents…";
    var xhr = new XMLHttpRequest();
    xhr.open("POST", form.getAttribute("action") || window.location.href);
    xhr.upload.addEventListener("progress", function (e) {
      if (!e.lengthComputable) return;
      var percent = Math.round((e.loaded / e.total) * 100);
      bar.value = percent;
      bar.textContent = percent + "%";
      status.textContent = "Sent " + percent + "%";
    });
    xhr.addEventListener("load", function () {
      if (xhr.responseURL && xhr.responseURL !== window.location.href) {
        window.location.assign(xhr.responseURL);
        return;
      }
      // Errors: show the page the server answered with (same address, same scripts).
      document.open();
      document.write(xhr.responseText);
      document.close();
    });
    xhr.addEventListener("error", function () {
      button.disabled = false;
      status.textContent = "The upload stopped. Check your signal and send again.";
    });
    xhr.send(new FormData(form));
  });
})();
