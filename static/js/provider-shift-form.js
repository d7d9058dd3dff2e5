// Post a shift: when the role changes, put that role's benchmark agency rate in the rate
// field, unless the manager has typed their own. Without JavaScript the server applies the
// benchmark for the chosen role when the pre-filled figure was left alone.
(function () {
  "use strict";
  var data = document.getElementById("benchmark-rates");
  var role = document.getElementById("id_role");
  var rate = document.getElementById("id_agency_hourly_rate");
  var prefilled = document.querySelector("input[name=rate_prefilled]");
  if (!data || !role || !rate || !prefilled) { return; }
  var rates = JSON.parse(data.textContent);
  role.addEventListener("change", function () {
    var untouched = rate.value === "" || rate.value === prefilled.value;
    var benchmark = rates[role.value];
    if (untouched && benchmark !== undefined) {
      rate.value = benchmark;
      prefilled.value = benchmark;
    }
  });
})();
