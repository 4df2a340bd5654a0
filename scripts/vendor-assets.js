// Copy the front-end files the portal serves from node_modules into static/vendor.
const fs = require("fs");
const path = require("path");

const root = path.resolve(__dirname, "..");
const assets = [["chart.js/dist/chart.umd.min.js", "chart.umd.min.js"]];
const target = path.join(root, "static", "vendor");
fs.mkdirSync(target, { recursive: true });
for (const [source, name] of assets) {
  fs.copyFileSync(path.join(root, "node_modules", source), path.join(target, name));
}
console.log(`copied ${assets.length} asset(s) to ${path.relative(root, target)}`);
