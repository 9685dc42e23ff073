// The console's entry point: sign in (or resume the tab's login), then the app.

import { Api } from "./api.js";
import { $ } from "./dom.js";
import { Viewer } from "./viewer.js";
import { Parameters } from "./parameters.js";
import { JobView } from "./job_view.js";
import { Progress } from "./progress.js";
import { Sidebar } from "./sidebar.js";
import { ChatView } from "./chat_view.js";

const api = new Api((message) => showSignIn(message));
const progress = new Progress();
const parameters = new Parameters(api, (variant) => chatView.follow(variant));
const jobView = new JobView(api, new Viewer($("model-canvas")), parameters);
const sidebar = new Sidebar(api, (session, chat) => chatView.open(session, chat));
const chatView = new ChatView(api, sidebar, jobView, progress);
let registering = false;

function showSignIn(message = "") {
  chatView.close();
  jobView.clear();
  $("app-view").hidden = true;
  $("signin-view").hidden = false;
  $("signin-error").textContent = message;
  $("signin-email").focus();
}

function setMode(register) {
  registering = register;
  $("signin-legend").textContent = register ? "Create an account" : "Sign in";
  $("signin-submit").textContent = register ? "Register" : "Sign in";
  $("signin-toggle").textContent = register ? "Have an account? Sign in" : "New here? Register";
  $("signin-name-row").hidden = !register;
  $("signin-password").autocomplete = register ? "new-password" : "current-password";
}

async function submitSignIn(event) {
  event.preventDefault();
  const email = $("signin-email").value.trim();
  const password = $("signin-password").value;
  if (!email || !password) {
    $("signin-error").textContent = "Enter your email and a password.";
    return;
  }
  $("signin-submit").disabled = true;
  try {
    if (registering) await api.register(email, password, $("signin-name").value.trim());
    else await api.signIn(email, password);
    $("signin-password").value = "";
    await showApp();
  } catch (error) {
    $("signin-error").textContent = error.detail || error.message;
  } finally {
    $("signin-submit").disabled = false;
  }
}

async function showApp() {
  $("signin-view").hidden = true;
  $("app-view").hidden = false;
  const me = await api.call("GET", "/auth/me");
  $("user-name").textContent = me.display_name || me.email;
  await sidebar.load();
  $("prompt-text").focus();
}

function toggleSidebar() {
  const open = $("sidebar-toggle").getAttribute("aria-expanded") !== "true";
  $("sidebar-toggle").setAttribute("aria-expanded", String(open));
  $("app-view").classList.toggle("sidebar-open", open);
}

$("signin-form").addEventListener("submit", submitSignIn);
$("signin-toggle").addEventListener("click", () => setMode(!registering));
$("signout").addEventListener("click", async () => { await api.signOut().catch(() => {}); showSignIn(); });
$("sidebar-toggle").addEventListener("click", toggleSidebar);
window.addEventListener("unhandledrejection", (event) => {
  const reason = event.reason?.detail || event.reason?.message || String(event.reason);
  $("viewer-status").textContent = `Something went wrong: ${reason}`;
});

if (await api.resume()) await showApp();
else showSignIn();
