/* Backtests, model, data and match pages. Each page's <main data-insights="..."> picks its part;
 * figures come from <script type="application/json"> blocks (json_script) or JSON endpoints. */
(function () {
  "use strict";

  const COLORS = ["#f97316", "#38bdf8", "#22c55e", "#a78bfa", "#eab308", "#ef4444"];
  const root = document.querySelector("[data-insights]");
  if (!root) return;

  function data(id) {
    const node = document.getElementById(id);
    return node ? JSON.parse(node.textContent) : null;
  }

  function themeCharts() {
    if (!window.Chart) return false;
    Chart.defaults.color = "#94a3b8";
    Chart.defaults.borderColor = "rgba(36, 50, 79, 0.9)";
    Chart.defaults.font.family = getComputedStyle(document.body).fontFamily;
    Chart.defaults.plugins.legend.labels.boxWidth = 12;
    Chart.defaults.maintainAspectRatio = false;
    Chart.defaults.animation = false; // figures, not a show: draw them at once (and for screenshots)
    return true;
  }

  const pct = (v) => (v === null || v === undefined ? "—" : (v * 100).toFixed(1) + "%");

  // --- backtests ------------------------------------------------------------------------------
  function backtestDetail() {
    const status = root.dataset.status;
    if (status === "queued" || status === "running") {
      pollBacktest(root.dataset.api);
    }
    const curves = data("curves-data");
    const canvas = document.getElementById("curve-chart");
    if (!curves || !canvas || !curves.length || !themeCharts()) return;
    const start = curves[0].points.length ? curves[0].points[0].bankroll : 0;
    new Chart(canvas, {
      type: "line",
      data: {
        datasets: curves.map((curve, i) => ({
          label: curve.label,
          data: curve.points.map((p) => ({ x: p.n, y: p.bankroll, date: p.date })),
          borderColor: COLORS[i % COLORS.length],
          backgroundColor: COLORS[i % COLORS.length] + "22",
          borderWidth: 2, pointRadius: 0, tension: 0.1, fill: false,
        })).concat([{
          label: "Starting bankroll",
          data: [{ x: 0, y: start }, { x: Math.max(1, ...curves.map((c) => (c.points.length ? c.points[c.points.length - 1].n : 1))), y: start }],
          borderColor: "rgba(148, 163, 184, 0.6)", borderDash: [5, 5], borderWidth: 1, pointRadius: 0,
        }]),
      },
      options: {
        parsing: false, animation: false, interaction: { mode: "nearest", intersect: false },
        scales: {
          x: { type: "linear", title: { display: true, text: "Bets placed" } },
          y: { title: { display: true, text: "Bankroll (credits)" } },
        },
        plugins: {
          tooltip: {
            callbacks: {
              title: (items) => `Bet ${items[0].raw.x}${items[0].raw.date ? " · " + items[0].raw.date : ""}`,
              label: (item) => `${item.dataset.label}: ${item.raw.y.toLocaleString(undefined, { maximumFractionDigits: 2 })}`,
            },
          },
        },
      },
    });
  }

  function pollBacktest(url) {
    const bar = document.getElementById("progress-bar");
    const step = document.getElementById("progress-step");
    const label = document.getElementById("progress-label");
    let delay = 700;
    function tick() {
      fetch(url, { headers: { Accept: "application/json" }, credentials: "same-origin" })
        .then((r) => (r.ok ? r.json() : Promise.reject(r.status)))
        .then((bt) => {
          if (bar) bar.style.width = bt.progress + "%";
          if (label) label.textContent = bt.progress + "%";
          if (step) step.textContent = bt.step || (bt.status === "queued" ? "waiting for a worker" : bt.status);
          if (bt.status === "succeeded" || bt.status === "failed") {
            window.location.reload();
            return;
          }
          setTimeout(tick, delay);
        })
        .catch(() => { delay = Math.min(delay * 2, 8000); setTimeout(tick, delay); });
    }
    tick();
  }

  function backtestForm() {
    const form = document.getElementById("backtest-form");
    if (!form) return;
    const toggle = () => {
      const kelly = form.querySelector("input[name=strategy]:checked");
      const isKelly = kelly && kelly.value === "kelly";
      form.querySelectorAll("[data-strategy]").forEach((el) => {
        el.hidden = el.dataset.strategy !== (isKelly ? "kelly" : "flat");
      });
    };
    form.querySelectorAll("input[name=strategy]").forEach((el) => el.addEventListener("change", toggle));
    toggle();
    form.addEventListener("submit", () => {
      const button = form.querySelector("button[type=submit]");
      if (button) { button.disabled = true; button.textContent = "Queuing…"; }
    });
    document.querySelectorAll("tr.row-link").forEach((row) => {
      row.addEventListener("click", () => { window.location = row.dataset.href; });
    });
  }

  // --- the model ----------------------------------------------------------------------------------
  function modelPage() {
    if (!themeCharts()) return;
    const history = data("history-data");
    const historyCanvas = document.getElementById("history-chart");
    if (history && historyCanvas && history.labels.length) {
      const pointStyle = history.promoted.map((p) => (p ? "star" : "circle"));
      const radius = history.champion.map((c, i) => (c ? 9 : history.promoted[i] ? 7 : 4));
      new Chart(historyCanvas, {
        type: "line",
        data: {
          labels: history.labels,
          datasets: [
            { label: "Holdout accuracy", data: history.accuracy, borderColor: COLORS[0], backgroundColor: COLORS[0],
              pointStyle, pointRadius: radius, yAxisID: "y", spanGaps: true },
            { label: "ROC AUC", data: history.roc_auc, borderColor: COLORS[1], backgroundColor: COLORS[1],
              pointStyle, pointRadius: radius, yAxisID: "y", spanGaps: true },
            { label: "Log loss", data: history.log_loss, borderColor: COLORS[3], backgroundColor: COLORS[3],
              borderDash: [4, 4], pointRadius: 3, yAxisID: "y2", spanGaps: true },
          ],
        },
        options: {
          interaction: { mode: "index", intersect: false },
          scales: {
            y: { title: { display: true, text: "accuracy / AUC" } },
            y2: { position: "right", grid: { drawOnChartArea: false }, title: { display: true, text: "log loss" } },
          },
          plugins: {
            tooltip: {
              callbacks: {
                afterTitle: (items) => {
                  const i = items[0].dataIndex;
                  return `${history.algorithms[i]} · ${history.created[i]}` +
                    (history.champion[i] ? " · champion" : history.promoted[i] ? " · was promoted" : "");
                },
              },
            },
          },
        },
      });
    }

    const figures = data("figures-data");
    const calibrationCanvas = document.getElementById("calibration-chart");
    if (figures && calibrationCanvas && figures.calibration.length) {
      const points = figures.calibration.map((b) => ({ x: b.predicted, y: b.observed, n: b.count }));
      const most = Math.max(...points.map((p) => p.n));
      new Chart(calibrationCanvas, {
        type: "scatter",
        data: {
          datasets: [
            { label: "Champion (holdout)", data: points, showLine: true, borderColor: COLORS[0], backgroundColor: COLORS[0],
              pointRadius: points.map((p) => 3 + 7 * Math.sqrt(p.n / most)) },
            { label: "Perfectly calibrated", data: [{ x: 0, y: 0 }, { x: 1, y: 1 }], showLine: true,
              borderColor: "rgba(148,163,184,.6)", borderDash: [5, 5], pointRadius: 0 },
          ],
        },
        options: {
          scales: {
            x: { min: 0, max: 1, title: { display: true, text: "Predicted probability" } },
            y: { min: 0, max: 1, title: { display: true, text: "Observed make rate" } },
          },
          plugins: {
            tooltip: { callbacks: { label: (i) => i.raw.n ? `predicted ${pct(i.raw.x)} · observed ${pct(i.raw.y)} · ${i.raw.n} shots` : "" } },
          },
        },
      });
    }
    const importanceCanvas = document.getElementById("importance-chart");
    if (figures && importanceCanvas && figures.importance.length) {
      new Chart(importanceCanvas, {
        type: "bar",
        data: {
          labels: figures.importance.map((f) => f.feature),
          datasets: [{ label: "Share of importance", data: figures.importance.map((f) => f.importance),
            backgroundColor: COLORS[1] + "cc", borderRadius: 4 }],
        },
        options: {
          indexAxis: "y",
          plugins: { legend: { display: false }, tooltip: { callbacks: { label: (i) => pct(i.raw) } } },
          scales: { x: { ticks: { callback: (v) => pct(v) } }, y: { ticks: { autoSkip: false, font: { size: 11 } } } },
        },
      });
    }
    familyCharts();
    const live = data("live-data");
    const liveCanvas = document.getElementById("live-chart");
    if (live && liveCanvas) {
      new Chart(liveCanvas, {
        type: "bar",
        data: {
          labels: live.metrics.map((m) => m.name),
          datasets: [
            { label: "Holdout", data: live.metrics.map((m) => m.holdout), backgroundColor: COLORS[1] + "cc", borderRadius: 4 },
            { label: "Live", data: live.metrics.map((m) => m.live), backgroundColor: COLORS[0] + "cc", borderRadius: 4 },
          ],
        },
        options: { scales: { y: { beginAtZero: true } } },
      });
    }
  }

  // The drift story: one reliability curve per shot family, logged forecasts beside the replay as served.
  function familyCharts() {
    const families = data("drift-story-data");
    if (!families) return;
    document.querySelectorAll("canvas[data-family-index]").forEach((canvas) => {
      const entry = families[Number(canvas.dataset.familyIndex)];
      if (!entry) return;
      const series = [];
      const add = (source, label, color, dash) => {
        const figures = entry[source];
        if (!figures || !figures.curve || !figures.curve.length) return;
        const points = figures.curve.map((b) => ({ x: b.predicted, y: b.observed, n: b.count }));
        const most = Math.max(...points.map((p) => p.n));
        series.push({ label: `${label} (${figures.n})`, data: points, showLine: true, borderColor: color,
          backgroundColor: color, borderDash: dash, borderWidth: entry.preferred === source ? 2.5 : 1.5,
          pointRadius: points.map((p) => 2 + 5 * Math.sqrt(p.n / most)) });
      };
      add("log", "Logged", COLORS[0], []);
      add("replay", "Replay", COLORS[1], entry.preferred === "replay" ? [] : [5, 4]);
      series.push({ label: "Perfect", data: [{ x: 0, y: 0 }, { x: 1, y: 1 }], showLine: true,
        borderColor: "rgba(148,163,184,.6)", borderDash: [5, 5], pointRadius: 0 });
      new Chart(canvas, {
        type: "scatter",
        data: { datasets: series },
        options: {
          scales: {
            x: { min: 0, max: 1, title: { display: true, text: "Predicted" }, ticks: { callback: (v) => Math.round(v * 100) + "%" } },
            y: { min: 0, max: 1, title: { display: true, text: "Observed" }, ticks: { callback: (v) => Math.round(v * 100) + "%" } },
          },
          plugins: {
            legend: { labels: { font: { size: 11 } } },
            tooltip: { callbacks: { label: (i) => i.raw.n ? `predicted ${pct(i.raw.x)} · observed ${pct(i.raw.y)} · ${i.raw.n} shots` : "" } },
          },
        },
      });
    });
  }

  // --- the data --------------------------------------------------------------------------------------
  function dataPage() {
    if (themeCharts()) {
      const daily = data("daily-data");
      const canvas = document.getElementById("ingestion-chart");
      if (daily && canvas && daily.labels.length) {
        new Chart(canvas, {
          data: {
            labels: daily.labels,
            datasets: [
              { type: "bar", label: "Shots inserted", data: daily.inserted, backgroundColor: COLORS[1] + "cc", stack: "s", borderRadius: 3 },
              { type: "bar", label: "Records rejected", data: daily.rejected, backgroundColor: COLORS[5] + "cc", stack: "s", borderRadius: 3 },
              { type: "line", label: "Runs", data: daily.runs, borderColor: COLORS[0], backgroundColor: COLORS[0], yAxisID: "y2", tension: 0.2 },
            ],
          },
          options: {
            interaction: { mode: "index", intersect: false },
            scales: {
              x: { stacked: true }, y: { stacked: true, title: { display: true, text: "records" } },
              y2: { position: "right", beginAtZero: true, grid: { drawOnChartArea: false }, title: { display: true, text: "runs" },
                ticks: { precision: 0 } },
            },
          },
        });
      }
    }
    shotChart();
    const filters = document.getElementById("shot-filters");
    if (filters) {
      filters.querySelectorAll("select").forEach((el) => el.addEventListener("change", () => filters.submit()));
    }
  }

  function shotChart() {
    const real = document.getElementById("court-real");
    const model = document.getElementById("court-model");
    const summary = document.getElementById("shot-summary");
    if (!real || !model || !window.PariCourt) return;
    const courts = [PariCourt.create(real), PariCourt.create(model)];
    fetch(root.dataset.shotChart + window.location.search, { credentials: "same-origin" })
      .then((r) => (r.ok ? r.json() : Promise.reject(r.status)))
      .then((chart) => {
        const draw = () => {
          courts.forEach((c) => c.clear());
          courts[0].drawBins(chart.bins, { value: (b) => b.rate, binFt: chart.bin_ft });
          if (chart.version !== null) courts[1].drawBins(chart.bins, { value: (b) => b.p, binFt: chart.bin_ft });
        };
        draw();
        courts.forEach((c) => c.onResize(draw));
        if (summary) {
          summary.textContent = chart.shots
            ? `${chart.shots.toLocaleString()} shots (${chart.first_date} to ${chart.last_date}) · made ${pct(chart.make_rate)}` +
              (chart.version !== null ? ` · champion v${chart.version} expects ${pct(chart.mean_probability)}` : " · no champion yet")
            : chart.status === "computing" ? "Being computed by a worker: reload in a minute."
            : window.location.search.length > 1 ? "No shots match these filters."
            : "No data yet: the charts are computed after shots arrive and after each promotion.";
          summary.dataset.state = chart.status || "";
        }
        const note = document.getElementById("court-model-note");
        if (note && chart.version === null) note.hidden = false;
      })
      .catch((status) => { if (summary) summary.textContent = `The shot chart could not be loaded (${status}).`; });
  }

  // --- a match ------------------------------------------------------------------------------------------
  function matchPage() {
    const match = data("match-data");
    if (!match) return;
    const picker = document.getElementById("match-picker");
    if (picker) {
      const date = picker.querySelector("input[name=date]");
      const game = picker.querySelector("select[name=game]");
      if (date) date.addEventListener("change", () => { if (game) game.value = ""; picker.submit(); });
      if (game) game.addEventListener("change", () => picker.submit());
    }
    if (themeCharts()) {
      const canvas = document.getElementById("match-chart");
      const datasets = [];
      match.teams.forEach((team, i) => {
        const color = COLORS[i % COLORS.length];
        datasets.push({ label: `${team.code} actual`, data: team.actual_curve, borderColor: color, backgroundColor: color,
          stepped: true, pointRadius: 0, borderWidth: 2.5 });
        if (team.expected_curve.length) {
          datasets.push({ label: `${team.code} expected`, data: team.expected_curve, borderColor: color, borderDash: [6, 4],
            pointRadius: 0, borderWidth: 1.8, tension: 0.15 });
        }
      });
      new Chart(canvas, {
        type: "line",
        data: { datasets },
        options: {
          parsing: false, animation: false, interaction: { mode: "nearest", intersect: false },
          scales: {
            x: { type: "linear", min: 0, max: Math.max(48, ...match.teams.flatMap((t) => t.actual_curve.map((p) => Math.ceil(p.x)))),
              title: { display: true, text: "Game minute" },
              ticks: { stepSize: 12, callback: (v) => (v < 48 ? `Q${Math.floor(v / 12) + 1}` : v === 48 ? "48'" : "") } },
            y: { beginAtZero: true, title: { display: true, text: "Field-goal points" } },
          },
          plugins: { tooltip: { callbacks: { title: (items) => `minute ${items[0].raw.x.toFixed(1)}`,
            label: (item) => `${item.dataset.label}: ${item.raw.y.toFixed(1)}` } } },
        },
      });
    }
    const courtCanvas = document.getElementById("match-court");
    if (courtCanvas && window.PariCourt) {
      const court = PariCourt.create(courtCanvas);
      const draw = () => {
        court.clear();
        match.teams.forEach((team, i) => court.drawShots(team.points, { color: COLORS[i % COLORS.length], radius: 3.5 }));
      };
      draw();
      court.onResize(draw);
    }
  }

  // --- shot-making over expected --------------------------------------------------------------------
  function shotMakingBoard() {
    const filters = document.getElementById("smoe-filters");
    if (filters) filters.querySelectorAll("select").forEach((el) => el.addEventListener("change", () => filters.submit()));
    // Each interval on one scale (±10 points): a bar from low to high, a tick at the estimate.
    const SPAN = 0.1;
    const at = (v) => Math.max(0, Math.min(100, 50 + (v / SPAN) * 50));
    document.querySelectorAll(".interval").forEach((el) => {
      const low = parseFloat(el.dataset.low), high = parseFloat(el.dataset.high), mid = parseFloat(el.dataset.mid);
      if ([low, high, mid].some(Number.isNaN)) return;
      const bar = document.createElement("span");
      bar.className = "interval-bar" + (low > 0 ? " good" : high < 0 ? " bad" : "");
      bar.style.left = at(low) + "%";
      bar.style.width = Math.max(1, at(high) - at(low)) + "%";
      const tick = document.createElement("span");
      tick.className = "interval-mid";
      tick.style.left = at(mid) + "%";
      el.append(bar, tick);
    });
  }

  function shotMakingPlayer() {
    const detail = data("player-data");
    const picker = document.getElementById("player-season");
    if (picker) picker.querySelectorAll("select").forEach((el) => el.addEventListener("change", () => picker.submit()));
    if (!detail) return;
    const trend = detail.trend;
    const canvas = document.getElementById("trend-chart");
    if (trend && canvas && themeCharts()) {
      let n = 0, made = 0, expected = 0;
      const actual = [], model = [];
      trend.dates.forEach((date, i) => {
        n += trend.n[i]; made += trend.made[i]; expected += trend.p_sum[i];
        actual.push({ x: i + 1, y: made / n, date, n });
        model.push({ x: i + 1, y: expected / n, date, n });
      });
      new Chart(canvas, {
        type: "line",
        data: { datasets: [
          { label: "Actual FG%", data: actual, borderColor: COLORS[0], backgroundColor: COLORS[0], pointRadius: 0, borderWidth: 2.5 },
          { label: "Expected FG%", data: model, borderColor: COLORS[1], backgroundColor: COLORS[1], borderDash: [6, 4], pointRadius: 0, borderWidth: 2 },
        ] },
        options: {
          parsing: false, animation: false, interaction: { mode: "nearest", intersect: false },
          scales: { x: { type: "linear", min: 1, title: { display: true, text: "Game" } },
            y: { ticks: { callback: (v) => pct(v) }, title: { display: true, text: "Cumulative FG%" } } },
          plugins: { tooltip: { callbacks: { title: (items) => `${items[0].raw.date} · ${items[0].raw.n} attempts so far`,
            label: (item) => `${item.dataset.label}: ${pct(item.raw.y)}` } } },
        },
      });
    }
    const chart = detail.chart;
    const courts = [["court-actual", (b) => b.rate], ["court-expected", (b) => b.p]]
      .map(([id, value]) => [document.getElementById(id), value]).filter(([el]) => el && window.PariCourt)
      .map(([el, value]) => [PariCourt.create(el), value]);
    const draw = () => courts.forEach(([court, value]) => { court.clear(); court.drawBins(chart.bins, { value, binFt: chart.bin_ft }); });
    draw();
    courts.forEach(([court]) => court.onResize(draw));
  }

  const pages = { "backtest-detail": backtestDetail, backtests: backtestForm, model: modelPage, data: dataPage, match: matchPage,
    "shot-making": shotMakingBoard, "shot-making-player": shotMakingPlayer };
  const page = pages[root.dataset.insights];
  if (page) page();
})();
