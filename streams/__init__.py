"""The event backbone (`twinning.streams`).

- `events`: every event contract (envelope, payloads) and the topics they travel on;
- `store`: the outbox, archive (the ledger of applied events), dead-letter and parking tables;
- `outbox`: how a command records its event; `relay`: how the outbox reaches Kafka;
- `projection`: the projector framework; `worker`: the faust app whose agents run it;
- `broker`: the embedded Kafka-protocol broker and topic administration.
"""
