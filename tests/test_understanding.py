"""Intent accuracy on the held-out split (never trained on), per language, with the real model."""

import pytest
import yaml

from bot.engine.client import EngineClient
from bot.settings import ROOT

pytestmark = pytest.mark.engine

# Floors, not goals: a change that drops below them has broken understanding. See README for numbers.
FLOORS = {"en": 0.80, "ar": 0.60, "fr": 0.88, "fa": 0.82, "ur": 0.78, "so": 0.83}


@pytest.mark.parametrize("language", sorted(FLOORS))
async def test_held_out_accuracy_stays_above_its_floor(engine_url: str, language: str) -> None:
    from tests.conftest import ENGINE_TOKEN

    client = EngineClient(engine_url, ENGINE_TOKEN, 10.0)
    data = yaml.safe_load((ROOT / "tests" / "nlu_heldout" / f"{language}.yml").read_text())["nlu"]
    total = correct = 0
    for item in data:
        for line in item["examples"].splitlines():
            text = line.strip().removeprefix("- ").strip()
            if text:
                total += 1
                correct += (await client.parse(text)).best_topic()[0] == item["intent"]
    await client.close()
    assert total >= 200
    assert correct / total >= FLOORS[language], f"{language}: {correct}/{total}"
