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

// The pre-audit: each answer is saved as it is given (the page's form
// saves them all too, without JavaScript).
document.addEventListener("DOMContentLoaded", () => {
  const form = document.querySelector("form.audit[data-audit]");
  if (!form) return;
  const status = form.querySelector(".autosave");
  const csrf = form.querySelector("input[name=csrf]").value;
  const save = (field) => {
    const question = field.name.slice(2);
    const answer = form.querySelector(`[name="a.${CSS.escape(question)}"]:checked, input[type=number][name="a.${CSS.escape(question)}"], input[type=text][name="a.${CSS.escape(question)}"]`);
    const comment = form.querySelector(`[name="c.${CSS.escape(question)}"]`);
    if (!answer || answer.value.trim() === "") return;
    const body = {};
    body[question] = { answer: answer.value.trim(), comment: comment ? comment.value.trim() : null };
    fetch(`/api/v1/audits/${form.dataset.audit}/answers`, {
      method: "PUT",
      headers: { "content-type": "application/json", "x-csrf-token": csrf },
      body: JSON.stringify(body),
      credentials: "same-origin",
    }).then((response) => response.json().then((answer) => {
      if (status) status.textContent = response.ok ? "Réponse enregistrée." : (answer.error || "Réponse non enregistrée.");
    })).catch(() => { if (status) status.textContent = "Hors connexion : la réponse sera enregistrée avec le bouton en bas de page."; });
  };
  form.addEventListener("change", (event) => {
    const field = event.target;
    if (field.name && (field.name.startsWith("a.") || field.name.startsWith("c."))) save(field);
  });
});
