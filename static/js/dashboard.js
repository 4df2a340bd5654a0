// Live betting dashboard: polls the stream, redraws the shot on the court, keeps the P&L chart current.
// The page is complete without JavaScript (server-rendered); this only keeps it live.
(function () {
  "use strict";

  const SVG = "http://www.w3.org/2000/svg";
  const pct = (v) => (v === null || v === undefined ? "—" : (v * 100).toFixed(1) + "%");
  const signedPct = (v) => (v === null || v === undefined ? "—" : (v >= 0 ? "+" : "") + (v * 100).toFixed(1) + "%");
  const odds = (v) => (v === null || v === undefined ? "—" : Number(v).toFixed(2));
  const credits = (v) => Number(v).toLocaleString("en-US", { minimumFractionDigits: 2, maximumFractionDigits: 2 });
  const signedCredits = (v) => (v >= 0 ? "+" : "-") + credits(Math.abs(v));

  function newKey() {
    if (window.crypto && crypto.randomUUID) return crypto.randomUUID().replace(/-/g, "");
    return Date.now().toString(16) + Math.random().toString(16).slice(2);
  }

  // --- P&L chart -------------------------------------------------------------------------
  let pnlChart = null;

  function drawPnl(points) {
    const canvas = document.getElementById("pnl-chart");
    if (!canvas || !window.Chart || !points) return;
    const labels = points.map((_, i) => (i === 0 ? "start" : "bet " + i));
    const values = points.map((p) => p.pnl);
    const last = values[values.length - 1] || 0;
    const colour = last >= 0 ? "#22c55e" : "#ef4444";
    if (pnlChart) {
      pnlChart.data.labels = labels;
      pnlChart.data.datasets[0].data = values;
      pnlChart.data.datasets[0].borderColor = colour;
      pnlChart.update("none");
      return;
    }
    pnlChart = new Chart(canvas, {
      type: "line",
      data: { labels, datasets: [{ label: "Cumulative P&L (credits)", data: values, borderColor: colour,
        backgroundColor: "rgba(56,189,248,.08)", fill: true, tension: 0.25, pointRadius: values.length > 40 ? 0 : 2 }] },
      options: {
        responsive: true, maintainAspectRatio: false, animation: false,
        plugins: { legend: { display: false } },
        scales: {
          x: { ticks: { color: "#94a3b8", maxTicksLimit: 8 }, grid: { color: "rgba(36,50,79,.6)" } },
          y: { ticks: { color: "#94a3b8" }, grid: { color: "rgba(36,50,79,.6)" } },
        },
      },
    });
  }

  // --- dashboard ---------------------------------------------------------------------------
  const root = document.getElementById("dashboard");

  function bind(name, text) {
    root.querySelectorAll('[data-bind="' + name + '"]').forEach((el) => { el.textContent = text; });
  }

  function show(name, visible) {
    root.querySelectorAll('[data-show="' + name + '"]').forEach((el) => { el.hidden = !visible; });
  }

  function placeSpot(shot) {
    const group = document.getElementById("shot-spot");
    if (!group) return;
    group.toggleAttribute("hidden", !shot);
    if (!shot) return;
    ["shot-pulse", "shot-marker"].forEach((id) => {
      const el = document.getElementById(id);
      el.setAttribute("cx", shot.x_ft);
      el.setAttribute("cy", shot.y_ft);
    });
    const path = document.getElementById("shot-path");
    path.setAttribute("x2", shot.x_ft);
    path.setAttribute("y2", shot.y_ft);
  }

  function drawRecent(recent) {
    const group = document.getElementById("recent-marks");
    if (!group) return;
    group.replaceChildren();
    recent.forEach((past) => {
      let mark;
      if (past.made === null || past.made === undefined) return; // taken, its record not ingested yet
      if (past.made) {
        mark = document.createElementNS(SVG, "circle");
        mark.setAttribute("cx", past.x_ft);
        mark.setAttribute("cy", past.y_ft);
        mark.setAttribute("r", "0.7");
        mark.setAttribute("class", "mark mark-made");
      } else {
        mark = document.createElementNS(SVG, "path");
        mark.setAttribute("transform", "translate(" + past.x_ft + " " + past.y_ft + ")");
        mark.setAttribute("d", "M -0.6 -0.6 l 1.2 1.2 m -1.2 0 l 1.2 -1.2");
        mark.setAttribute("class", "mark mark-missed");
      }
      group.appendChild(mark);
    });
    const list = document.getElementById("recent-results");
    if (list) {
      list.replaceChildren();
      if (!recent.length) list.innerHTML = '<li class="muted">No shot taken yet.</li>';
      recent.forEach((past) => {
        const li = document.createElement("li");
        const badge = document.createElement("span");
        const pending = past.made === null || past.made === undefined;
        badge.className = "result " + (pending ? "result-pending" : past.made ? "result-made" : "result-missed");
        badge.textContent = pending ? "Taken · ingesting" : past.made ? "Made" : "Missed";
        const detail = document.createElement("span");
        detail.className = "muted";
        detail.textContent = " · " + past.action_type + " · " + past.distance_ft + " ft";
        li.append(badge, " " + past.player + " ", detail);
        list.appendChild(li);
      });
    }
  }

  function renderShot(shot) {
    show("shot", !!shot);
    show("no-shot", !shot);
    placeSpot(shot);
    if (!shot) return;
    const initials = shot.player.split(/\s+/).filter(Boolean).slice(0, 2).map((w) => w[0]).join("").toUpperCase();
    bind("initials", initials);
    bind("sequence", shot.sequence);
    bind("player", shot.player);
    bind("team", shot.team + (shot.position ? " · " + shot.position : ""));
    bind("matchup", shot.team_code + (shot.home ? " vs " : " @ ") + shot.opponent);
    bind("game-date", shot.game_date);
    bind("period", shot.period_label);
    bind("clock", shot.clock);
    bind("action", shot.action_type);
    bind("zone", shot.shot_type + " · " + shot.zone);
    bind("distance", shot.distance_ft);
    const hasModel = shot.model_probability !== null;
    show("model", hasModel);
    show("no-model", !hasModel);
    bind("probability", pct(shot.model_probability));
    bind("model-version", shot.model_version || "");
    root.querySelectorAll('[data-bind-width="probability"]').forEach((el) => {
      el.style.width = hasModel ? (shot.model_probability * 100).toFixed(1) + "%" : "0";
    });
    bind("p-made", pct(shot.model_probability));
    bind("p-missed", pct(shot.model_probability_missed));
    bind("fair-made", odds(shot.fair_odds_made));
    bind("fair-missed", odds(shot.fair_odds_missed));
    bind("odds-made", odds(shot.market_odds_made));
    bind("odds-missed", odds(shot.market_odds_missed));
    bind("odds-made-btn", odds(shot.market_odds_made));
    bind("odds-missed-btn", odds(shot.market_odds_missed));
    bind("edge-made", signedPct(shot.edge_made));
    bind("edge-missed", signedPct(shot.edge_missed));
    bind("market-detail", shot.market_detail || "");
    root.querySelectorAll("tr[data-side]").forEach((row) => {
      row.classList.toggle("value-row", row.dataset.side === shot.value_side);
    });
    show("value", !!shot.value_side);
    bind("value-side", shot.value_side || "");
  }

  function renderMe(me) {
    if (!me) return;
    bind("balance", credits(me.balance));
    bind("open-stakes", credits(me.open_stakes));
    bind("net", signedCredits(me.net));
    root.querySelectorAll('[data-bind="net"]').forEach((el) => {
      el.classList.toggle("good", me.net >= 0);
      el.classList.toggle("bad", me.net < 0);
    });
    bind("settled", me.settled);
    const list = document.getElementById("open-bets");
    if (list) {
      list.replaceChildren();
      if (!me.open_bets.length) list.innerHTML = '<li class="muted">No open bet.</li>';
      me.open_bets.forEach((bet) => {
        const li = document.createElement("li");
        const side = document.createElement("strong");
        side.textContent = bet.side;
        const who = document.createElement("span");
        who.className = "muted";
        who.textContent = " · " + bet.player;
        li.append(credits(bet.stake) + " on ", side, " @ " + odds(bet.odds), who);
        list.appendChild(li);
      });
    }
    drawPnl(me.pnl);
  }

  function render(data, previousShotId) {
    const stream = data.stream;
    const status = root.querySelector('[data-bind="stream-status"]');
    if (status) {
      status.textContent = stream.paused ? "Paused" : "● Live";
      status.className = "pill " + (stream.paused ? "pill-paused" : "pill-live");
    }
    bind("pace", stream.pace_seconds);
    bind("played", stream.shots_played);
    renderShot(data.shot);
    drawRecent(data.recent);
    renderMe(data.me);
    const shotId = data.shot ? data.shot.id : null;
    const form = document.getElementById("bet-form");
    if (form && shotId !== previousShotId) {
      // A new shot: the form bets on it, with a fresh idempotency key (the stake typed stays).
      form.querySelector('[name="shot"]').value = shotId || "";
      document.getElementById("idempotency-key").value = newKey();
      form.querySelectorAll('input[name="side"]').forEach((input) => { input.checked = false; });
    }
    return shotId;
  }

  if (root) {
    const initial = JSON.parse(document.getElementById("stream-data").textContent);
    let shotId = initial.shot ? initial.shot.id : null;
    if (initial.me) drawPnl(initial.me.pnl);
    const url = root.dataset.streamUrl;
    const every = Math.max(500, parseFloat(root.dataset.pollSeconds || "3") * 1000);
    let busy = false;
    async function poll() {
      if (busy || document.hidden) return;
      busy = true;
      try {
        const response = await fetch(url, { headers: { Accept: "application/json" }, credentials: "same-origin" });
        if (response.ok) shotId = render(await response.json(), shotId);
      } catch (error) {
        // Offline for a moment: the next poll tries again.
      } finally {
        busy = false;
      }
    }
    setInterval(poll, every);
    document.addEventListener("visibilitychange", poll);

    root.querySelectorAll(".chip[data-stake]").forEach((chip) => {
      chip.addEventListener("click", () => { document.getElementById("stake").value = chip.dataset.stake; });
    });
    const form = document.getElementById("bet-form");
    if (form) {
      form.addEventListener("submit", () => {
        // The idempotency key already makes a second submit harmless; this just says so.
        const button = document.getElementById("place-bet");
        setTimeout(() => { button.disabled = true; button.textContent = "Placing…"; }, 0);
      });
    }
  } else {
    const data = document.getElementById("pnl-data");
    if (data) drawPnl(JSON.parse(data.textContent));
  }
})();
