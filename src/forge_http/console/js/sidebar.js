// Sessions and their chats. Opening a chat tells `onOpen`; the open chat is marked with
// aria-current so a screen reader says which it is.

import { $, clear, el } from "./dom.js";

export class Sidebar {
  constructor(api, onOpen) {
    this.api = api;
    this.onOpen = onOpen;
    this.sessions = [];
    this.chats = new Map(); // session id -> chats
    this.current = null; // { session, chat }
    $("new-session").addEventListener("click", () => this.newSession());
    $("new-chat").addEventListener("click", () => this.newChat());
  }

  async load() {
    this.chats.clear();
    this.current = null;
    this.sessions = await this.api.call("GET", "/sessions?limit=200");
    const lists = await Promise.all(this.sessions.map((session) => this.api.call("GET", `/chats?session_id=${session.id}&limit=200`)));
    this.sessions.forEach((session, index) => this.chats.set(session.id, lists[index]));
    this.render();
    const last = [...this.sessions].reverse().find((session) => this.chats.get(session.id).length);
    if (last) await this.open(last, this.chats.get(last.id).at(-1));
    else await this.newSession();
  }

  render() {
    const list = clear($("session-list"));
    for (const session of this.sessions) {
      const chats = this.chats.get(session.id) || [];
      list.append(el("li", { class: "session" },
        el("span", { class: "session-name" }, session.name),
        el("ul", { class: "chat-list" }, chats.map((chat) => el("li", {},
          el("button", {
            type: "button", class: "chat-link", dataset: { chatId: chat.id },
            "aria-current": this.current?.chat.id === chat.id ? "true" : null,
            onclick: () => this.open(session, chat),
          }, chat.title || "Untitled chat"))))));
    }
  }

  async open(session, chat) {
    this.current = { session, chat };
    this.render();
    await this.onOpen(session, chat);
  }

  async newSession() {
    const name = `Design session ${new Date().toLocaleString()}`;
    const session = await this.api.call("POST", "/sessions", { name, metadata_json: { source: "console" } });
    this.sessions.push(session);
    this.chats.set(session.id, []);
    await this.newChat(session);
  }

  async newChat(session = this.current?.session) {
    if (!session) return this.newSession();
    const chat = await this.api.call("POST", "/chats", { session_id: session.id, title: "New chat" });
    this.chats.get(session.id).push(chat);
    await this.open(session, chat);
  }

  // A chat's first prompt becomes its title.
  async titled(text) {
    const { chat } = this.current;
    if (chat.title !== "New chat") return;
    const title = text.length > 60 ? `${text.slice(0, 57)}…` : text;
    Object.assign(chat, await this.api.call("PATCH", `/chats/${chat.id}`, { title }));
    $("chat-title").textContent = chat.title;
    this.render();
  }
}
