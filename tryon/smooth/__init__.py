"""Temporal smoothing of landmarks and visibility."""

from tryon.smooth.one_euro import LandmarkSmoother, OneEuroParams, VisibilitySmoother

__all__ = ["LandmarkSmoother", "OneEuroParams", "VisibilitySmoother"]
