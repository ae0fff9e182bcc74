"""The sister-city CRM (`twinning.crm`): partner cities and what the office knows of them.

`models` holds the read model, `commands` turns validated requests into events, and
`projector` applies those events to the read model in the worker.
"""
