"""Learning from volunteers: /good stores a reply for the editors' review list, without the person.

End to end through the fake Bot API (a volunteer takes a case and answers; /good marks the answer),
then the editors' side: /suggestions on Telegram and `python -m bot suggestions` on a real database.
"""

from __future__ import annotations

import asyncio
import io
import re
from collections.abc import AsyncIterator, Callable
from datetime import UTC, datetime
from pathlib import Path

import pytest
import yaml
from sqlalchemy import select

from bot.db.session import create_engine, create_schema, session_factory
from bot.editors.suggestions import Request, run_suggestions
from bot.handoff.models import GoodAnswer, OutboxMessage
from bot.handoff.relay import has_contact_details, mask_contact_details
from bot.settings import Settings
from tests.fake_telegram import FakeTelegram
from tests.running_bot import RunningBot, register, reply_to, running_bot

COORDINATOR, LINA, SAMI = 900, 901, 902
AMAL, CLAIRE = 501, 502
QUESTION = "أين أجد محاميا مجانيا؟ رقمي ٠٥٣٢١٢٣٤٥٦٧"
ANSWER = ("Ask the legal aid office of the bar association: write to help@legal.example.org or call "
          "+90 212 555 12 34. They answer in Arabic.")


@pytest.fixture
async def world(make_settings: Callable[..., Settings], engine_url: str, database_url: str
                ) -> AsyncIterator[tuple[FakeTelegram, RunningBot]]:
    async with running_bot(make_settings, engine_url, DATABASE_URL=database_url) as (fake, bot):
        await register(fake, bot, COORDINATOR, "Nour", role="coordinator")
        await register(fake, bot, LINA, "Lina", languages=("ar",))
        yield fake, bot


async def take_case(fake: FakeTelegram, user: int, volunteer: int) -> str:
    """`user` asks for a person and `volunteer` takes the case; its code."""
    def offers() -> list[str]:
        return [data for m in fake.messages_to(volunteer) for _, data in m.buttons if data.startswith("o:take:")]

    def cards() -> list[str]:
        return [m.text for m in fake.messages_to(volunteer) if "You hold case" in m.text]

    offered, held = len(offers()), len(cards())
    await fake.push(fake.message_update(user, "/human", language_code="ar"))
    await fake.wait_until(lambda: len(offers()) > offered)
    await fake.push(fake.callback_update(volunteer, offers()[-1], language_code="en"))
    await fake.wait_until(lambda: len(cards()) > held)
    return re.search(r"case (\w{4})", cards()[-1]).group(1)  # type: ignore[union-attr]


async def user_writes(fake: FakeTelegram, user: int, text: str, volunteer: int, label: str) -> None:
    await fake.push(fake.message_update(user, text, language_code="ar"))
    await fake.wait_until(lambda: any(m.text == f"[{label}] {text}" for m in fake.messages_to(volunteer)))


async def volunteer_writes(fake: FakeTelegram, volunteer: int, text: str, user: int) -> int:
    """The volunteer's message, once the person has it (or a coordinator has to allow it); its id."""
    def held() -> int:
        return sum(m.text.startswith("Not sent to case") for m in fake.messages_to(volunteer))

    before = held()
    update = fake.message_update(volunteer, text, language_code="en")
    await fake.push(update)
    await fake.wait_until(lambda: any(m.text.endswith(text) for m in fake.messages_to(user)) or held() > before)
    return int(update["message"]["message_id"])


async def good(fake: FakeTelegram, volunteer: int, replying_to: int | None = None) -> str:
    content = {"reply_to_message": reply_to(volunteer, replying_to)} if replying_to is not None else {}
    [reply] = await fake.say(fake.message_update(volunteer, "/good", language_code="en", **content))
    return reply.text


async def stored(bot: RunningBot) -> list[GoodAnswer]:
    async with bot.services.sessions() as session:
        return list((await session.scalars(select(GoodAnswer).order_by(GoodAnswer.id))).all())


@pytest.mark.engine
async def test_a_reply_marked_good_is_kept_with_the_question_masked_and_without_the_person(
        world: tuple[FakeTelegram, RunningBot]) -> None:
    fake, bot = world
    label = await take_case(fake, AMAL, LINA)
    await user_writes(fake, AMAL, QUESTION, LINA, label)
    answer_id = await volunteer_writes(fake, LINA, ANSWER, AMAL)
    await volunteer_writes(fake, LINA, "Anything else?", AMAL)

    assert await good(fake, LINA, answer_id) == "Saved for the editors' review list. Thank you."
    assert await good(fake, LINA, answer_id) == "This reply is already in the editors' review list."

    [suggestion] = await stored(bot)
    assert (suggestion.language, suggestion.status) == ("ar", "new")
    assert suggestion.question == "أين أجد محاميا مجانيا؟ رقمي […]"
    assert suggestion.answer == ("Ask the legal aid office of the bar association: write to […] or call […]. They "
                                 "answer in Arabic.")
    # Nothing leads back to the person: no pseudonym, chat or case, in any column.
    assert set(GoodAnswer.__table__.columns.keys()) == {
        "id", "language", "topic", "question", "answer", "volunteer_id", "message_id", "status", "created_at",
        "handled_at", "handled_note"}
    values = " ".join(str(getattr(suggestion, column.key)) for column in GoodAnswer.__table__.columns)
    assert bot.services.user(AMAL).key not in values and str(AMAL) not in values and label not in values

    [count] = await fake.say(fake.message_update(COORDINATOR, "/suggestions", language_code="en"))
    assert count.text.startswith("1 new suggestion from volunteers waits for the editors.")
    assert "Question: أين أجد محاميا مجانيا؟ رقمي […]" in count.text and "write to […]" in count.text


@pytest.mark.engine
async def test_good_without_a_reply_marks_the_volunteers_latest_answer(
        world: tuple[FakeTelegram, RunningBot]) -> None:
    fake, bot = world
    label = await take_case(fake, AMAL, LINA)
    await user_writes(fake, AMAL, "Where do I register?", LINA, label)
    await volunteer_writes(fake, LINA, "Which city are you in?", AMAL)
    await user_writes(fake, AMAL, "Gaziantep", LINA, label)
    await user_writes(fake, AMAL, "Near the centre", LINA, label)
    await volunteer_writes(fake, LINA, "Go to the provincial migration office, Monday to Friday.", AMAL)

    assert await good(fake, LINA) == "Saved for the editors' review list. Thank you."
    [suggestion] = await stored(bot)
    assert suggestion.answer == "Go to the provincial migration office, Monday to Friday."
    assert suggestion.question == "Gaziantep\nNear the centre"  # the exchange it answers, not the earlier one


@pytest.mark.engine
async def test_only_a_text_the_volunteer_wrote_can_be_marked(world: tuple[FakeTelegram, RunningBot]) -> None:
    fake, bot = world
    assert (await good(fake, LINA)).startswith("Reply /good to a message you wrote to a person")
    await register(fake, bot, SAMI, "Sami", languages=("ar",))
    lina_label = await take_case(fake, AMAL, LINA)
    await user_writes(fake, AMAL, QUESTION, LINA, lina_label)
    await take_case(fake, CLAIRE, SAMI)
    sami_answer = await volunteer_writes(fake, SAMI, "Sami's own answer", CLAIRE)

    relayed_copy = None  # the copy of the person's message in Lina's chat, once Telegram has it
    for _ in range(50):
        async with bot.services.sessions() as session:
            relayed_copy = await session.scalar(select(OutboxMessage.sent_message_id).where(
                OutboxMessage.chat_id == LINA, OutboxMessage.purpose == "relay"))
        if relayed_copy is not None:
            break
        await asyncio.sleep(0.1)
    assert relayed_copy is not None
    refused = "Only a text you wrote to a person can be marked as a good answer."
    assert (await good(fake, LINA, relayed_copy)).startswith(refused)
    assert (await good(fake, LINA, sami_answer)).startswith(refused)
    assert await stored(bot) == []


@pytest.mark.engine
async def test_to_anybody_else_good_and_the_coordinator_commands_do_not_exist(
        world: tuple[FakeTelegram, RunningBot]) -> None:
    fake, _ = world
    for chat, command in ((AMAL, "/good"), (AMAL, "/suggestions"), (LINA, "/suggestions")):
        [reply] = await fake.say(fake.message_update(chat, command, language_code="en"))
        assert reply.text.startswith(f"I do not know the command {command}.")


def test_contact_details_are_masked_in_any_script() -> None:
    assert mask_contact_details("call +90 532 123 45 67, or ٠٥٣٢١٢٣٤٥٦٧.") == "call […], or […]."
    assert mask_contact_details("write to amina@example.org or @amina_helps") == "write to […] or […]"
    assert mask_contact_details("https://wa.me/905321234567 and t.me/amina") == "[…] and […]"
    kept = "Open https://help.unhcr.org/ on 21.11.2026 at 9:30; call 112 in an emergency."
    assert mask_contact_details(kept) == kept


@pytest.mark.parametrize("text", [
    "call me on +90 532 123 45 67", "رقمي ٠٥٣٢١٢٣٤٥٦٧", "write to amina@example.org", "my telegram is @amina_helps",
    "https://wa.me/905321234567", "the office opens at 9:30 on 21.11.2026", "call 112 in an emergency", ""])
def test_what_is_masked_is_what_the_relay_holds_back(text: str) -> None:
    assert (mask_contact_details(text) != text) is has_contact_details(text)


# --- the editors' list on the command line ----------------------------------------------------------


@pytest.fixture
async def suggested(database_url: str) -> str:
    """A database with three suggestions, as volunteers leave them."""
    database = create_engine(database_url)
    await create_schema(database)
    when = datetime(2026, 11, 21, 12, 0, tzinfo=UTC)
    async with session_factory(database).begin() as session:
        session.add_all([
            GoodAnswer(language="ar", topic="rights_detention", question="اعتقلوا أخي، ماذا أفعل؟",
                       answer="اطلب محاميا ومترجما.\nلا توقع على ورقة لا تفهمها.", message_id=1, created_at=when),
            GoodAnswer(language="ar", topic="rights_detention", question="هل يحق لي محام؟\nأنا في المخفر",
                       answer="نعم.", message_id=2, created_at=when),
            GoodAnswer(language="fr", topic=None, question="Où dormir ce soir ?",
                       answer="Le centre d'accueil de jour peut vous orienter.", message_id=3, created_at=when),
        ])
    await database.dispose()
    return database_url


async def suggestions(database_url: str, request: Request) -> tuple[int, str]:
    out = io.StringIO()
    status = await run_suggestions(database_url, request, out, now=datetime(2026, 11, 22, 9, 0, tzinfo=UTC))
    return status, out.getvalue()


async def test_the_editors_list_shows_the_new_suggestions_and_marks_them_handled(suggested: str) -> None:
    status, listing = await suggestions(suggested, Request())
    assert status == 0
    assert "#1  2026-11-21  ar  rights_detention" in listing and "#3  2026-11-21  fr  (no topic)" in listing
    assert "  question: اعتقلوا أخي، ماذا أفعل؟" in listing
    assert "  answer: اطلب محاميا ومترجما.\n        لا توقع على ورقة لا تفهمها." in listing

    done = await suggestions(suggested, Request(done=1, note="added to rights.yml"))
    assert done == (0, "Suggestion #1 marked used.\n")
    assert await suggestions(suggested, Request(dismiss=3)) == (0, "Suggestion #3 marked dismissed.\n")
    assert await suggestions(suggested, Request(done=99)) == (1, "There is no suggestion #99.\n")
    _, listing = await suggestions(suggested, Request())
    assert "#1 " not in listing and "#2 " in listing and "#3 " not in listing
    _, everything = await suggestions(suggested, Request(handled_too=True))
    assert "#1  2026-11-21  ar  rights_detention  [used]  added to rights.yml" in everything
    assert "#3  2026-11-21  fr  (no topic)  [dismissed]" in everything


async def test_the_export_is_yaml_ready_to_paste_as_examples_and_answers(suggested: str, tmp_path: Path) -> None:
    target = tmp_path / "suggestions.yml"
    assert await suggestions(suggested, Request(export=target)) == (0, f"3 new suggestions written to {target}.\n")
    exported = target.read_text(encoding="utf-8")
    arabic, french = yaml.safe_load_all(exported)
    assert arabic["language"] == "ar"
    assert arabic["nlu"] == [{"intent": "rights_detention",
                              "examples": "- اعتقلوا أخي، ماذا أفعل؟\n- هل يحق لي محام؟ أنا في المخفر\n"}]
    assert arabic["answers"][0] == {"suggestion": 1, "topic": "rights_detention", "question": "اعتقلوا أخي، ماذا أفعل؟",
                                    "answer": "اطلب محاميا ومترجما.\nلا توقع على ورقة لا تفهمها.\n"}
    assert "- intent: rights_detention\n  examples: |\n    - اعتقلوا أخي، ماذا أفعل؟\n" in exported  # as in nlu/
    assert french["nlu"] == [] and french["answers"][0]["topic"] is None  # the editor chooses its intent
