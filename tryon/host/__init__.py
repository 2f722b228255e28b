"""``tryon host``: a camera on this machine (or a video file standing in for one) through the
try-on, out to a preview window, a file, WHIP, RTMP/SRT and a virtual camera at once.

:class:`Host` runs it (:mod:`tryon.host.core`); the outputs are in :mod:`tryon.host.outputs` and
:mod:`tryon.host.whip`, the look's hot keys and control API in :mod:`tryon.host.control`, the
sources in :mod:`tryon.media.capture`.
"""

from __future__ import annotations

from tryon.host.control import ControlServer, LookControl, load_looks, parse_control
from tryon.host.core import Host, HostReport, LatestFrame
from tryon.host.outputs import (
    Output,
    PreviewOutput,
    RecordOutput,
    UplinkOutput,
    VirtualCameraOutput,
    check_display,
)

__all__ = [
    "ControlServer",
    "Host",
    "HostReport",
    "LatestFrame",
    "LookControl",
    "Output",
    "PreviewOutput",
    "RecordOutput",
    "UplinkOutput",
    "VirtualCameraOutput",
    "check_display",
    "load_looks",
    "parse_control",
]
