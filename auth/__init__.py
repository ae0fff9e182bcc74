"""Who may use the API: users with a role, and the bearer tokens they call it with.

Users and tokens are security data, not domain events: they live in plain tables, written
directly (no outbox, no Kafka), so that a token is never copied onto a topic or into the
event archive, and a revocation holds from the moment it commits.
"""
