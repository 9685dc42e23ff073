// One job in the viewer: the model, its measured size, parts, QA report, downloads and
// SCAD source. Everything is read through the public API with the caller's token.

import { $, clear, el, mm } from "./dom.js";

const DOWNLOADS = ["stl", "glb", "3mf", "scad", "png"];

export class JobView {
  constructor(api, viewer, parameters) {
    this.api = api;
    this.viewer = viewer;
    this.parameters = parameters;
    this.job = null;
    this.files = {};
  }

  status(text, state = "info") {
    const status = $("viewer-status");
    status.textContent = text;
    status.dataset.state = state;
    status.hidden = !text;
  }

  clear() {
    this.job = null;
    this.viewer.clear();
    this.status("No model yet.");
    for (const id of ["model-size"]) $(id).textContent = "";
    for (const id of ["part-list", "qa-report", "downloads"]) clear($(id));
    $("scad-source").value = "";
    this.parameters.clear();
  }

  // Show `job`: a succeeded job's model and files; another job's state and reason.
  async show(job) {
    this.clear();
    this.job = job;
    $("viewer").dataset.jobId = job.id;
    $("scad-source").value = job.spec?.scad_code || "";
    this.showQa(job.qa);
    if (job.status !== "succeeded") {
      const failed = job.status === "failed";
      this.status(failed ? `Failed: ${job.error || "no reason given"}` : `Job ${job.status}…`, failed ? "failed" : "info");
      return;
    }
    this.status("Loading the model…");
    const assets = await this.api.call("GET", `/assets?job_id=${job.id}&limit=200`);
    const metas = await this.metasOf(assets);
    if (this.job !== job) return; // another job was opened meanwhile
    const whole = metas.find((meta) => !meta.part_name && !meta.component_of) || null;
    this.files = this.wholeFiles(assets, whole);
    this.showDownloads();
    this.showParts(metas.filter((meta) => meta.part_name), assets);
    this.showSize(job.qa);
    await this.parameters.load(job);
    if (this.job !== job) return;
    if (!this.files.glb) {
      this.status("This job has no GLB to show.", "failed");
      return;
    }
    const glb = await (await this.content(this.files.glb)).arrayBuffer();
    if (this.job !== job) return;
    await this.viewer.show(glb);
    this.status("");
    $("viewer").dataset.loaded = job.id;
  }

  async metasOf(assets) {
    const stls = assets.filter((asset) => asset.asset_type === "stl");
    const lists = await Promise.all(stls.map((asset) => this.api.call("GET", `/asset-meta?asset_id=${asset.id}`)));
    return lists.flat();
  }

  // The whole model's files: its STL is the one whose meta names no part; its PNG the
  // meta's picture; the other types have one asset each.
  wholeFiles(assets, whole) {
    const files = {};
    for (const asset of assets) {
      if (["glb", "3mf", "scad"].includes(asset.asset_type)) files[asset.asset_type] = asset;
    }
    if (whole) {
      files.stl = assets.find((asset) => asset.id === whole.asset_id);
      const picture = (whole.image_paths_json || [])[0]?.asset_id;
      files.png = assets.find((asset) => asset.id === picture);
    }
    return files;
  }

  content(asset) {
    return this.api.send("GET", `/assets/${asset.id}/content`);
  }

  showSize(qa) {
    const size = qa?.size_mm;
    $("model-size").textContent = size ? `Measured size: ${size.map(mm).join(" × ")}` : "";
  }

  showParts(parts, assets) {
    const list = clear($("part-list"));
    if (!parts.length) list.append(el("li", { class: "muted" }, "One body, no named parts."));
    for (const meta of parts) {
      const asset = assets.find((candidate) => candidate.id === meta.asset_id);
      const centre = meta.position_json;
      const details = [
        meta.material_json?.type,
        centre ? `centre ${[centre.x, centre.y, centre.z].map((v) => Number(v).toFixed(1)).join(", ")}` : null,
      ].filter(Boolean).join(" · ");
      const button = el("button", {
        type: "button", class: "part", "aria-pressed": "false", dataset: { part: meta.part_name },
        onclick: () => this.togglePart(button, asset),
      }, el("strong", {}, meta.part_name), details ? el("span", { class: "muted" }, details) : null);
      list.append(el("li", {}, button));
    }
  }

  async togglePart(button, asset) {
    const on = button.getAttribute("aria-pressed") !== "true";
    for (const other of $("part-list").querySelectorAll("button.part")) other.setAttribute("aria-pressed", "false");
    if (!on) {
      this.viewer.highlight(null);
      return;
    }
    button.setAttribute("aria-pressed", "true");
    const stl = await (await this.content(asset)).arrayBuffer();
    if (button.getAttribute("aria-pressed") === "true") this.viewer.highlight(stl);
  }

  showQa(qa) {
    const box = clear($("qa-report"));
    if (!qa) {
      box.append(el("p", { class: "muted" }, "No checks ran."));
      return;
    }
    const verdict = qa.passed ? (qa.warnings?.length ? "Passed with warnings" : "Passed") : "Failed";
    box.append(el("p", { class: `verdict ${qa.passed ? "ok" : "bad"}`, id: "qa-verdict" }, verdict));
    const rows = (qa.checks || []).map((check) => el("tr", { class: check.ok ? "ok" : check.hard ? "bad" : "warn" },
      el("td", {}, check.ok ? "✓" : check.hard ? "✗ hard" : "! warning"),
      el("th", { scope: "row" }, check.name),
      el("td", {}, check.detail || "")));
    box.append(el("table", { class: "qa" },
      el("thead", {}, el("tr", {}, el("th", { scope: "col" }, "Result"), el("th", { scope: "col" }, "Check"), el("th", { scope: "col" }, "Detail"))),
      el("tbody", {}, rows)));
  }

  showDownloads() {
    const box = clear($("downloads"));
    for (const kind of DOWNLOADS) {
      const asset = this.files[kind];
      if (!asset) continue;
      box.append(el("button", { type: "button", dataset: { download: kind }, onclick: () => this.download(kind, asset) },
        `Download ${kind.toUpperCase()}`));
    }
  }

  // The content needs the bearer token, so it is fetched and handed to the browser as a blob.
  async download(kind, asset) {
    const blob = await (await this.content(asset)).blob();
    const url = URL.createObjectURL(blob);
    const link = el("a", { href: url, download: `forge-${this.job.id.slice(0, 8)}.${kind}`, hidden: true });
    document.body.append(link);
    link.click();
    link.remove();
    setTimeout(() => URL.revokeObjectURL(url), 10000);
  }
}
