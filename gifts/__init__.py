"""The gifts register (`twinning.gifts`): gifts the city gave and received, their value, who
gave them to whom, on what occasion, and where they are now; approval above a threshold; a
yearly export for audit. Staff only: no public output (leaflet, brochure, feed) shows a gift.

`models` holds the read model (and the photo store), `service` the commands and queries,
`projector` keeps the read model from the events on `twinning.gifts`, `register` makes the
yearly CSV and PDF; an uploaded photo is checked and cleaned by `twinning.photos`.
"""
