"""Perception: turn a video into typed, timestamped observations.

The pipeline reads keyframes and audio with ffmpeg and runs one small
:class:`~perceive.stage.Stage` per model (ASR, detection, captioning, dense
region captions, action recognition). Every model comes from the one registry
in :mod:`perceive.models`.
"""
