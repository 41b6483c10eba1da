// Vigie: small enhancements only; every page reads without JavaScript.
"use strict";
document.addEventListener("DOMContentLoaded", () => {
  // Changing the day on a page submits its form at once.
  const day = document.querySelector("form.day-picker input[type=date]");
  if (day) day.addEventListener("change", () => day.form.submit());
  // Large maps carry no links (to stay light): a click opens the commune,
  // and the server answers 404 for a commune the reader may not open.
  const map = document.querySelector(".map svg");
  if (map) {
    map.addEventListener("click", (event) => {
      const shape = event.target.closest("path[id^=c]");
      if (shape && !event.target.closest("a")) location.href = "/communes/" + shape.id.slice(1);
    });
    map.style.cursor = "pointer";
  }
});
