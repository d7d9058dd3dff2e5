// Starts GOV.UK Frontend's components (a file, not inline script: see js-enabled.js).
import { initAll } from "../vendor/govuk/govuk-frontend.min.js";

initAll();
