// The chat's stored messages. Long code answers fold away behind their first line.

import { $, clear, el } from "./dom.js";

function body(message) {
  const text = message.content || "";
  const requirements = message.metadata_json?.requirements_json;
  const parts = [];
  if (text.startsWith("//") || text.length > 600) {
    parts.push(el("details", {}, el("summary", {}, text.split("\n")[0].slice(0, 120)), el("pre", {}, text)));
  } else {
    parts.push(el("p", {}, text));
  }
  if (requirements) {
    parts.push(el("details", {}, el("summary", {}, "Requirements"), el("pre", {}, JSON.stringify(requirements, null, 2))));
  }
  return parts;
}

export async function showMessages(api, chat) {
  const messages = await api.call("GET", `/messages?chat_id=${chat.id}&limit=200`);
  const list = clear($("messages"));
  if (!messages.length) list.append(el("li", { class: "muted" }, "No messages yet: describe a part below."));
  for (const message of messages) {
    list.append(el("li", { class: `message ${message.role}`, dataset: { role: message.role } },
      el("span", { class: "role" }, message.role === "user" ? "You" : message.role), ...body(message)));
  }
  list.lastElementChild?.scrollIntoView({ block: "nearest" });
}
