/* A half court on a <canvas>, in the warehouse's coordinates.
 *
 * Coordinates are feet from the hoop: x < 0 is the shooter's left, y grows toward half
 * court. The baseline (y = -5.25) is drawn at the top, as on NBA.com shot charts, so the
 * shooter's left is the screen's left.
 *
 *   const court = PariCourt.create(canvas);           // sized to the canvas's CSS width
 *   court.drawBins(bins, {value: b => b.rate, binFt: 2.5});
 *   court.drawShots([{x: -6.5, y: 24, made: true}], {color: "#f97316"});
 *   court.onResize(() => { court.clear(); ...draw again... });
 */
(function (global) {
  "use strict";

  const X0 = -25, X1 = 25, Y0 = -5.25, Y1 = 41.75;
  const LINE = "rgba(226, 232, 240, 0.55)";
  // Blue (cold) -> sky -> yellow -> orange -> red (hot).
  const RAMP = [[37, 99, 235], [56, 189, 248], [250, 204, 21], [249, 115, 22], [220, 38, 38]];

  function colorFor(value, lo, hi, alpha) {
    if (value === null || value === undefined || Number.isNaN(value)) return "rgba(148, 163, 184, 0.35)";
    const t = Math.max(0, Math.min(1, (value - lo) / (hi - lo)));
    const scaled = t * (RAMP.length - 1);
    const i = Math.min(RAMP.length - 2, Math.floor(scaled));
    const f = scaled - i;
    const c = RAMP[i].map((v, k) => Math.round(v + (RAMP[i + 1][k] - v) * f));
    return `rgba(${c[0]}, ${c[1]}, ${c[2]}, ${alpha === undefined ? 0.9 : alpha})`;
  }

  function create(canvas, options) {
    const opts = Object.assign({ padding: 6 }, options || {});
    const ctx = canvas.getContext("2d");
    let scale = 1, pad = opts.padding;
    const listeners = [];

    function resize() {
      const ratio = global.devicePixelRatio || 1;
      const width = canvas.clientWidth || canvas.parentElement.clientWidth || 500;
      scale = (width - 2 * pad) / (X1 - X0);
      const height = Math.round((Y1 - Y0) * scale + 2 * pad);
      canvas.style.height = height + "px";
      canvas.width = Math.round(width * ratio);
      canvas.height = Math.round(height * ratio);
      ctx.setTransform(ratio, 0, 0, ratio, 0, 0);
    }

    function px(x, y) {
      return [pad + (x - X0) * scale, pad + (y - Y0) * scale];
    }

    function line(points) {
      ctx.beginPath();
      points.forEach(([x, y], i) => {
        const [a, b] = px(x, y);
        if (i === 0) ctx.moveTo(a, b); else ctx.lineTo(a, b);
      });
      ctx.stroke();
    }

    function arc(cx, cy, radius, from, to) {
      const [a, b] = px(cx, cy);
      ctx.beginPath();
      ctx.arc(a, b, radius * scale, from, to);
      ctx.stroke();
    }

    function drawCourt() {
      ctx.save();
      ctx.strokeStyle = LINE;
      ctx.lineWidth = 1.5;
      line([[X0, Y0], [X1, Y0], [X1, Y1], [X0, Y1], [X0, Y0]]); // sidelines, baseline, half-court line
      line([[-8, Y0], [-8, 13.75], [8, 13.75], [8, Y0]]); // the paint (16 ft wide, free-throw line 19 ft out)
      line([[-6, 13.75], [-6, Y0]]);
      line([[6, 13.75], [6, Y0]]);
      arc(0, 13.75, 6, 0, Math.PI); // free-throw circle, the half away from the hoop
      ctx.setLineDash([4, 4]);
      arc(0, 13.75, 6, Math.PI, 2 * Math.PI);
      ctx.setLineDash([]);
      arc(0, 0, 4, 0, Math.PI); // restricted area
      line([[-4, 0], [-4, -1.25]]);
      line([[4, 0], [4, -1.25]]);
      // Three-point line: corners 22 ft out, then the 23.75 ft arc.
      const cornerY = Math.sqrt(23.75 * 23.75 - 22 * 22);
      line([[-22, Y0], [-22, cornerY]]);
      line([[22, Y0], [22, cornerY]]);
      const start = Math.atan2(cornerY, 22);
      arc(0, 0, 23.75, start, Math.PI - start);
      arc(0, Y1, 6, Math.PI, 2 * Math.PI); // centre circle (the half on this side)
      ctx.lineWidth = 2.5;
      line([[-3, -1.25], [3, -1.25]]); // backboard
      ctx.strokeStyle = "#f97316";
      ctx.lineWidth = 2;
      arc(0, 0, 0.75, 0, 2 * Math.PI); // rim
      ctx.restore();
    }

    function clear() {
      ctx.clearRect(0, 0, canvas.width, canvas.height);
      drawCourt();
    }

    /* Squares of binFt feet coloured by value(bin); area grows with the bin's share of shots. */
    function drawBins(bins, o) {
      const options2 = Object.assign({ binFt: 2.5, lo: 0.25, hi: 0.7, value: (b) => b.rate }, o || {});
      const most = Math.max(1, ...bins.map((b) => b.n));
      bins.forEach((bin) => {
        const size = options2.binFt * Math.max(0.35, Math.sqrt(bin.n / most));
        const [cx, cy] = px(bin.x, bin.y);
        const side = size * scale;
        ctx.fillStyle = colorFor(options2.value(bin), options2.lo, options2.hi);
        ctx.fillRect(cx - side / 2, cy - side / 2, side, side);
      });
      drawCourt();
    }

    /* Dots: filled when made, rings when missed. */
    function drawShots(points, o) {
      const options2 = Object.assign({ color: "#f97316", radius: 4 }, o || {});
      points.forEach((p) => {
        const [cx, cy] = px(p.x, p.y);
        ctx.beginPath();
        ctx.arc(cx, cy, options2.radius, 0, 2 * Math.PI);
        if (p.made) {
          ctx.fillStyle = options2.color;
          ctx.fill();
        } else {
          ctx.strokeStyle = options2.color;
          ctx.lineWidth = 1.5;
          ctx.stroke();
        }
      });
    }

    function onResize(callback) {
      listeners.push(callback);
    }

    let timer = null;
    global.addEventListener("resize", () => {
      clearTimeout(timer);
      timer = setTimeout(() => {
        resize();
        clear();
        listeners.forEach((cb) => cb());
      }, 120);
    });

    resize();
    clear();
    return { clear, drawCourt, drawBins, drawShots, onResize, toPixels: px, colorFor };
  }

  global.PariCourt = { create, colorFor, bounds: { x: [X0, X1], y: [Y0, Y1] } };
})(window);
