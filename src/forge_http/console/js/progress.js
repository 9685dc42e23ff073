// The chat's events as readable lines, and the state of the request in flight.

import { $, clear, el } from "./dom.js";

const STAGES = {
  render: "Rendering the SCAD",
  qa: "Checking the mesh",
  export: "Exporting STL, GLB, 3MF and a preview",
  store: "Storing the files",
};
const KEEP = 40; // lines shown; older ones scroll away

export function describe(frame) {
  switch (frame.type) {
    case "runpod.queued": return "Queued";
    case "runpod.status": return `Run ${String(frame.status).toLowerCase().replaceAll("_", " ")}`;
    case "runpod.completed":
      if (frame.message?.metadata_json?.requirements_json) return "Requirements ready";
      if (frame.output?.scad_code) return "SCAD written";
      return "Run completed";
    case "runpod.failed": return `Run failed: ${frame.error}`;
    case "job.started": return "Job started";
    case "job.progress": return STAGES[frame.stage] || `Stage: ${frame.stage}`;
    case "job.completed": return "Completed";
    case "job.failed": return `Failed at ${frame.stage}: ${frame.reason}`;
    case "job.repair": return `Repair ${frame.attempt}: ${frame.stage} failed (${frame.reason}); the backend is asked to fix the SCAD`;
    case "error": return `Refused: ${frame.detail}`;
    default: return frame.type;
  }
}

export class Progress {
  reset() {
    clear($("progress"));
    this.state("idle");
  }

  add(text, { type = "note", stage = null, failed = false } = {}) {
    const list = $("progress");
    list.append(el("li", { class: failed ? "failed" : null, dataset: { type, stage: stage || "" } }, text));
    while (list.children.length > KEEP) list.firstElementChild.remove();
    list.lastElementChild.scrollIntoView({ block: "nearest" });
  }

  event(frame) {
    const failed = frame.type.endsWith("failed") || frame.type === "error";
    this.add(describe(frame), { type: frame.type, stage: frame.stage, failed });
  }

  // idle, working, completed or failed (with the reason)
  state(state, reason = "") {
    const badge = $("progress-state");
    badge.dataset.state = state;
    badge.textContent = reason ? `${state}: ${reason}` : state;
  }
}
