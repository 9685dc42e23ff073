// One chat's socket: follows the chat's events, reconnects with `since` after a drop,
// and refreshes the access token when the server closes with 4401.
//
// The server replays the stored events before it reads any client frame, so the answer
// to the ping sent on opening marks the end of the replay: events before it are history
// (shown, not acted on), events after it are live.

const RETRY_MS = [500, 1000, 2000, 5000];

export class ChatSocket {
  constructor(api, chatId, { onEvent, onState }) {
    this.api = api;
    this.chatId = chatId;
    this.onEvent = onEvent;
    this.onState = onState;
    this.last = 0;
    this.live = false;
    this.closed = false;
    this.attempt = 0;
    this.connect();
  }

  connect() {
    if (this.closed) return;
    const socket = new WebSocket(this.api.socketUrl(this.chatId, this.last));
    this.socket = socket;
    socket.addEventListener("open", () => {
      this.attempt = 0;
      socket.send(JSON.stringify({ type: "ping" }));
      this.onState("connected");
    });
    socket.addEventListener("message", (message) => this.receive(JSON.parse(message.data)));
    socket.addEventListener("close", (event) => this.dropped(event));
  }

  receive(frame) {
    if (frame.type === "pong") {
      this.live = true;
      return;
    }
    if (typeof frame.seq === "number") {
      if (frame.seq <= this.last) return;
      this.last = frame.seq;
    }
    this.onEvent(frame, { live: this.live });
  }

  async dropped(event) {
    if (this.closed) return;
    this.live = true; // whatever is replayed after a reconnect was missed while live
    if (event.code === 4404) {
      this.onState("gone");
      return;
    }
    this.onState("reconnecting");
    if (event.code === 4401) {
      try {
        await this.api.refresh();
      } catch {
        this.api.ended();
        return;
      }
    }
    const wait = RETRY_MS[Math.min(this.attempt, RETRY_MS.length - 1)];
    this.attempt += 1;
    setTimeout(() => this.connect(), wait);
  }

  close() {
    this.closed = true;
    if (this.socket) this.socket.close(1000, "chat closed");
  }
}
