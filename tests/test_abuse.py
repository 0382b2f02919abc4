"""Flood limits, bans and staff commands refused to everybody else, without revealing anything.

The limiter and the bans run against real SQLite and PostgreSQL with a movable clock; the
end-to-end tests run the real bot on the fake Bot API and the real engine.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable

import pytest
from sqlalchemy import create_engine as create_sync_engine
from sqlalchemy import func, select, text

from bot import limits
from bot.abuse import Gatekeeper, Verdict
from bot.bans import Bans
from bot.db.models import Ban, FloodBucket
from bot.db.session import create_engine, session_factory
from bot.handlers.volunteers import COORDINATOR_COMMANDS, VOLUNTEER_COMMANDS
from bot.handoff.models import Handoff
from bot.limits import FloodLimiter
from bot.services import Services
from bot.settings import FloodPolicy, Settings
from tests.fake_telegram import FakeTelegram, Sent
from tests.handoff_helpers import Clock, RecordingSender, add_volunteer, build_handoff, drain, requester
from tests.running_bot import register, running_bot

POLICY = FloodPolicy(per_minute=20, burst=10, handoff_per_minute=60)


@pytest.fixture
def clock() -> Clock:
    return Clock()



@pytest.fixture
def limiter(db_services: Services, clock: Clock) -> FloodLimiter:
    return FloodLimiter(db_services.sessions, POLICY, clock)


async def admissions(limiter: FloodLimiter, count: int, scope: str = "assistant") -> list[str]:
    return [await limiter.admit("user-1", scope) for _ in range(count)]  # type: ignore[arg-type]


# --- the flood limit --------------------------------------------------------------------------


async def test_a_minute_of_messages_and_a_burst_pass_then_one_notice_and_silence(limiter: FloodLimiter,
                                                                                  clock: Clock) -> None:
    assert await admissions(limiter, 30) == ["pass"] * 30  # 20 a minute, 10 more at once
    assert await admissions(limiter, 25) == ["warn"] + ["drop"] * 24  # one notice, not one per message
    clock.advance(seconds=3)  # a minute refills 20: one message every 3 seconds
    assert await admissions(limiter, 2) == ["pass", "drop"]
    clock.advance(seconds=60)  # a new minute: the next notice may come, once
    assert await admissions(limiter, 22) == ["pass"] * 20 + ["warn", "drop"]


async def test_a_steady_writer_gets_the_rate_per_minute_on_average(limiter: FloodLimiter, clock: Clock) -> None:
    passed = 0
    for _ in range(600):  # one message a second for ten minutes
        passed += await limiter.admit("user-1") == "pass"
        clock.advance(seconds=1)
    assert 30 + 20 * 10 - 2 <= passed <= 30 + 20 * 10  # the burst once, then 20 a minute


async def test_messages_to_a_volunteer_have_a_higher_limit_of_their_own(limiter: FloodLimiter) -> None:
    assert await admissions(limiter, 31) == ["pass"] * 30 + ["warn"]
    assert await admissions(limiter, 71, "handoff") == ["pass"] * 70 + ["warn"]


async def test_buckets_are_shared_by_processes_on_one_database(database_url: str, clock: Clock,
                                                               db_services: Services) -> None:
    """Two bot processes (two connection pools) under one limit: exactly the allowance passes."""
    other = create_engine(database_url)
    try:
        processes = [FloodLimiter(db_services.sessions, POLICY, clock), FloodLimiter(session_factory(other), POLICY,
                                                                                     clock)]


        async def one_process(limiter: FloodLimiter) -> list[str]:  # one update at a time per chat
            return [await limiter.admit("user-1") for _ in range(25)]

        first, second = await asyncio.gather(*(one_process(process) for process in processes))
    finally:
        await other.dispose()
    results = first + second
    assert results.count("pass") == 30
    assert results.count("warn") == 1 and results.count("drop") == 19


async def test_idle_buckets_are_deleted_and_forget_deletes_them(limiter: FloodLimiter, clock: Clock,
                                                                db_services: Services) -> None:
    await limiter.admit("user-1")
    clock.advance(hours=2)
    await limiter.admit("user-2")  # the first admission of the hour purges idle buckets
    async with db_services.sessions.begin() as session:
        assert (await session.scalars(select(FloodBucket.user_key))).all() == ["user-2"]
        await limits.forget_user(session, "user-2")
    async with db_services.sessions() as session:
        assert await session.scalar(select(func.count()).select_from(FloodBucket)) == 0


async def test_a_rate_of_zero_turns_the_limit_off(make_settings: Callable[..., Settings],
                                                  services: Services) -> None:
    assert make_settings().flood == POLICY  # the defaults
    limiter = FloodLimiter(services.sessions, make_settings(FLOOD_MESSAGES_PER_MINUTE="0").flood)
    assert {await limiter.admit("user-1") for _ in range(100)} == {"pass"}


# --- bans -------------------------------------------------------------------------------------


async def test_a_ban_is_kept_by_pseudonym_and_answered_once_except_emergencies(db_services: Services,
                                                                                clock: Clock) -> None:
    handoff = build_handoff(db_services, clock)
    coordinator = await add_volunteer(handoff, 1, ["ar"], role="coordinator", name="Nour")
    volunteer = await add_volunteer(handoff, 2, ["ar"], name="Lina")
    case = await handoff.queue.request(requester(7), "asked")
    await handoff.queue.take(volunteer.chat_id, case.id)
    bans = Bans(handoff.desk)
    gate = Gatekeeper(FloodLimiter(db_services.sessions, POLICY, clock), bans)

    assert await bans.ban(volunteer.chat_id, case.label, "abuse") == ("refused", None)  # coordinators only
    assert await bans.listed(volunteer.chat_id) is None
    assert await bans.ban(coordinator.chat_id, "ZZZZ", None) == ("not_found", None)
    outcome, number = await bans.ban(coordinator.chat_id, case.label.lower(), "insults volunteers")
    assert outcome == "banned" and number is not None
    assert await bans.ban(coordinator.chat_id, case.label, None) == ("already", number)

    async with db_services.sessions() as session:
        [ban] = (await session.scalars(select(Ban))).all()
        ended = await session.get(Handoff, case.id)
    assert ban.user_key == "user-key-7" and str(100_007) not in repr(vars(ban))  # pseudonym, no Telegram id
    assert ended is not None and (ended.status, ended.closed_by) == ("closed", "coordinator")
    sender = RecordingSender()
    await drain(handoff, sender)
    assert any(f"Case {case.label} was closed by a coordinator." == t for t in sender.texts_to(volunteer.chat_id))
    assert not any("ban" in t.lower() for t in sender.texts_to(volunteer.chat_id))  # volunteers are not told why

    user, chat = "user-key-7", 100_007
    assert await gate.screen(user, chat, emergency=False) == Verdict("notice", "banned")
    assert await gate.screen(user, chat, emergency=False) == Verdict("ignore")
    assert await gate.screen(user, chat, emergency=True) == Verdict("emergency")
    assert await gate.screen(user, chat, emergency=False, forget=True) == Verdict("pass")
    assert await gate.screen("user-key-8", 100_008, emergency=False) == Verdict("pass")
    assert await gate.screen("user-key-7", volunteer.chat_id, emergency=False) == Verdict("pass")  # staff

    [line] = await bans.listed(coordinator.chat_id) or []
    assert (line.number, line.label, line.by, line.reason) == (number, case.label, "Nour", "insults volunteers")
    assert await bans.unban(volunteer.chat_id, str(number)) is None
    assert await bans.unban(coordinator.chat_id, f"#{number}") == number
    assert await gate.screen(user, chat, emergency=False) == Verdict("pass")
    assert (await bans.ban(coordinator.chat_id, case.label, None))[0] == "banned"
    assert await bans.unban(coordinator.chat_id, case.label) is not None  # by case code too
    assert await bans.listed(coordinator.chat_id) == []


async def test_emergencies_are_never_limited(db_services: Services, clock: Clock) -> None:
    handoff = build_handoff(db_services, clock)
    gate = Gatekeeper(FloodLimiter(db_services.sessions, POLICY, clock), Bans(handoff.desk))
    verdicts = [await gate.screen("user-key-1", 1, emergency=False) for _ in range(32)]
    assert verdicts[-2:] == [Verdict("notice", "flood"), Verdict("ignore")]
    assert [await gate.screen("user-key-1", 1, emergency=True) for _ in range(5)] == [Verdict("pass")] * 5


# --- end to end ----------------------------------------------------------------------------------

USER, OTHER, VOLUNTEER, COORDINATOR = 601, 602, 910, 911
SLOW_DOWN = "You are sending messages very fast. Please wait a minute, then write again."


def user_events(engine_env: dict[str, str], engine_id: str) -> int:
    """How many of the user's messages the engine received (its tracker store)."""
    engine = create_sync_engine(engine_env["ENGINE_DATABASE_URL"])
    try:
        with engine.connect() as connection:
            return int(connection.execute(text(
                "SELECT COUNT(*) FROM events WHERE sender_id = :sender AND type_name = 'user'"),
                {"sender": engine_id}).scalar_one())
    finally:
        engine.dispose()


async def quiet(fake: FakeTelegram, chat: int, seconds: float = 1.5) -> list[Sent]:
    """What the bot sends to `chat` in the next `seconds` (nothing, when it ignores the chat on purpose)."""
    before = len(fake.messages_to(chat))
    await asyncio.sleep(seconds)
    return fake.messages_to(chat)[before:]


@pytest.mark.engine
async def test_a_flooding_user_is_told_once_and_the_excess_never_reaches_the_engine(
        engine_url: str, engine_env: dict[str, str], make_settings: Callable[..., Settings], database_url: str) -> None:
    async with running_bot(make_settings, engine_url, DATABASE_URL=database_url, FLOOD_MESSAGES_PER_MINUTE="3",
                           FLOOD_BURST="2") as (fake, bot):
        engine_id = bot.services.user(USER).engine_id
        before = user_events(engine_env, engine_id)  # the engine (and its tracker) serve every test
        for _ in range(9):  # 5 pass (3 a minute + 2 at once), then the notice once, then silence
            await fake.push(fake.message_update(USER, "How do I apply for asylum?", language_code="en"))
        await fake.wait_until(lambda: any(m.text == SLOW_DOWN for m in fake.messages_to(USER)))
        await quiet(fake, USER)
        assert [m.text for m in fake.messages_to(USER)].count(SLOW_DOWN) == 1
        assert user_events(engine_env, engine_id) - before == 5
        # An emergency is never held back, not even in the middle of a flood.
        [answer, *_] = await fake.say(fake.message_update(USER, "emergency", language_code="en"))
        assert "112" in answer.text
        # Somebody else is not affected.
        [reply, *_] = await fake.say(fake.message_update(OTHER, "How do I apply for asylum?", language_code="en"))
        assert reply.text != SLOW_DOWN


@pytest.mark.engine
async def test_a_flood_during_a_handoff_is_relayed_up_to_its_limit_and_the_user_is_told(
        engine_url: str, make_settings: Callable[..., Settings]) -> None:
    async with running_bot(make_settings, engine_url, FLOOD_HANDOFF_MESSAGES_PER_MINUTE="4",
                           FLOOD_BURST="2") as (fake, bot):
        await register(fake, bot, VOLUNTEER, "Lina")
        await fake.push(fake.message_update(USER, "/human", language_code="en"))
        await fake.wait_until(lambda: any("o:take:" in str(m.buttons) for m in fake.messages_to(VOLUNTEER)))
        take = next(d for m in fake.messages_to(VOLUNTEER) for _, d in m.buttons if d.startswith("o:take:"))
        await fake.push(fake.callback_update(VOLUNTEER, take, language_code="en"))
        await fake.wait_until(lambda: any("Lina" in m.text for m in fake.messages_to(USER)))
        for number in range(9):
            await fake.push(fake.message_update(USER, f"message {number}", language_code="en"))
        await fake.wait_until(lambda: any("do not reach the volunteer" in m.text for m in fake.messages_to(USER)))
        await quiet(fake, VOLUNTEER)
        relayed = [m.text.split("] ", 1)[1] for m in fake.messages_to(VOLUNTEER) if m.text.startswith("[")]
        assert relayed == [f"message {number}" for number in range(6)]  # 4 a minute + 2 at once
        assert sum("do not reach the volunteer" in m.text for m in fake.messages_to(USER)) == 1


@pytest.mark.engine
async def test_asking_for_a_person_again_and_again_makes_one_case_and_a_clear_answer(
        engine_url: str, make_settings: Callable[..., Settings]) -> None:
    async with running_bot(make_settings, engine_url) as (fake, bot):
        for _ in range(5):
            await fake.push(fake.message_update(USER, "/human", language_code="en"))
        replies = await fake.wait_for_messages(USER, 5)
        await quiet(fake, USER, 1.0)
        async with bot.services.sessions() as session:
            cases = (await session.scalars(select(Handoff).where(
                Handoff.user_key == bot.services.user(USER).key))).all()
        assert len(cases) == 1
        texts = [m.text for m in fake.messages_to(USER)]
        assert len(texts) == 5 and "I passed your request to our volunteers" in replies[0].text
        assert all("You are already waiting for a person. Your place in the queue: 1." in t for t in texts[1:])


@pytest.mark.engine
async def test_a_coordinator_bans_and_unbans_by_case_code(engine_url: str, make_settings: Callable[..., Settings],
                                                          database_url: str) -> None:
    async with running_bot(make_settings, engine_url, DATABASE_URL=database_url) as (fake, bot):
        await register(fake, bot, COORDINATOR, "Nour", role="coordinator")
        await register(fake, bot, VOLUNTEER, "Lina")
        await fake.push(fake.message_update(USER, "/human", language_code="en"))
        await fake.wait_until(lambda: any("o:take:" in str(m.buttons) for m in fake.messages_to(VOLUNTEER)))
        case = await bot.services.handoff.relay.open_case(bot.services.user(USER).key)
        assert case is not None

        [refused] = await fake.say(fake.message_update(VOLUNTEER, f"/ban {case.label}", language_code="en"))
        assert refused.text.startswith("I do not know the command /ban.")
        [done] = await fake.say(fake.message_update(COORDINATOR, f"/ban {case.label} insults", language_code="en"))
        assert done.text.startswith(f"Ban #1: the person of case {case.label} is banned.")
        [listed] = await fake.say(fake.message_update(COORDINATOR, "/bans", language_code="en"))
        assert f"#1 · case {case.label}" in listed.text and "by Nour · insults" in listed.text
        [refused] = await fake.say(fake.message_update(VOLUNTEER, "/bans", language_code="en"))
        assert refused.text.startswith("I do not know the command /bans.")  # bans do not leak to volunteers

        [notice] = await fake.say(fake.message_update(USER, "How do I apply for asylum?", language_code="en"))
        assert notice.text.startswith("This assistant can no longer answer your messages.") and "112" in notice.text
        await fake.push(fake.message_update(USER, "How do I apply for asylum?", language_code="en"))
        await fake.push(fake.message_update(USER, "/human", language_code="en"))
        assert await quiet(fake, USER) == []  # ignored on purpose, and no new case
        assert await bot.services.handoff.relay.open_case(bot.services.user(USER).key) is None
        [answer, *_] = await fake.say(fake.message_update(USER, "emergency", language_code="en"))
        assert "112" in answer.text  # safety first

        [lifted] = await fake.say(fake.message_update(COORDINATOR, "/unban 1", language_code="en"))
        assert lifted.text == "Ban #1 lifted. The person can write again."
        [reply, *_] = await fake.say(fake.message_update(USER, "How do I apply for asylum?", language_code="en"))
        assert "This assistant can no longer" not in reply.text


def made_up(reply: Sent, command: str) -> tuple[str, list[tuple[str, str]]]:
    """The reply as it would read for /xyzzy: only the echoed command name may differ."""
    return reply.text.replace(command, "/xyzzy", 1), reply.buttons


@pytest.mark.engine
async def test_staff_commands_are_refused_exactly_like_an_unknown_command(
        engine_url: str, make_settings: Callable[..., Settings]) -> None:
    async with running_bot(make_settings, engine_url, FLOOD_MESSAGES_PER_MINUTE="1000") as (fake, bot):
        await register(fake, bot, VOLUNTEER, "Lina")
        await fake.push(fake.message_update(USER, "/human", language_code="en"))  # there is a case to name
        await fake.wait_until(lambda: len(fake.messages_to(USER)) >= 1)
        label = (await bot.services.handoff.relay.open_case(bot.services.user(USER).key)).label  # type: ignore[union-attr]

        async def refusal(chat: int, command: str) -> tuple[str, list[tuple[str, str]]]:
            replies = await fake.say(fake.message_update(chat, f"{command} {label}", language_code="en"))
            assert len(replies) == 1, command
            return made_up(replies[0], command)

        for chat, commands in ((OTHER, sorted(set(VOLUNTEER_COMMANDS) - {"volunteer"})),
                               (VOLUNTEER, sorted(COORDINATOR_COMMANDS))):
            unknown = await refusal(chat, "/xyzzy")
            assert unknown[0].startswith("I do not know the command /xyzzy.")
            for command in commands:
                assert await refusal(chat, f"/{command}") == unknown, command
        assert set(VOLUNTEER_COMMANDS) >= COORDINATOR_COMMANDS
        assert {"ban", "unban", "bans"} <= COORDINATOR_COMMANDS
        async with bot.services.sessions() as session:
            assert await session.scalar(select(func.count()).select_from(Ban)) == 0
