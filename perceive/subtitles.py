"""Subtitles (``subtitles``): the text subtitle streams inside the video file and the subtitle files beside it.

Exact subtitles cost nothing to read and say what is spoken (or shown) word for word:

* **embedded streams** of text subtitles (SubRip, ASS/SSA, MP4 ``mov_text``, WebVTT) are converted
  to SubRip text by ffmpeg and parsed with pysubs2; their language is the stream's ``language`` tag.
  A bitmap subtitle stream (Blu-ray PGS, DVB, DVD) holds pictures of text: it gets one note, is not read;
* **sidecar files** ``NAME.srt``, ``NAME.vtt``, ``NAME.ass``/``.ssa`` and ``NAME.LANG.srt`` beside
  ``NAME.mp4`` are found by default (``LANG`` gives their language); the stage option ``path``
  (``--subtitles PATH``) names one file instead of searching.

Each cue becomes one ``subtitle`` :class:`~perceive.records.Observation` with its time span, its text
(styling tags removed, line breaks kept as spaces by the context), ``label`` naming where it came
from (``stream 2``, ``clip.en.srt``) and ``language`` (ISO 639-1) when the source says it; the
context detects the language of the others from their words. Sidecar files are part of the cache
key (:meth:`SubtitleStage.inputs`): adding or editing one perceives the video again.
"""
from __future__ import annotations

import glob
import hashlib
import json
import re
import subprocess
from functools import lru_cache
from importlib import resources
from pathlib import Path

from perceive import decode
from perceive.records import Note, Observation, VideoInfo, printable
from perceive.stage import SourceStage

TEXT_CODECS = {"subrip", "srt", "ass", "ssa", "mov_text", "webvtt", "text"}
"""ffmpeg codec names of text subtitle streams (read)."""
BITMAP_CODECS = {"hdmv_pgs_subtitle", "dvb_subtitle", "dvd_subtitle", "xsub", "dvb_teletext"}
"""ffmpeg codec names of subtitle streams that hold pictures of text (noted, not read)."""
SIDECAR_SUFFIXES = (".srt", ".vtt", ".ass", ".ssa")
TIMEOUT = 120.0
"""Seconds ffmpeg may take to extract one subtitle stream."""

_LANG_PART = re.compile(r"^[A-Za-z]{2,3}(?:[-_][A-Za-z0-9]{2,4})?$")


@lru_cache(maxsize=1)
def _iso639() -> dict[str, str]:
    """ISO 639-2 codes (``eng``, ``ger``/``deu`` ...) to ISO 639-1 (``en``, ``de``), from ``iso639.tsv``."""
    table = {}
    for line in resources.files("perceive").joinpath("iso639.tsv").read_text().splitlines():
        if line.strip() and not line.startswith("#"):
            two, *threes = line.split()
            table.update({three: two for three in threes})
    return table


def language_code(tag: str | None) -> str | None:
    """ISO 639-1 code of a language tag (``en``, ``eng``, ``pt-BR``, ``fre``); None for ``und`` or unknown."""
    if not tag:
        return None
    base = re.split(r"[-_]", tag.strip().lower())[0]
    if len(base) == 2 and base.isalpha():
        return base
    return _iso639().get(base)


def sidecars(video: Path) -> list[Path]:
    """Subtitle files beside ``video``: ``NAME.srt``, ``NAME.vtt``, ``NAME.ass``, ``NAME.LANG.srt`` ..."""
    found = []
    for path in sorted(video.parent.glob(glob.escape(video.stem) + ".*")):
        if path.suffix.lower() not in SIDECAR_SUFFIXES or not path.is_file():
            continue
        middle = path.name[len(video.stem):-len(path.suffix)]
        if middle == "" or _LANG_PART.match(middle.lstrip(".")):
            found.append(path)
    return found


def sidecar_language(video: Path, sidecar: Path) -> str | None:
    """The language a sidecar's name gives (``clip.de.srt`` -> ``de``), else None."""
    middle = sidecar.name[len(video.stem):-len(sidecar.suffix)].lstrip(".")
    return language_code(middle) if middle else None


def decoded(data: bytes) -> str:
    """Subtitle file bytes as text: UTF-8 (with or without a BOM), else Windows-1252 (never fails)."""
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError:
        return data.decode("cp1252", errors="replace")


def cues(text: str, label: str, language: str | None, until: float | None = None) -> list[Observation]:
    """The cues of a subtitle document (SubRip, WebVTT, ASS ... as pysubs2 reads them) as observations,
    those starting before ``until`` seconds only (None: all)."""
    import pysubs2

    document = pysubs2.SSAFile.from_string(text)
    out = []
    for event in document:
        if event.is_comment or event.is_drawing:
            continue
        said = " ".join(event.plaintext.split())
        start, end = max(0.0, event.start / 1000), max(0.0, event.end / 1000)
        if not said or (until is not None and start >= until):
            continue
        if until is not None:
            end = min(end, until)
        out.append(Observation(stage="subtitle", start=round(start, 3), end=round(max(start, end), 3), text=said,
                               label=label, language=language))
    return out


def subtitle_streams(video: Path) -> list[dict]:
    """ffprobe's records of the subtitle streams in ``video`` (empty without ffprobe)."""
    cmd = ["ffprobe", "-v", "error", "-select_streams", "s", "-show_streams", "-of", "json", "-i", f"file:{video}"]
    try:
        done = subprocess.run(cmd, capture_output=True, timeout=TIMEOUT)
        return json.loads(done.stdout or b"{}").get("streams", [])
    except (subprocess.TimeoutExpired, ValueError):
        return []


def extract_stream(video: Path, index: int) -> str:
    """Subtitle stream ``index`` of ``video`` as SubRip text (ffmpeg converts every text codec)."""
    cmd = ["ffmpeg", "-nostdin", "-v", "error", "-i", f"file:{video}", "-map", f"0:{index}", "-f", "srt", "-"]
    done = subprocess.run(cmd, capture_output=True, timeout=TIMEOUT)
    if done.returncode != 0:
        raise RuntimeError(done.stderr.decode(errors="replace").strip().splitlines()[-1:] or "ffmpeg failed")
    return decoded(done.stdout)


class SubtitleStage(SourceStage):
    """Read the video's text subtitle streams and its sidecar subtitle files (or the one file ``path`` names).

    Options (``stage_options["subtitles"]``): ``path`` (a subtitle file; ``--subtitles PATH``),
    ``sidecars`` (search beside the video; default true).
    """

    name = "subtitles"

    def __init__(self, model=None, device: str = "cpu", path: str | None = None, sidecars: bool = True):
        super().__init__(model, device)
        self.path = Path(path) if path else None
        self.search = sidecars

    def load_model(self) -> None:
        return None

    def specs(self) -> list:
        return []

    def files(self, video: Path) -> list[Path]:
        """The subtitle files read beside ``video``: the one ``path`` names, else the sidecars found."""
        if self.path is not None:
            return [self.path]
        return sidecars(video) if self.search else []

    def inputs(self, video: str | Path) -> str:
        """A digest of the subtitle files read for ``video`` (names and bytes): part of the cache key."""
        digest = hashlib.sha256()
        for path in self.files(Path(video)):
            digest.update(str(path.name).encode("utf-8", "surrogateescape"))
            try:
                digest.update(path.read_bytes())
            except OSError:
                digest.update(b"unreadable")
        return digest.hexdigest()[:16]

    def process(self, video: VideoInfo, until: float | None = None) -> list[Observation]:
        """Every cue of the embedded text streams and the subtitle files, in time order (notes in ``self.notes``)."""
        self.notes = []
        path = Path(video.path)
        out = self._streams(path, until) if decode.have_ffmpeg() else []
        for file in self.files(path):
            try:
                out += cues(decoded(file.read_bytes()), printable(file.name), sidecar_language(path, file), until)
            except Exception as exc:  # noqa: BLE001 - an unreadable subtitle file is a note, never an error
                self.notes.append(Note(reason=f"subtitles: {printable(file.name)} not read ({type(exc).__name__}: {exc})"))
        return sorted(out, key=lambda o: o.start)

    def _streams(self, video: Path, until: float | None) -> list[Observation]:
        out, pictures = [], []
        for stream in subtitle_streams(video):
            codec, index = stream.get("codec_name", "unknown"), int(stream.get("index", -1))
            language = (stream.get("tags") or {}).get("language")
            what = f"stream {index} ({codec}{', ' + language if language else ''})"
            if codec in BITMAP_CODECS:
                pictures.append(what)
                continue
            if codec not in TEXT_CODECS:
                self.notes.append(Note(reason=f"subtitles: {what} is a subtitle format this reader does not know; not read"))
                continue
            try:
                out += cues(extract_stream(video, index), f"stream {index}", language_code(language), until)
            except Exception as exc:  # noqa: BLE001 - a broken stream is a note, never an error
                self.notes.append(Note(reason=f"subtitles: {what} not read ({exc})"))
        if pictures:
            self.notes.append(Note(reason=f"subtitles: bitmap subtitle {'streams' if len(pictures) > 1 else 'stream'} "
                              f"{', '.join(pictures)} not read (pictures of text, not text)"))
        return out
