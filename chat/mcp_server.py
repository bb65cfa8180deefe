"""``videochat mcp``: the front door served to other programs over the Model Context Protocol (stdio).

Built on the official ``mcp`` SDK (:class:`mcp.server.mcpserver.MCPServer`, the
SDK's FastMCP). Tools, each a thin call of :mod:`chat.api`:

- ``context(video, stages)``: the textual context of a video (what ``videochat context`` prints);
- ``ask(target, question, stages)``: an answer about a video file or URL, or across a library file or folder;
- ``search(library, query, limit)``: the best moments of a library (typed hits);
- ``report(video, output, stages)``: write the HTML timeline report, return its path.

Stdout carries the protocol, so while a tool runs anything printed goes to stderr.
The errors a user can cause (a missing file, no model, a bad value) come back as
the tool's error text, as the command line's ``error:`` line would say them.
"""
from __future__ import annotations

import sys
from collections.abc import Iterator
from contextlib import contextmanager, redirect_stdout
from typing import Annotated

from pydantic import Field

from library.records import Hit

Stages = Annotated[list[str] | None, Field(description="Perception stages to run, e.g. ['asr', 'ocr'] (default: all)")]


def _settings(stages: list[str] | None):
    from chat import api

    return api.perception_settings(stages=tuple(stages) if stages else None)


@contextmanager
def tool_call() -> Iterator[None]:
    """Run a tool: printing goes to stderr, a user's error becomes the tool's error message."""
    from mcp.server.mcpserver.exceptions import ToolError

    from perceive.models import ModelUnavailable
    from perceive.video import VideoError

    with redirect_stdout(sys.stderr):
        try:
            yield
        except (VideoError, ModelUnavailable, ValueError, FileNotFoundError) as exc:
            raise ToolError(str(exc)) from None


def build_server():
    """The MCP server with videochat's four tools."""
    from mcp.server.mcpserver import MCPServer

    from chat import api

    server = MCPServer("videochat", instructions="Ask questions about videos; search a library of indexed videos.")

    @server.tool()
    def context(video: Annotated[str, Field(description="Path of a video file")], stages: Stages = None) -> str:
        """The timestamped textual context of a video: what was seen, read and heard, and when."""
        with tool_call():
            return api.build_context(video, _settings(stages)).render()

    @server.tool()
    def ask(target: Annotated[str, Field(description="A video file, an http(s) URL, a library file or a folder")],
            question: Annotated[str, Field(description="The question about the video(s)")],
            stages: Stages = None) -> str:
        """Answer a question about a video (citing the time), or across a library's videos (citing video and time)."""
        with tool_call():
            if api.is_library(target):
                return api.ask_library(target, question, _settings(stages))
            return api.ask(target, question, _settings(stages))

    @server.tool()
    def search(library: Annotated[str, Field(description="A library file made by `videochat index`")],
               query: Annotated[str, Field(description="Words or a question")],
               limit: Annotated[int, Field(ge=1, le=100, description="How many moments")] = 10) -> list[Hit]:
        """The best moments of a library for a query: video, start and end (seconds), kind, line and score."""
        with tool_call():
            return api.search(library, query, limit=limit)

    @server.tool()
    def report(video: Annotated[str, Field(description="Path of a video file")],
               output: Annotated[str, Field(description="Path of the HTML file to write")],
               stages: Stages = None) -> str:
        """Write the HTML timeline report of a video (lanes per model, thumbnails, context); returns its path."""
        with tool_call():
            return str(api.report(video, output, _settings(stages)))

    return server


def serve() -> None:
    """Run the server on stdin/stdout until the client closes it."""
    build_server().run("stdio")
