"""Engagement analytics: events (:mod:`.events`), their store, the host's live board, comments
understood, recommendations and promotions, reports."""

from tryon.analytics.events import EVENT_TYPES, Event, EventRejectedError, parse_event

__all__ = ["EVENT_TYPES", "Event", "EventRejectedError", "parse_event"]
