/* The front page: keep "the shot about to be played" current (the same fields the page shows: no outcome, no key). */
(function () {
  "use strict";
  const card = document.getElementById("front-shot");
  if (!card || !card.dataset.url) return;
  const pct = (v) => (v === null || v === undefined ? "—" : (v * 100).toFixed(1) + "%");
  const odds = (v) => (v === null || v === undefined ? "—" : Number(v).toFixed(2));
  let current = null;
  function set(name, text) {
    const el = card.querySelector(`[data-bind="${name}"]`);
    if (el) el.textContent = text;
  }
  function tick() {
    fetch(card.dataset.url, { credentials: "same-origin", headers: { Accept: "application/json" } })
      .then((r) => (r.ok ? r.json() : Promise.reject(r.status)))
      .then(({ shot }) => {
        if (!shot) return;
        if (current !== null && shot.id !== current && !card.querySelector('[data-bind="player"]')) {
          window.location.reload(); // the page had no shot: draw it in full
          return;
        }
        current = shot.id;
        set("player", shot.player);
        set("team", shot.team_code || shot.team);
        set("opponent", shot.opponent || "");
        set("when", `${shot.period_label} ${shot.clock}`);
        set("what", `${shot.action_type} · ${shot.zone} · ${shot.distance_ft} ft`);
        set("probability", pct(shot.model_probability));
        set("odds-made", odds(shot.market_odds_made));
        set("odds-missed", odds(shot.market_odds_missed));
        set("fair-made", odds(shot.fair_odds_made));
        set("fair-missed", odds(shot.fair_odds_missed));
        ["shot-path", "shot-pulse", "shot-marker"].forEach((id) => {
          const el = document.getElementById(id);
          if (!el) return;
          if (id === "shot-path") { el.setAttribute("x2", shot.x_ft); el.setAttribute("y2", shot.y_ft); }
          else { el.setAttribute("cx", shot.x_ft); el.setAttribute("cy", shot.y_ft); }
        });
      })
      .catch(() => {})
      .finally(() => setTimeout(tick, 5000));
  }
  setTimeout(tick, 5000);
})();
