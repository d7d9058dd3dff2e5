// Copies the front-end packages FlexPool serves from node_modules into static/vendor.
// GOV.UK's own typeface (GDS Transport) is licensed for GOV.UK services only, so the
// stylesheet is rewritten to use the system font stack and no font files are copied.
import { cpSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";

const out = "static/vendor";
mkdirSync(`${out}/govuk/images`, { recursive: true });

const govuk = "node_modules/govuk-frontend/dist/govuk";
const css = readFileSync(`${govuk}/govuk-frontend.min.css`, "utf8")
  .replace(/@font-face\{[^}]*\}/g, "")
  .replaceAll('"GDS Transport",', "")
  .replaceAll("sourceMappingURL=", "sourceMappingURL-removed=");
writeFileSync(`${out}/govuk/govuk-frontend.min.css`, css);
const js = readFileSync(`${govuk}/govuk-frontend.min.js`, "utf8").replaceAll(
  "sourceMappingURL=",
  "sourceMappingURL-removed=",
);
writeFileSync(`${out}/govuk/govuk-frontend.min.js`, js);
cpSync(`${govuk}/assets/images`, `${out}/govuk/images`, { recursive: true });
cpSync("node_modules/htmx.org/dist/htmx.min.js", `${out}/htmx.min.js`);
console.log("assets copied to", out);
