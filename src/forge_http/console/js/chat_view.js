// One open chat: its messages, its socket, the prompt's two runs (process_requirements,
// then generate_scad with the requirements, as the README's flow does) and the jobs that
// follow. Runs are started with POST; their end arrives on the socket, possibly before
// the POST's answer, so ended runs wait in `ended` until their POST is answered.

import { ChatSocket } from "./socket.js";
import { showMessages } from "./messages.js";
import { $ } from "./dom.js";

const POLL_MS = 1000;
const TERMINAL = ["succeeded", "failed", "cancelled"];

export class ChatView {
  constructor(api, sidebar, jobView, progress) {
    this.api = api;
    this.sidebar = sidebar;
    this.jobView = jobView;
    this.progress = progress;
    this.socket = null;
    this.chat = null;
    this.pending = new Map(); // runpod id -> "requirements" | "scad"
    this.ended = new Map(); // runpod id -> its end frame, until its POST is answered
    this.finished = new Set(); // job ids already shown
    $("prompt-form").addEventListener("submit", (event) => { event.preventDefault(); this.prompt(); });
    $("prompt-text").addEventListener("keydown", (event) => { // Enter sends, Shift+Enter breaks the line
      if (event.key === "Enter" && !event.shiftKey && !event.isComposing) {
        event.preventDefault();
        this.prompt();
      }
    });
    $("scad-render").addEventListener("click", () => this.renderScad());
  }

  close() {
    this.socket?.close();
    this.socket = null;
    this.chat = null;
  }

  async open(session, chat) {
    this.close();
    this.session = session;
    this.chat = chat;
    this.pending.clear();
    this.ended.clear();
    $("chat-title").textContent = chat.title || "Untitled chat";
    this.progress.reset();
    await showMessages(this.api, chat);
    const latest = await this.latestJob();
    if (latest) await this.jobView.show(latest);
    else this.jobView.clear();
    this.socket = new ChatSocket(this.api, chat.id, {
      onEvent: (frame, { live }) => this.event(frame, live),
      onState: (state) => { $("chat").dataset.socket = state; },
    });
  }

  async latestJob() {
    const jobs = await this.api.call("GET", `/jobs?session_id=${this.session.id}&limit=200`);
    return jobs.filter((job) => job.spec?.chat_id === this.chat.id).at(-1) || null;
  }

  event(frame, live) {
    this.progress.event(frame);
    if (!live) return;
    if (frame.type === "runpod.completed" || frame.type === "runpod.failed") {
      showMessages(this.api, this.chat);
      this.runEnded(frame);
    } else if (frame.type === "job.started" || frame.type === "job.progress") {
      this.progress.state("working");
    } else if (frame.type === "job.repair") {
      this.progress.state("working");
      showMessages(this.api, this.chat); // the repair is told in the chat
    } else if (frame.type === "job.completed" || frame.type === "job.failed") {
      this.finish(frame.job_id);
    }
  }

  async prompt() {
    const text = $("prompt-text").value.trim();
    if (!text || !this.chat) return;
    $("prompt-text").value = "";
    this.progress.state("working");
    this.progress.add(`You asked: ${text}`);
    this.sidebar.titled(text).catch(() => {}); // a title is a nicety; the design goes on
    await this.start("requirements", { action: "process_requirements", content: text });
    showMessages(this.api, this.chat);
  }

  async start(step, body) {
    try {
      const answer = await this.api.call("POST", `/chats/${this.chat.id}/runpod`, body);
      this.pending.set(answer.runpod_id, step);
      const early = this.ended.get(answer.runpod_id);
      if (early) this.runEnded(early);
    } catch (error) {
      this.fail(error.detail || error.message);
    }
  }

  async runEnded(frame) {
    const step = this.pending.get(frame.runpod_id);
    if (!step) {
      this.ended.set(frame.runpod_id, frame);
      return;
    }
    this.pending.delete(frame.runpod_id);
    this.ended.delete(frame.runpod_id);
    if (frame.type === "runpod.failed") return this.fail(frame.error);
    if (step === "requirements") {
      const requirements = frame.message?.metadata_json?.requirements_json ?? frame.output?.requirements_json;
      if (!requirements) return this.fail("the requirements run answered without requirements");
      return this.start("scad", { action: "generate_scad", content: "Generate SCAD", requirements_json: requirements });
    }
    // generate_scad completed: the pipeline's job events follow on the socket.
  }

  fail(reason) {
    this.progress.state("failed", reason);
  }

  // Show a job that ended, once, whether its end came from the socket or a poll.
  async finish(jobId) {
    if (this.finished.has(jobId)) return;
    this.finished.add(jobId);
    const job = await this.api.call("GET", `/jobs/${jobId}`);
    await this.jobView.show(job);
    if (job.status === "succeeded") this.progress.state("completed");
    else this.fail(job.error || job.status);
  }

  // A job started here (a variant, or SCAD edited by hand): followed by polling as well,
  // since its events reach the socket only when its spec names this chat.
  async follow(job) {
    this.progress.state("working");
    this.progress.add(`Job ${job.id.slice(0, 8)} queued`);
    const chat = this.chat;
    while (this.chat === chat && !this.finished.has(job.id)) {
      const current = await this.api.call("GET", `/jobs/${job.id}`);
      if (TERMINAL.includes(current.status)) return this.finish(job.id);
      await new Promise((resolve) => setTimeout(resolve, POLL_MS));
    }
  }

  async renderScad() {
    const scad = $("scad-source").value;
    if (!scad.trim() || !this.chat) return;
    try {
      const job = await this.api.call("POST", "/jobs", {
        session_id: this.session.id, prompt: "SCAD edited in the console", output_format: "stl",
        spec: { scad_code: scad, chat_id: this.chat.id },
      });
      await this.follow(await this.api.call("POST", `/jobs/${job.id}/start`));
    } catch (error) {
      this.fail(error.detail || error.message);
    }
  }
}
