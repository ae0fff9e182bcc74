"""Correspondence by email: what an event causes to be sent, and its delivery, each message
recorded once in the mail outbox (`mail_messages`)."""
