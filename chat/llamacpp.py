"""Local GGUF models on llama.cpp's own server engine, run inside this process.

The engine comes from the ``xllamacpp`` wheel: a prebuilt llama.cpp compiled for
portability (AVX2 at most: no AVX-512 or AMX code, so it runs on any x86-64 CPU
with AVX2, AMD or Intel, whatever the OS enables), installed in seconds, with
llama.cpp's server features: the model's chat template, prompt-prefix reuse
between requests and slot files.

:class:`LlamaCppEngine` owns one loaded model, its tokenizer (converted once from
the GGUF file and kept as ``tokenizer.json`` in the cache) and an on-disk prompt
cache: after an answer the evaluated prompt is saved as a slot file keyed by the
system message, so a new process asking about the same video resumes from it
instead of re-reading the context. :class:`ChatLlamaCppEngine` is the LangChain
chat model over it.
"""
from __future__ import annotations

import hashlib
import json
import queue
import secrets
import signal
import struct
import threading
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from langchain_core.callbacks import CallbackManagerForLLMRun
from langchain_core.language_models import BaseChatModel
from langchain_core.messages import AIMessage, AIMessageChunk, BaseMessage, HumanMessage, SystemMessage
from langchain_core.outputs import ChatGeneration, ChatGenerationChunk, ChatResult
from pydantic import ConfigDict

from perceive.split_model import models_cache

PROMPT_CACHE_BYTES = 1 << 30
_ROLES = {SystemMessage: "system", HumanMessage: "user", AIMessage: "assistant"}


class EngineError(RuntimeError):
    """The llama.cpp engine refused a request (e.g. the prompt does not fit its window)."""


def load_tokenizer(gguf: Path, cache_folder: Path):
    """The GGUF file's tokenizer as a fast ``tokenizers.Tokenizer``, converted once (about 10 s on 2 cores:
    transformers reads the GGUF) and cached in ``cache_folder`` with the models, not with the videos."""
    from tokenizers import Tokenizer

    cached = cache_folder / f"{gguf.stem}-{gguf.stat().st_size}" / "tokenizer.json"
    if not cached.exists():
        from transformers import AutoTokenizer

        converted = AutoTokenizer.from_pretrained(str(gguf.parent), gguf_file=gguf.name)
        tmp = cached.with_name(f".{cached.name}.{threading.get_ident()}.tmp")
        tmp.parent.mkdir(parents=True, exist_ok=True)
        converted.backend_tokenizer.save(str(tmp))
        tmp.replace(cached)
    return Tokenizer.from_file(str(cached))


_GGUF_SCALARS = {0: "B", 1: "b", 2: "H", 3: "h", 4: "I", 5: "i", 6: "f", 7: "?", 10: "Q", 11: "q", 12: "d"}
_GGUF_STRING, _GGUF_ARRAY = 8, 9


def gguf_languages(gguf: Path) -> tuple[str, ...]:
    """The languages a GGUF file's metadata declares (``general.languages``, e.g. ``("en",)``); ``()`` if none.

    Reads the header only, up to that key: the tokenizer's large arrays that follow are never loaded.
    """
    with open(gguf, "rb") as f:
        def read(fmt: str):
            size = struct.calcsize("<" + fmt)
            return struct.unpack("<" + fmt, f.read(size))[0]

        def string() -> str:
            return f.read(read("Q")).decode("utf-8", "replace")

        def value(kind: int):
            if kind == _GGUF_STRING:
                return string()
            if kind == _GGUF_ARRAY:
                item, count = read("I"), read("Q")
                return [value(item) for _ in range(count)]
            return read(_GGUF_SCALARS[kind])

        if f.read(4) != b"GGUF" or read("I") < 2:
            return ()
        read("Q")                                   # tensors
        for _ in range(read("Q")):                  # key-value pairs
            key, kind = string(), read("I")
            if key.startswith("tokenizer."):        # general.* comes first; stop before the big arrays
                return ()
            found = value(kind)
            if key == "general.languages":
                return tuple(str(x) for x in found) if isinstance(found, list) else (str(found),)
    return ()


class LlamaCppEngine:
    """One GGUF model loaded in llama.cpp's server engine, with its tokenizer and prompt cache."""

    def __init__(self, gguf: Path, n_ctx: int, threads: int, cache_root: Path | None = None):
        import xllamacpp

        self.gguf, self.n_ctx = gguf, n_ctx
        self.languages = gguf_languages(gguf)   # read once, with the engine (cached by chat.llm)
        self.slots = cache_root / "llm-prompts" / gguf.stem if cache_root else None
        params = xllamacpp.CommonParams()
        params.model.path = str(gguf)
        params.n_ctx, params.n_batch, params.n_parallel = n_ctx, 512, 1
        params.cpuparams.n_threads = params.cpuparams_batch.n_threads = threads
        params.warmup = False
        params.verbosity = -1
        self._key = secrets.token_hex(16)
        params.api_keys = [self._key]          # its loopback listener answers only this process
        if self.slots:
            self.slots.mkdir(parents=True, exist_ok=True)
            params.slot_save_path = f"{self.slots}/"   # llama.cpp joins it to the file name as is
        handler = signal.getsignal(signal.SIGINT)
        self.server = xllamacpp.Server(params)
        if threading.current_thread() is threading.main_thread():
            signal.signal(signal.SIGINT, handler)   # the engine installs its own; Ctrl-C stays Python's
        self.tokenizer = load_tokenizer(gguf, models_cache() / "llm-tokenizers")   # made once per machine
        self._lock = threading.Lock()
        self._in_slot: str | None = None        # the prompt-cache key whose state the slot holds
        self.last_timings: dict[str, float] = {}

    def count_tokens(self, text: str) -> int:
        """Tokens ``text`` takes (special tokens such as ``<|im_start|>`` count as one)."""
        return len(self.tokenizer.encode(text, add_special_tokens=False).ids) if text else 0

    def stream(self, messages: list[dict[str, str]], **sampling: Any) -> Iterator[str]:
        """The answer to ``messages`` (OpenAI-style dicts), piece by piece, as llama.cpp generates it.

        Closing the iterator early (Ctrl-C, ``break``) stops generation at the next token.
        """
        with self._lock:
            key = self._cache_key(messages)
            self._restore(key)
            pieces: queue.Queue = queue.Queue()
            stop = threading.Event()

            def on_chunk(chunk: dict) -> bool:
                pieces.put(chunk)
                return stop.is_set()

            request = {"messages": messages, "stream": True, "cache_prompt": True, **sampling}
            worker = threading.Thread(target=self._run, args=(request, on_chunk, pieces), daemon=True)
            worker.start()
            failed = False
            try:
                while (chunk := pieces.get()) is not None:
                    if "code" in chunk or "error" in chunk:
                        failed = True
                        raise EngineError(str(chunk.get("message") or chunk.get("error", {}).get("message")
                                              or chunk))
                    if "timings" in chunk:
                        self.last_timings = chunk["timings"]
                    for choice in chunk.get("choices", []):
                        if piece := (choice.get("delta") or {}).get("content"):
                            yield piece
            finally:
                stop.set()
                while worker.is_alive():      # drain so the engine can finish and release the slot
                    try:
                        pieces.get(timeout=0.1)
                    except queue.Empty:
                        pass
                if not failed:                # also when the caller stopped early (one-paragraph answers)
                    self._save(key)

    def _run(self, request: dict, on_chunk, pieces: queue.Queue) -> None:
        try:
            self.server.handle_chat_completions(request, on_chunk)
        except Exception as exc:  # surfaced in the consumer's thread
            pieces.put({"code": 500, "message": str(exc)})
        finally:
            pieces.put(None)

    # --- the prompt cache: slot files keyed by model, window and system message --------------------

    def _cache_key(self, messages: list[dict[str, str]]) -> str | None:
        if not self.slots or not messages or messages[0]["role"] != "system":
            return None
        digest = hashlib.sha256(f"{self.gguf.name}\n{self.n_ctx}\n{messages[0]['content']}".encode())
        return digest.hexdigest()[:24]

    def _slot_action(self, action: str, filename: str) -> bool:
        request = urllib.request.Request(
            f"{self.server.listening_address}/slots/0?action={action}",
            data=json.dumps({"filename": filename}).encode(), method="POST",
            headers={"Content-Type": "application/json", "Authorization": f"Bearer {self._key}"})
        opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))
        try:
            with opener.open(request, timeout=60) as response:
                return response.status == 200
        except OSError:
            return False

    def _restore(self, key: str | None) -> None:
        if key is None or key == self._in_slot or not (self.slots / key).exists():
            return
        if self._slot_action("restore", key):
            self._in_slot = key
            (self.slots / key).touch()

    def _save(self, key: str | None) -> None:
        if key is None:
            return
        self._in_slot = key
        if (self.slots / key).exists() or not self._slot_action("save", key):
            return
        files = sorted(self.slots.iterdir(), key=lambda p: p.stat().st_mtime)
        while files and sum(f.stat().st_size for f in files) > PROMPT_CACHE_BYTES:
            files.pop(0).unlink(missing_ok=True)   # least recently used first


class ChatLlamaCppEngine(BaseChatModel):
    """A LangChain chat model answering with a :class:`LlamaCppEngine` (streaming)."""

    model_config = ConfigDict(arbitrary_types_allowed=True)

    engine: Any
    max_tokens: int = 256
    temperature: float = 0.0
    repeat_penalty: float = 1.1
    seed: int = 0

    @property
    def _llm_type(self) -> str:
        return "llama-cpp-engine"

    def _request(self, messages: list[BaseMessage], stop: list[str] | None) -> tuple[list[dict], dict]:
        turns = [{"role": _ROLES.get(type(m), "user"), "content": str(m.content)} for m in messages]
        greedy = self.temperature == 0
        sampling = {"max_tokens": self.max_tokens, "temperature": self.temperature, "top_k": 1 if greedy else 40,
                    "repeat_penalty": self.repeat_penalty, "seed": self.seed}
        if stop:
            sampling["stop"] = stop
        return turns, sampling

    def _stream(self, messages: list[BaseMessage], stop: list[str] | None = None,
                run_manager: CallbackManagerForLLMRun | None = None, **kwargs: Any) -> Iterator[ChatGenerationChunk]:
        turns, sampling = self._request(messages, stop)
        for piece in self.engine.stream(turns, **sampling):
            if run_manager:
                run_manager.on_llm_new_token(piece)
            yield ChatGenerationChunk(message=AIMessageChunk(content=piece))

    def _generate(self, messages: list[BaseMessage], stop: list[str] | None = None,
                  run_manager: CallbackManagerForLLMRun | None = None, **kwargs: Any) -> ChatResult:
        text = "".join(chunk.text for chunk in self._stream(messages, stop, run_manager))
        return ChatResult(generations=[ChatGeneration(message=AIMessage(content=text))])

