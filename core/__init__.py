"""twinning: event-driven system for a city's international affairs office."""

__version__ = "0.1.0"
