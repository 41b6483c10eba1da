// Vigie: small enhancements only; every page reads without JavaScript.
"use strict";
document.addEventListener("DOMContentLoaded", () => {
  // Changing the day on the map submits its form at once.
  const day = document.querySelector("form.day-picker input[type=date]");
  if (day) day.addEventListener("change", () => day.form.submit());
});
