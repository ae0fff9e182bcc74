"""Publicity: the city-diplomacy leaflet and a brochure per partner city, in every shipped
locale, as self-contained HTML and A4 PDF, kept current from the events.

- `projector`: the publicity projector marks the (document, locale) pairs an event affects
  as stale, in the event's own transaction (cheap: no rendering there);
- `refresh`: off the event loop, renders the stale documents whose content changed (a hash of
  what they show) and keeps every rendered version;
- `content` gathers what a document shows, `render` turns it into HTML and PDF, `fonts`
  embeds only the glyphs a PDF uses, `charts` draws the SVG pictures.

See docs/publicity.md.
"""
