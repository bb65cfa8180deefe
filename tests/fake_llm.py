"""A local OpenAI-compatible chat server for tests: streams a fixed answer, remembers what it was sent.

``videochat ask -m llm=openai:fake --base-url URL`` then runs end to end (perception,
context, the LLM call over HTTP) without a local LLM runtime. Test-only.
"""
from __future__ import annotations

import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

ANSWER = "The fake model read the context."


class FakeChatServer:
    """Serves ``POST /v1/chat/completions`` (streamed or not) on 127.0.0.1; ``requests`` holds the bodies."""

    def __init__(self, answer: str = ANSWER):
        self.answer = answer
        self.requests: list[dict] = []
        server = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args) -> None:  # quiet
                pass

            def do_POST(self) -> None:
                body = json.loads(self.rfile.read(int(self.headers.get("Content-Length", 0))))
                server.requests.append(body)
                if body.get("stream"):
                    self.send_response(200)
                    self.send_header("Content-Type", "text/event-stream")
                    self.end_headers()
                    for piece in server.answer.split(" "):
                        self._event({"delta": {"content": piece + " "}, "finish_reason": None})
                    self._event({"delta": {}, "finish_reason": "stop"})
                    self.wfile.write(b"data: [DONE]\n\n")
                    return
                data = json.dumps(self._chunk({"message": {"role": "assistant", "content": server.answer},
                                               "finish_reason": "stop"}, "chat.completion")).encode()
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def _chunk(self, choice: dict, kind: str = "chat.completion.chunk") -> dict:
                return {"id": "fake", "object": kind, "created": 0, "model": "fake",
                        "choices": [dict(index=0, **choice)]}

            def _event(self, choice: dict) -> None:
                self.wfile.write(b"data: " + json.dumps(self._chunk(choice)).encode() + b"\n\n")
                self.wfile.flush()

        self._httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self._httpd.server_address[1]}/v1"
        self._thread = threading.Thread(target=self._httpd.serve_forever, daemon=True)

    def __enter__(self) -> "FakeChatServer":
        self._thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self._httpd.shutdown()
        self._httpd.server_close()

    def prompt(self, index: int = -1) -> str:
        """All message contents of one request, joined."""
        return "\n".join(str(m.get("content")) for m in self.requests[index]["messages"])
