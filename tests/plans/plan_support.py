"""A small plan for the tests: two goals, three work items, computed and entered KPIs."""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any

import twinning.demo


def small_plan(year: int = 2025) -> dict[str, Any]:
    return {
        "year": year,
        "title": {"zh-TW": f"{year}年度國際事務計畫", "en": f"International affairs plan {year}"},
        "goals": [
            {
                "key": "diplomacy",
                "title": {"zh-TW": "推展城市外交", "en": "City diplomacy"},
                "work_items": [
                    {
                        "key": "exchanges",
                        "title": {"zh-TW": "各領域交流", "en": "Exchanges in every field"},
                        "description": {"zh-TW": "與締盟城市交流", "en": "With sister cities"},
                        "section": "國際事務科",
                        "budget": "10900",
                        "kpis": [
                            {
                                "key": "inbound",
                                "name": {"zh-TW": "來訪交流", "en": "Inbound exchanges"},
                                "target": 4,
                                "computed": {
                                    "measure": "exchanges",
                                    "filters": {"direction": ["inbound"]},
                                },
                            },
                            {
                                "key": "participants",
                                "name": {"zh-TW": "交流人次", "en": "Participants"},
                                "target": 100,
                                "computed": {"measure": "exchanges", "aggregate": "sum"},
                            },
                        ],
                    },
                    {
                        "key": "agreements",
                        "title": {"zh-TW": "締約", "en": "Agreements"},
                        "section": "國際事務科",
                        "budget": "0",
                        "kpis": [
                            {
                                "key": "signed",
                                "name": {"zh-TW": "締結協議", "en": "Agreements signed"},
                                "target": 2,
                                "computed": {"measure": "agreements"},
                            }
                        ],
                    },
                ],
            },
            {
                "key": "visibility",
                "title": {"zh-TW": "提升國際能見度", "en": "Visibility"},
                "work_items": [
                    {
                        "key": "leaflets",
                        "title": {"zh-TW": "宣傳摺頁", "en": "Leaflets"},
                        "section": "國際事務科",
                        "budget": "2000",
                        "kpis": [
                            {
                                "key": "attending",
                                "name": {"zh-TW": "出席外賓團", "en": "Partners attending"},
                                "target": 3,
                                "computed": {
                                    "measure": "invitation-answers",
                                    "filters": {
                                        "answer": ["accepted-in-person", "accepted-by-video"]
                                    },
                                },
                            },
                            {
                                "key": "editions",
                                "name": {"zh-TW": "刊物版次", "en": "Editions published"},
                                "target": 4,
                            },
                        ],
                    }
                ],
            },
        ],
    }


def seed_plan() -> dict[str, Any]:
    demo = Path(twinning.demo.__file__).parent / "plans.json"
    return copy.deepcopy(json.loads(demo.read_text(encoding="utf-8"))["plan"])
