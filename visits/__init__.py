"""Delegation visits (`twinning.visits`): visit requests and their lifecycle, itineraries, and
the officials and venues that itineraries book.

`models` holds the read model, `service` turns validated requests into events and answers
queries, `projector` applies the events on `twinning.visits` to the read model in the worker.
"""
