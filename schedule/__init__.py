"""The one schedule (`twinning.schedule`): the interpreter roster, and the booking check that
every booking (an itinerary item, a city event, a trip) passes against all three kinds.

`models` holds the roster and the overrides recorded, `conflicts` the check, `service` the
roster's commands and queries and the language coverage of a visit, `projector` applies the
roster's events and records the overrides of city events and trips in the worker.
"""
