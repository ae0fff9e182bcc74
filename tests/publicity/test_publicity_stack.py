"""Through the real stack (API, relay, broker, worker with its rendering process): a partner
registered through the API appears in the published PDF leaflet, without a token."""

from __future__ import annotations

import httpx
from conftest import Stack, sample_partner, wait_for
from publicity_support import pdf_text


def test_a_registered_partner_appears_in_the_published_leaflet(stack: Stack) -> None:
    partner = {**sample_partner(7), "names": {"zh-TW": "高雄測試市", "en": "Testport"}}
    assert stack.client.post("/partners", json=partner).status_code == 202
    public = httpx.Client(base_url=stack.settings.base_url(), timeout=30)

    def leaflet_text() -> str | None:
        response = public.get("/publicity/leaflet", params={"lang": "zh-TW", "format": "pdf"})
        return pdf_text(response.content) if response.status_code == 200 else None

    try:
        text = wait_for(
            lambda: (t := leaflet_text()) and "高雄測試市" in t and t,
            timeout=120,
            what="the zh-TW leaflet to show the new partner",
        )
    finally:
        public.close()
    assert "城市外交" in text
    assert "日本" in text  # the partner's country, named by CLDR in Chinese
