"""Guided flows end to end through the fake Bot API, each in two languages (one right to left).

Asylum step by step, the service finder (city by text, by button, shared location, paging), the
detention and work walkthroughs, and the emergency flow, with the real engine and the sample directory.
"""

from collections.abc import AsyncIterator, Callable

import pytest

from bot.settings import Settings
from tests.fake_telegram import FakeTelegram, Sent, bot_on_fake_telegram

pytestmark = pytest.mark.engine


@pytest.fixture
async def telegram(engine_url: str, make_settings: Callable[..., Settings]) -> AsyncIterator[FakeTelegram]:
    async with bot_on_fake_telegram(make_settings, SERVICE_SAMPLES="true", COUNTRY="TR") as fake:
        yield fake


def data_of(reply: Sent, prefix: str) -> list[str]:
    return [data for _, data in reply.buttons if data.startswith(prefix)]


async def choose_language(telegram: FakeTelegram, user: int, language: str) -> None:
    await telegram.say(telegram.callback_update(user, f"l:{language}"), expect=2)


@pytest.mark.parametrize(("user", "language", "step_word"), [(201, "fr", "Étape"), (202, "ar", "الخطوة")])
async def test_asylum_step_by_step_goes_forward_and_back_with_read_more(
        telegram: FakeTelegram, user: int, language: str, step_word: str) -> None:
    await choose_language(telegram, user, language)
    [area] = await telegram.say(telegram.callback_update(user, "a:asylum"))
    assert data_of(area, "s:") == ["s:asylum_steps:0"]  # offered first in the asylum menu

    [first] = await telegram.say(telegram.callback_update(user, "s:asylum_steps:0"))
    assert step_word in first.text and "1" in first.text and "5" in first.text
    assert data_of(first, "s:") == ["s:asylum_steps:1"]  # no Back on the first step
    assert ("t:asylum_registration" in data_of(first, "t:")) and "h" in [d for _, d in first.buttons]

    seen = [first.text]
    for index in range(1, 5):
        [step] = await telegram.say(telegram.callback_update(user, f"s:asylum_steps:{index}"))
        seen.append(step.text)
        expected = [f"s:asylum_steps:{index - 1}"] + ([f"s:asylum_steps:{index + 1}"] if index < 4 else [])
        assert data_of(step, "s:") == expected
    assert len(set(seen)) == 5  # five different steps, registration to appeal
    [back] = await telegram.say(telegram.callback_update(user, "s:asylum_steps:3"))
    assert back.text == seen[3]

    [more] = await telegram.say(telegram.callback_update(user, "t:asylum_appeal"))
    assert len(more.text) > len(seen[4])  # the full answer behind the short step
    if language == "ar":
        assert "\u2066" in first.text  # left-to-right fragments (step numbers) isolated in Arabic


@pytest.mark.parametrize(("user", "language", "city", "in_city"), [
    (211, "en", "Istanbul", "in Istanbul"),
    (212, "ar", "إسطنبول", "Istanbul"),
])
async def test_the_service_finder_lists_services_of_a_city_a_few_at_a_time(
        telegram: FakeTelegram, user: int, language: str, city: str, in_city: str) -> None:
    await choose_language(telegram, user, language)
    [categories] = await telegram.say(telegram.callback_update(user, "g"))
    assert len(data_of(categories, "g:")) == 11

    [ask] = await telegram.say(telegram.callback_update(user, "g:basic_needs"))
    assert ask.keyboard[0].get("request_location") is True
    assert {"Istanbul", "Gaziantep"} <= {button["text"] for button in ask.keyboard}

    [page_one] = await telegram.say(telegram.message_update(user, city))
    assert in_city in page_one.text
    assert page_one.text.count("⚠") == 2  # both Istanbul samples, each marked as not real
    assert "https://example.org/sample-istanbul-basic-needs-1" in page_one.text
    assert "https://help.unhcr.org/turkey/" in page_one.text  # then the country-wide page
    assert "🕘" in page_one.text and "🗣" in page_one.text and "✔" in page_one.text
    assert data_of(page_one, "g:basic_needs:") == []  # three results: no more pages

    [legal] = await telegram.say(telegram.callback_update(user, "g:legal:c.istanbul:0"))
    assert "Gaziantep" not in legal.text


@pytest.mark.parametrize(("user", "language"), [(221, "fa"), (222, "so")])
async def test_a_shared_location_lists_the_closest_services_with_distances_and_more(
        telegram: FakeTelegram, user: int, language: str) -> None:
    await choose_language(telegram, user, language)
    [ask] = await telegram.say(telegram.callback_update(user, "g:health"))
    assert ask.keyboard
    here = {"latitude": 37.0662, "longitude": 37.3833}  # central Gaziantep
    [page_one] = await telegram.say(telegram.message_update(user, location=here))
    assert "📍" in page_one.text
    assert page_one.text.index("(Gaziantep, sample)") < page_one.text.index("(Istanbul, sample)")  # closest first
    [more] = data_of(page_one, "g:health:@")
    assert more == "g:health:@37.07,37.38:1"
    [page_two] = await telegram.say(telegram.callback_update(user, more))
    page_two_text = page_two.text.replace("\u2066", "").replace("\u2069", "")
    assert "4." in page_two_text and "https://help.unhcr.org/turkey/" in page_two_text  # then country-wide

    # A location shared without a category first: choose one, and the place is kept in the buttons.
    [choose] = await telegram.say(telegram.message_update(user, location=here))
    assert "g:legal:@37.07,37.38:0" in data_of(choose, "g:")


async def test_an_unknown_city_still_gets_the_country_wide_services(telegram: FakeTelegram) -> None:
    await telegram.say(telegram.callback_update(231, "g:legal", language_code="en"))
    [reply] = await telegram.say(telegram.message_update(231, "Ankara", language_code="en"))
    assert "do not know services in this city" in reply.text
    assert "https://help.unhcr.org/turkey/" in reply.text and "⚠" not in reply.text


async def test_a_city_alone_offers_the_categories_there(telegram: FakeTelegram) -> None:
    [reply] = await telegram.say(telegram.message_update(232, "Gaziantep", language_code="en"))
    assert "g:women:c.gaziantep:0" in data_of(reply, "g:")


async def test_samples_are_never_shown_where_the_deployment_does_not_allow_them(
        engine_url: str, make_settings: Callable[..., Settings]) -> None:
    async with bot_on_fake_telegram(make_settings, COUNTRY="TR") as telegram:  # Telegram: samples off by default
        [reply] = await telegram.say(telegram.callback_update(233, "g:legal:c.istanbul:0", language_code="en"))
        assert "example.org" not in reply.text and "help.unhcr.org" in reply.text


@pytest.mark.parametrize(("user", "language", "path", "expected"), [
    (241, "en", ["me", "no"], "I want to seek asylum"),
    (242, "fa", ["me", "yes", "yes"], None),
])
async def test_the_detention_walkthrough_leads_to_the_answer_that_matters_now(
        telegram: FakeTelegram, user: int, language: str, path: list[str], expected: str | None) -> None:
    await choose_language(telegram, user, language)
    [area] = await telegram.say(telegram.callback_update(user, "a:rights"))
    assert "w:detention:who" in data_of(area, "w:") and "w:work:problem" in data_of(area, "w:")
    [question] = await telegram.say(telegram.callback_update(user, "w:detention:who"))
    texts = [question.text]
    reply = question
    for option in path:
        options = data_of(reply, "w:detention:")
        assert len(options) >= 2
        index = {"me": 0, "yes": 0, "no": 1}[option]
        [reply] = await telegram.say(telegram.callback_update(user, options[index]))
        texts.append(reply.text)
    assert "w:detention:who" in data_of(reply, "w:")  # the outcome offers to start again
    assert data_of(reply, "t:")  # and the topics that go deeper
    assert len(set(texts)) == len(texts)
    if expected:
        assert expected in reply.text
    if language == "fa":
        assert "امضا" in reply.text  # "do not sign"


@pytest.mark.parametrize(("user", "language", "word"), [(251, "so", "shaqo"), (252, "ur", "کام")])
async def test_the_work_walkthrough_asks_about_the_permit_before_advising_on_unpaid_wages(
        telegram: FakeTelegram, user: int, language: str, word: str) -> None:
    await choose_language(telegram, user, language)
    [question] = await telegram.say(telegram.callback_update(user, "w:work:problem"))
    assert data_of(question, "w:work:") == ["w:work:permit", "w:work:out_forced_labour", "w:work:out_injured",
                                            "w:work:out_abused"]
    [permit] = await telegram.say(telegram.callback_update(user, "w:work:permit"))
    [outcome] = await telegram.say(telegram.callback_update(user, "w:work:out_unpaid_no_permit"))
    assert word in question.text.casefold() or word in permit.text.casefold() or word in outcome.text.casefold()
    assert "t:rights_work" in data_of(outcome, "t:")


@pytest.mark.parametrize(("user", "language", "message"), [
    (261, "fr", "aidez-moi, je suis en danger, quelqu'un veut me tuer"),
    (262, "ar", "ساعدوني أنا في خطر الآن"),
])
async def test_emergency_comes_first_with_the_country_numbers_and_an_urgent_handoff(
        telegram: FakeTelegram, user: int, language: str, message: str) -> None:
    replies = await telegram.say(telegram.message_update(user, message), expect=2)
    first = replies[0]
    assert "112" in first.text  # Türkiye's emergency number, before anything else
    delete_tip = {"fr": "effacez", "ar": "احذف"}[language]
    assert delete_tip in first.text.casefold()
    queued = [r for r in replies[1:] if "o:leave" in [d for _, d in r.buttons]]
    assert queued, "the urgent handoff acknowledgement follows"


async def test_forged_flow_buttons_get_a_clear_answer(telegram: FakeTelegram) -> None:
    for forged in ("s:asylum_steps:9", "w:detention:nowhere", "g:legal:c.atlantis:0", "s:nope:0"):
        [reply] = await telegram.say(telegram.callback_update(271, forged, language_code="en"))
        assert "no longer valid" in reply.text
