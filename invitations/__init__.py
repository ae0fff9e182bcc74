"""City events and invitations (`twinning.invitations`): events the city hosts, the partner
cities and foreign missions invited to them, and their answers (RSVP).

`models` holds the read model, `service` the commands (validated against the current state)
and queries, `projector` applies the events of `twinning.invitations` in the worker.
"""
