"""Button data round-trips, and forged data is refused."""

import pytest

from bot.callbacks import ButtonAction, decode, encode

TOPICS = frozenset({"rights_detention", "asylum_registration"})
LANGUAGES = ("en", "ar")


@pytest.mark.parametrize("action", [
    ButtonAction("topic", "rights_detention"), ButtonAction("area", "asylum"), ButtonAction("menu"),
    ButtonAction("languages"), ButtonAction("language", "ar"), ButtonAction("human"),
    ButtonAction("forget", "yes"),
])
def test_every_button_the_bot_sends_decodes_to_itself(action: ButtonAction) -> None:
    data = encode(action)
    assert len(data.encode()) <= 64
    assert decode(data, topics=TOPICS, languages=LANGUAGES) == action


@pytest.mark.parametrize("forged", [
    None, "", "t:", "t:drop_tables", "l:es", "a:secret", "f:maybe", "x" * 65, "m:extra", "h:1", "/start",
    "t:rights_detention\x00", "🙂", "\ud83d:x", "t:\udc00", "o:take:2147483648", "o:rate:999999999999:1",
])
def test_forged_or_stale_data_decodes_to_nothing(forged: str | None) -> None:
    assert decode(forged, topics=TOPICS, languages=LANGUAGES) is None
