"""Press items (`twinning.press`): releases, interviews, articles and broadcasts about the
office's work, with the outlet, day, language and link, each linked to the visits, city
events, trips or exchanges it covers; counted per month and per partner city.

`models` holds the read model, `service` the commands and the counts, `projector` keeps the
read model from the press events on `twinning.exchanges`.
"""
