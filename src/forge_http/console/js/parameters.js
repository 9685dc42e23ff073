// A job's parameters as sliders and choices. A change (after a short pause, so a run of
// arrow-key steps makes one variant) posts a variant of the job; the new job is followed
// until it ends. When the server has no parameters route (404), the section stays hidden;
// SCAD whose parameters cannot be read (422) says so there.

import { ApiError } from "./api.js";
import { $, clear, el } from "./dom.js";

const SETTLE_MS = 600;

export class Parameters {
  constructor(api, onVariant) {
    this.api = api;
    this.onVariant = onVariant;
    this.job = null;
    this.timer = null;
    this.changed = {};
  }

  clear() {
    this.job = null;
    this.changed = {};
    clearTimeout(this.timer);
    clear($("parameter-form"));
    $("parameter-status").textContent = "";
    $("parameters").hidden = true;
  }

  async load(job) {
    this.clear();
    this.job = job;
    let listed;
    try {
      listed = await this.api.call("GET", `/jobs/${job.id}/parameters`);
    } catch (error) {
      if (error instanceof ApiError && error.status === 404) return; // no such route here
      $("parameters").hidden = false;
      $("parameter-status").textContent = `No parameters to change: ${error.detail || error.message}`;
      return;
    }
    if (!listed.length || this.job !== job) return;
    const form = $("parameter-form");
    const groups = new Map();
    for (const parameter of listed) {
      const name = parameter.group || "Parameters";
      if (!groups.has(name)) groups.set(name, el("fieldset", {}, el("legend", {}, name)));
      groups.get(name).append(this.control(parameter));
    }
    form.append(...groups.values());
    $("parameters").hidden = false;
  }

  control(parameter) {
    const id = `param-${parameter.name}`;
    const label = el("label", { for: id }, parameter.description || parameter.name.replaceAll("_", " "));
    const row = el("div", { class: "parameter", dataset: { parameter: parameter.name } }, label);
    if (parameter.options?.length) {
      const select = el("select", { id, name: parameter.name },
        parameter.options.map((option) => el("option", { value: String(option.value), selected: option.value === parameter.value }, option.label ?? String(option.value))));
      const typed = (raw) => parameter.options.find((option) => String(option.value) === raw)?.value ?? raw;
      select.addEventListener("change", () => this.set(parameter.name, typed(select.value)));
      row.append(select);
    } else if (parameter.type === "boolean") {
      const box = el("input", { id, type: "checkbox", name: parameter.name, checked: parameter.value === true });
      box.addEventListener("change", () => this.set(parameter.name, box.checked));
      row.prepend(box);
    } else if (parameter.type === "number") {
      row.append(...this.slider(id, parameter));
    } else if (parameter.type === "string") {
      const input = el("input", { id, type: "text", name: parameter.name, value: parameter.value, maxlength: parameter.max_length });
      input.addEventListener("change", () => this.set(parameter.name, input.value));
      row.append(input);
    } else {
      row.append(el("output", { id }, JSON.stringify(parameter.value)), el("span", { class: "muted" }, " (not editable here)"));
    }
    if (parameter.derived_range) row.append(el("span", { class: "muted hint" }, "range guessed from the default"));
    return row;
  }

  slider(id, parameter) {
    // The range before the value: a value outside the default 0..100 would be clamped.
    const input = el("input", {
      id, type: "range", name: parameter.name,
      min: parameter.min ?? 0, max: parameter.max ?? Math.max(1, parameter.value * 2), step: parameter.step ?? "any",
      value: parameter.value,
    });
    const shown = el("output", { for: id }, String(parameter.value));
    input.addEventListener("input", () => { shown.textContent = input.value; });
    input.addEventListener("change", () => this.set(parameter.name, Number(input.value)));
    return [input, shown];
  }

  set(name, value) {
    this.changed[name] = value;
    clearTimeout(this.timer);
    $("parameter-status").textContent = "Making a variant…";
    this.timer = setTimeout(() => this.post(), SETTLE_MS);
  }

  async post() {
    const job = this.job;
    const changes = this.changed;
    this.changed = {};
    try {
      const variant = await this.api.call("POST", `/jobs/${job.id}/variants`, { parameters: changes });
      $("parameter-status").textContent = "Variant queued; it shows here when it is ready.";
      this.onVariant(variant);
    } catch (error) {
      $("parameter-status").textContent = `The variant was refused: ${error.detail || error.message}`;
    }
  }
}
