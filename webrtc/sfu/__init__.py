"""Selective forwarding units a live show broadcasts through (:mod:`webrtc.sfu.base`)."""
