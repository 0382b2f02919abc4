"""A coordinator's /reload: the running bot serves edited answers at once, and never broken files."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from pathlib import Path

import pytest

from bot.settings import Settings
from tests.fake_telegram import FakeTelegram
from tests.running_bot import RunningBot, register, running_bot

COORDINATOR, LINA, AMAL = 900, 901, 501
ORIGINAL = "Ask for an interpreter."
EDITED = "Ask for an interpreter, always, and write down the name of the officer."


pytestmark = pytest.mark.engine  # the real bot with the real engine


@pytest.fixture
async def world(make_settings: Callable[..., Settings], engine_url: str, database_url: str, repo: Path
                ) -> AsyncIterator[tuple[FakeTelegram, RunningBot]]:
    async with running_bot(make_settings, engine_url, DATABASE_URL=database_url,
                           ASSISTANT_ROOT=str(repo)) as (fake, bot):
        await register(fake, bot, COORDINATOR, "Nour", role="coordinator")
        yield fake, bot


def edit(path: Path, old: str, new: str) -> None:
    text = path.read_text(encoding="utf-8")
    assert old in text, f"{old!r} not in {path}"
    path.write_text(text.replace(old, new, 1), encoding="utf-8")


async def detention_answer(fake: FakeTelegram) -> str:
    [answer] = await fake.say(fake.callback_update(AMAL, "t:rights_detention", language_code="en"))
    return answer.text


async def reload(fake: FakeTelegram) -> str:
    [reply] = await fake.say(fake.message_update(COORDINATOR, "/reload", language_code="en"))
    return reply.text


async def test_an_edited_answer_is_served_after_reload(world: tuple[FakeTelegram, RunningBot], repo: Path) -> None:
    fake, _ = world
    assert ORIGINAL in await detention_answer(fake)
    edit(repo / "knowledge_base" / "en" / "rights.yml", ORIGINAL, EDITED)
    assert ORIGINAL in await detention_answer(fake)  # nothing changes before the reload

    assert await reload(fake) == "Content reloaded: 1 answer changed."
    assert EDITED in await detention_answer(fake)
    assert await reload(fake) == "Content reloaded: no change."


async def test_a_broken_file_is_refused_and_the_previous_answer_still_served(
        world: tuple[FakeTelegram, RunningBot], repo: Path) -> None:
    fake, _ = world
    path = repo / "knowledge_base" / "en" / "rights.yml"
    edit(path, ORIGINAL, EDITED)
    edit(path, "related: [", "related: [no_such_topic, ")

    head, *problems = (await reload(fake)).split("\n")
    assert head == "Not reloaded: the files have 1 error; still serving the previous content:"
    assert len(problems) == 1 and "en/rights.yml:" in problems[0] and "no_such_topic" in problems[0]
    answer = await detention_answer(fake)
    assert ORIGINAL in answer and EDITED not in answer


async def test_a_change_of_topics_or_examples_says_it_needs_training(
        world: tuple[FakeTelegram, RunningBot], repo: Path) -> None:
    fake, _ = world
    with (repo / "nlu" / "en" / "rights.yml").open("a", encoding="utf-8") as handle:
        handle.write("- intent: rights_detention\n  examples: |\n    - the police took my brother away\n")
    assert (await reload(fake)).split("\n") == [
        "Content reloaded: no change.",
        "Topics or training examples changed as well: they take effect only after make train and a restart."]


async def test_to_anybody_but_a_coordinator_reload_does_not_exist(world: tuple[FakeTelegram, RunningBot]) -> None:
    fake, bot = world
    await register(fake, bot, LINA, "Lina")
    for chat in (AMAL, LINA):
        [reply] = await fake.say(fake.message_update(chat, "/reload", language_code="en"))
        assert reply.text.startswith("I do not know the command /reload.")
