"""Trips abroad (`twinning.trips`): the mayor's and other officials' travel, with legs in the
destinations' own time zones; a completed trip records an exchange with the partners visited.

`models` holds the read model, `service` the commands and queries, `projector` keeps the
read model from the trip events on `twinning.exchanges`.
"""
