"""The year's plan (`twinning.plans`): goals, work items with their budget lines and KPIs, the
spending recorded against each budget line, the KPI values staff enter, and the KPIs computed
from the event stream, with the progress report of a quarter or a year.

`models` holds the read model, `service` the commands and queries, `projector` keeps the plan
tables and the KPI facts (one row per event a computed KPI may count), `kpis` turns facts into
figures as of a date, `report` renders the progress report (HTML, PDF, CSV, XLSX).
"""
