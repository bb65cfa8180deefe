"""``videochat mcp`` driven by the official SDK's own client over stdio (``mcp.client.stdio``)."""
from __future__ import annotations

import asyncio
import os
import shutil
import sys
from pathlib import Path

import pytest

from tests.conftest import clip, require_default_llm

pytest.importorskip("mcp")


def _server():
    from mcp.client.stdio import StdioServerParameters

    return StdioServerParameters(command=sys.executable, args=["-m", "chat.cli", "mcp"], env=dict(os.environ),
                                 cwd=str(Path(__file__).resolve().parents[1]))


async def _session(calls):
    from mcp import Client

    async with Client(_server(), read_timeout_seconds=600) as client:
        return [await call(client) for call in calls]


def test_the_four_tools_over_stdio(tmp_path):
    from chat import api
    from perceive.pipeline import PerceptionSettings

    video = tmp_path / "talk.mp4"
    shutil.copyfile(clip("retalking_face_4.mp4"), video)
    db = tmp_path / "lib.db"
    api.index([video], db, PerceptionSettings(stages=("asr",)), cleanup=False)
    report = tmp_path / "talk.html"

    calls = [
        lambda c: c.list_tools(),
        lambda c: c.call_tool("search", {"library": str(db), "query": "central bank money", "limit": 2}),
        lambda c: c.call_tool("context", {"video": str(video), "stages": ["asr"]}),
        lambda c: c.call_tool("report", {"video": str(video), "output": str(report), "stages": ["asr"]}),
        lambda c: c.call_tool("search", {"library": str(tmp_path / "none.db"), "query": "x"}),
    ]
    tools, found, context, written, failed = asyncio.run(_session(calls))
    by_name = {t.name: t for t in tools.tools}
    assert set(by_name) == {"context", "ask", "search", "report"}
    search_input = by_name["search"].input_schema
    assert search_input["properties"]["limit"]["type"] == "integer" and set(search_input["required"]) == {
        "library", "query"}
    assert by_name["ask"].input_schema["required"] == ["target", "question"]
    assert not found.is_error
    hits = found.structured_content["result"]
    assert 1 <= len(hits) <= 2 and Path(hits[0]["video"]).name == "talk.mp4" and hits[0]["kind"] == "speech"
    text = context.content[0].text
    assert text.startswith("Video file name (not evidence of the content): talk.mp4") and "Speech 0:" in text
    assert not written.is_error and Path(written.content[0].text) == report and "<html" in report.read_text()[:200]
    assert failed.is_error and "no such library file" in failed.content[0].text


@pytest.mark.slow
def test_the_ask_tool_answers_across_a_library(tmp_path):
    from chat import api
    from perceive.pipeline import PerceptionSettings

    require_default_llm()
    folder = tmp_path / "videos"
    folder.mkdir()
    for name in ("retalking_face_1.mp4", "retalking_face_4.mp4"):
        shutil.copyfile(clip(name), folder / name)
    db = tmp_path / "lib.db"
    api.index([folder], db, PerceptionSettings(stages=("asr",)), cleanup=False)
    [asked] = asyncio.run(_session([lambda c: c.call_tool("ask", {"target": str(db), "stages": ["asr"],
                                                                   "question": "Which bank is named?"})]))
    answer = asked.content[0].text
    assert not asked.is_error and "(retalking_face_4.mp4, 0:0" in answer and "bank" in answer.lower(), answer
