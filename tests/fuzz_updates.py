"""Generated Telegram updates for the fuzz test: hostile, malformed and unusual input, deterministic by seed.

Every update is Bot API JSON as Telegram would deliver it (the fields are well formed; what they
contain is not): text in many scripts with control, bidi and zero-width characters, lone
surrogates (JSON allows them as escapes), 4096-character and longer messages, HTML and Markdown
injection, commands with odd arguments, forged, truncated, oversized and replayed button data,
and every kind of message and update python-telegram-bot knows.

Each `Step` names its class (e.g. "text.bidi", "callback.forged", "update.channel_post") and what
the bot must do with it: reply in the chat, answer the button press, relay it to the volunteer
holding the case, or ignore it on purpose. A `Case` is one chat's steps, run in order.
"""

from __future__ import annotations

import itertools
import random
import string
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any, Literal

import yaml

from bot.settings import ROOT

Expect = Literal["reply", "answer", "relay", "ignored"]
Json = dict[str, Any]

BOT_USERNAME = "refuge_test_bot"
DATE = 1_760_000_000

# --- characters ---------------------------------------------------------------------------------

ARABIC = "ابتثجحخدذرزسشصضطظعغفقكلمنهوي ءآأؤإئةى" + "ًٌٍَُِّْ" + "٠١٢٣٤٥٦٧٨٩؟،؛"
PERSIAN = "پچژگکیۀ" + "۰۱۲۳۴۵۶۷۸۹" + ARABIC[:20]
URDU = "ٹڈڑںھےۓ" + ARABIC[:20]
PASHTO = "ټډړږښځڅڼۍې" + ARABIC[:20]
GEEZ = "".join(chr(c) for c in range(0x1200, 0x1380) if chr(c).isprintable())
BENGALI = "".join(chr(c) for c in range(0x0985, 0x09B9)) + "ািীুূেৈোৌ্ং"
CJK = "".join(chr(c) for c in range(0x4E00, 0x4E00 + 400)) + "、。「」ぁあいうアイウ한국어"
CYRILLIC = "абвгдежзийклмнопрстуфхцчшщъыьэюя"
DEVANAGARI = "अआइईउऊएऐओऔकखगघचछजझटठडढणतथदधनपफबभमयरलवशसह"
LATIN = string.ascii_letters + "àéèçœßøåñüğışİ  .,!?'-"
SCRIPTS = (ARABIC, PERSIAN, URDU, PASHTO, GEEZ, BENGALI, CJK, CYRILLIC, DEVANAGARI, LATIN)

EMOJI = ("😀", "🙏🏽", "👍🏿", "❤️", "🇹🇷", "🇸🇾", "🏳️‍🌈", "👨‍👩‍👧‍👦", "🧑🏾‍⚖️", "👩‍❤️‍💋‍👨", "🏴‍☠️",
         "\U0001F9D1\u200D\U0001F91D\u200D\U0001F9D1", "🫶🏼", "#️⃣",
         "🏴\U000E0067\U000E0062\U000E0065\U000E006E\U000E0067\U000E007F")
COMBINING = "".join(chr(c) for c in range(0x0300, 0x0370)) + "\u0610\u0611\u06D6\u20D0\u20E3"
BIDI = "\u202A\u202B\u202C\u202D\u202E\u2066\u2067\u2068\u2069\u200E\u200F\u061C"
ZERO_WIDTH = "\u200B\u200C\u200D\u2060\uFEFF\u180E\u00AD\u034F"
C0 = "".join(chr(c) for c in range(0x00, 0x20)) + "\x7f"
C1 = "".join(chr(c) for c in range(0x80, 0xA0))
SURROGATES = "\ud800\udbff\udc00\udfff\ud83d"
ODD = "\u2028\u2029\uFFFE\uFFFF\U0010FFFF\uE000\U000F0000\u3164\u115F\uFFFD\U000E0001\uFE0F\u3000\u00A0"
WHITESPACE_ONLY = (" ", "\u3000", "\u200b", "\n\n\n", "\t", "\u2028", "\u3164", "\u00a0\u00a0")

INJECTIONS = (
    "<b>bold</b>", "<i>x</i><u>y</u>", '<a href="tg://user?id=1">admin</a>', "<a href=tg://user?id=1>x</a>",
    '<a href="http://evil.example/login">UNHCR</a>', "<script>alert(1)</script>", "<pre>code</pre>",
    "<tg-spoiler>x</tg-spoiler>", "<blockquote>x</blockquote>", "&lt;b&gt;", "&amp;", "</b></a>",
    "*bold*", "_italic_", "__underline__", "~strike~", "||spoiler||", "`code`", "```py\nprint(1)\n```",
    "[x](http://evil.example)", "[click](tg://user?id=1)", "![img](http://evil.example/a.png)",
    "\\*not bold\\*", "*_~||`[", ">quote", "**double**", "[UNHCR](https://t.me/+fake)",
    "{0}", "{}", "{command}", "{name}", "{count}", "{{x}}", "%s", "%(name)s", "%d", "${HOME}", "$(id)",
    "'; DROP TABLE user_preferences; --", "\" OR 1=1 --", "../../etc/passwd", "\\x00", "null", "None",
    "javascript:alert(1)", "data:text/html,<b>x</b>", "@admin", "#hashtag", "$USD", "/start", "t.me/joinchat/x",
)
QUESTIONS = (
    "كيف أقدم طلب لجوء؟", "I was arrested, what are my rights?", "Je cherche un avocat", "ساعدوني عم يضربوني",
    "من کار می‌کنم ولی حقوقم را نمی‌دهند", "مجھے وکیل چاہیے", "Waxaan u baahanahay caawimaad", "help",
    "where can I see a doctor", "I want to talk to a person", "menu", "Istanbul", "Gaziantep",
    "my employer took my passport", "أريد التحدث مع شخص", "they will deport me tomorrow", "hi", "thanks",
)


def _pick(rng: random.Random, pool: str, count: int) -> str:
    return "".join(rng.choice(pool) for _ in range(count))


def random_text(rng: random.Random) -> tuple[str, str]:
    """A hostile or unusual message text and the name of its class."""
    kind = rng.choice(("script", "mixed", "emoji", "combining", "bidi", "zero_width", "control", "surrogate",
                       "odd", "injection", "question", "noisy_question", "long", "whitespace", "digits"))
    if kind == "script":
        text = _pick(rng, rng.choice(SCRIPTS), rng.randint(1, 80))
    elif kind == "mixed":
        text = "".join(_pick(rng, rng.choice(SCRIPTS), rng.randint(1, 12)) for _ in range(rng.randint(2, 8)))
    elif kind == "emoji":
        text = "".join(rng.choice(EMOJI) for _ in range(rng.randint(1, 30)))
    elif kind == "combining":
        text = "".join(rng.choice(LATIN + ARABIC) + _pick(rng, COMBINING, rng.randint(0, 40))
                       for _ in range(rng.randint(1, 20)))
    elif kind == "bidi":
        text = "".join(rng.choice(BIDI) + _pick(rng, rng.choice(SCRIPTS), rng.randint(0, 10))
                       for _ in range(rng.randint(1, 10)))
    elif kind == "zero_width":
        text = "".join(rng.choice(ZERO_WIDTH) + rng.choice(QUESTIONS)[: rng.randint(0, 5)]
                       for _ in range(rng.randint(1, 20)))
    elif kind == "control":
        text = "".join(rng.choice((C0, C1, LATIN, ARABIC))[rng.randrange(32)] for _ in range(rng.randint(1, 60)))
    elif kind == "surrogate":
        text = "".join(rng.choice((SURROGATES, LATIN, ARABIC, "".join(EMOJI)))[rng.randrange(5)]
                       for _ in range(rng.randint(1, 30)))
    elif kind == "odd":
        text = _pick(rng, ODD + C0 + BIDI, rng.randint(1, 30)) + rng.choice(("", rng.choice(QUESTIONS)))
    elif kind == "injection":
        text = " ".join(rng.choice(INJECTIONS + QUESTIONS) for _ in range(rng.randint(1, 6)))
    elif kind == "question":
        text = rng.choice(QUESTIONS)
    elif kind == "noisy_question":
        words = rng.choice(QUESTIONS).split()
        text = " ".join(w + rng.choice(("", rng.choice(BIDI + ZERO_WIDTH + COMBINING), rng.choice(INJECTIONS)))
                        for w in words)
    elif kind == "long":
        unit = rng.choice(QUESTIONS + INJECTIONS) + rng.choice((" ", "\n", "\u200b", "🏳️‍🌈"))
        length = rng.choice((4096, 4096, 4095, 4097, 5000, 12000))
        text = (unit * (length // len(unit) + 1))[:length]
    elif kind == "whitespace":
        text = rng.choice(WHITESPACE_ONLY) * rng.randint(1, 3)
    else:
        text = _pick(rng, "0123456789+-()., ٠١٢٣٤٥٦٧٨٩۰۱۲۳۴۵۶۷۸۹", rng.randint(1, 40))
    return text or "x", kind


def utf16_length(text: str) -> int:
    """Telegram measures text in UTF-16 code units (a lone surrogate counts as one)."""
    return sum(2 if ord(char) > 0xFFFF else 1 for char in text)


# --- button data -----------------------------------------------------------------------------------


def _topics() -> list[str]:
    with (ROOT / "knowledge_base" / "topics.yml").open(encoding="utf-8") as file:
        return sorted(yaml.safe_load(file))


VOLUNTEER_COMMANDS = (
    "invite", "invite coordinator", "volunteers", "remove 1", "stats", "transcript ABCD", "suggestions", "reload",
    "online", "offline", "queue", "release", "transfer ar", "close", "canned", "switch ABCD", "good", "profile",
    "name <b>Evil</b>", "volunteer WRONGCODE", "volunteer",
)
VALID_DATA = (
    "m", "h", "l", "l:ar", "l:fa", "l:so", "l:ur", "l:fr", "l:en", "a:rights", "a:asylum", "a:services", "f:no",
    "s:asylum_steps:0", "s:asylum_steps:4", "w:detention:who", "w:detention:papers", "w:work:out_abused",
    "g:", "g:legal", "g:health", "g:legal:c.istanbul:0", "g:legal:c.gaziantep:1", "g::c.istanbul",
    "g::@41.01,28.97", "g:housing:@36.2,37.15:0", "o:leave", "o:canned:greeting", "o:vlang:ar", "o:vskill:legal",
    "o:vmax:3",
)
FORGED_DATA = (
    "s:asylum_steps:99", "s:asylum_steps:-1", "s:nowhere:0", "s:detention:0", "w:detention:nowhere",
    "w:asylum_steps:who", "w:nowhere:who", "g:nowhere", "g:legal:c.nowhere:0", "g:legal:c.istanbul:99",
    "g:legal:@99.99,999.99:0", "g:legal:@-90.0,-180.0:0", "g::@0.0,0.0", "g:_:c.-:0", "g:legal:c.istanbul",
    "o:take:0", "o:take:999999999999", "o:rate:1:5", "o:rate:999999999999:1", "o:report:1", "o:allow:1",
    "o:reject:999999999999", "o:vlang:zz", "o:vskill:nothing", "o:vmax:0", "o:vmax:9", "o:canned:nothing",
    "t:'; DROP TABLE users; --", "t:../../etc/passwd", "t:", "a:", "a:conversation", "l:xx", "l:ar:x", "f:",
    "f:maybe", "m:", "h:1", "o:", "o:take:", "o:rate:1:0", "s:", "w:", "x", ":", "::::", "\u202e:t", "t:\u0000",
    "t:rights_detention\u200b", "T:RIGHTS_DETENTION", " m", "m ", "null", "{}", "[]", "%s", "<b>m</b>",
)


def forged_data(rng: random.Random, topics: list[str]) -> tuple[str, str]:
    """Callback data this bot did not send (or sent once, long ago), and its class."""
    kind = rng.choice(("forged", "forged", "truncated", "oversized", "random", "topic", "replayed_kind"))
    if kind == "forged":
        return rng.choice(FORGED_DATA), "callback.forged"
    if kind == "truncated":
        valid = rng.choice((*VALID_DATA, *(f"t:{t}" for t in topics)))
        return valid[: rng.randint(1, max(1, len(valid) - 1))], "callback.truncated"
    if kind == "oversized":
        valid = rng.choice((*VALID_DATA, *(f"t:{t}" for t in topics)))
        return valid + ":" + "x" * rng.randint(64, 300), "callback.oversized"
    if kind == "random":
        text, _ = random_text(rng)
        return text[:64], "callback.random"
    if kind == "topic":
        return f"t:{rng.choice(topics)}", "callback.valid"
    return rng.choice(VALID_DATA), "callback.valid"


# --- updates ---------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Step:
    """One update, its class, and what the bot must do with it."""

    kind: str
    update: Json
    expect: Expect


@dataclass
class Case:
    """One chat's updates, in order. `held`: a volunteer holds this user's case while the steps run."""

    user_id: int
    steps: list[Step] = field(default_factory=list)
    held: bool = False


# Message contents that are not text, as Telegram sends them (each makes a message of that kind).
def _media(rng: random.Random) -> dict[str, Json]:
    file = {"file_id": f"f{rng.randrange(10**9)}", "file_unique_id": f"u{rng.randrange(10**9)}"}
    size = {"width": rng.randint(1, 4000), "height": rng.randint(1, 4000)}
    user = {"id": rng.randint(1, 10**10), "is_bot": False, "first_name": "<b>Name</b>"}
    return {
        "photo": {"photo": [{**file, **size, "file_size": 1}, {**file, **size}]},
        "sticker": {"sticker": {**file, **size, "type": rng.choice(("regular", "mask", "custom_emoji")),
                                "is_animated": rng.random() < 0.5, "is_video": False, "emoji": "😀"}},
        "voice": {"voice": {**file, "duration": rng.randint(0, 10**6), "mime_type": "audio/ogg"}},
        "video": {"video": {**file, **size, "duration": rng.randint(0, 3600)}},
        "video_note": {"video_note": {**file, "length": 240, "duration": 5}},
        "audio": {"audio": {**file, "duration": 1, "title": "<b>song</b>", "performer": "*x*"}},
        "document": {"document": {**file, "file_name": "../../etc/passwd\u202egpj.exe", "mime_type": "x/y"}},
        "animation": {"animation": {**file, **size, "duration": 1}},
        "location": {"location": {"latitude": rng.uniform(-90, 90), "longitude": rng.uniform(-180, 180),
                                  "horizontal_accuracy": rng.uniform(0, 1500)}},
        "location_edge": {"location": {"latitude": rng.choice((-90.0, 90.0, 0.0, 41.01)),
                                       "longitude": rng.choice((-180.0, 180.0, 0.0, 28.97))}},
        "live_location": {"location": {"latitude": 41.0, "longitude": 29.0, "live_period": 900, "heading": 90}},
        "venue": {"venue": {"location": {"latitude": 37.06, "longitude": 37.38}, "title": "<b>Camp</b>",
                            "address": "[x](http://evil)"}, "location": {"latitude": 37.06, "longitude": 37.38}},
        "contact": {"contact": {"phone_number": "+90 555 123 4567", "first_name": "<a href='x'>A</a>",
                                "user_id": 1}},
        "poll": {"poll": {"id": "p1", "question": "<b>?</b>", "options": [
            {"text": "a", "voter_count": 0, "persistent_id": "a"},
            {"text": "b", "voter_count": 0, "persistent_id": "b"}],
                          "total_voter_count": 0, "is_closed": False, "is_anonymous": True, "type": "regular",
                          "allows_multiple_answers": False, "allows_revoting": False,
                          "members_only": False}},
        "dice": {"dice": {"emoji": rng.choice("🎲🎯🏀⚽🎳🎰"), "value": rng.randint(1, 64)}},
        "game": {"game": {"title": "<b>g</b>", "description": "d", "photo": [{**file, **size}]}},
        "story": {"story": {"chat": {"id": 77, "type": "private"}, "id": 5}},
        "invoice": {"invoice": {"title": "t", "description": "d", "start_parameter": "s", "currency": "USD",
                                "total_amount": 1}},
        "paid_media": {"paid_media": {"star_count": 1, "paid_media": [{"type": "preview"}]}},
        "checklist": {"checklist": {"title": "<b>list</b>", "tasks": [{"id": 1, "text": "*t*"}]}},
        "forwarded_text": {"text": rng.choice(QUESTIONS + INJECTIONS),
                           "forward_origin": {"type": "user", "date": DATE, "sender_user": user}},
        "forwarded_hidden": {"text": rng.choice(QUESTIONS),
                             "forward_origin": {"type": "hidden_user", "date": DATE,
                                                "sender_user_name": "<b>x</b>"}},
        "forwarded_channel": {"photo": [{**file, **size}], "caption": "*x*",
                              "forward_origin": {"type": "channel", "date": DATE, "message_id": 3,
                                                 "chat": {"id": -1001, "type": "channel", "title": "<b>c</b>"}}},
        "caption_injection": {"photo": [{**file, **size}], "caption": rng.choice(INJECTIONS),
                              "caption_entities": [{"type": "bold", "offset": 0, "length": 1}]},
        "reply_to_story": {"text": "hello", "reply_to_story": {"chat": {"id": 77, "type": "private"}, "id": 1}},
        "quote_reply": {"text": rng.choice(QUESTIONS), "quote": {"text": "<b>q</b>", "position": 0},
                        "reply_to_message": {"message_id": 1, "date": DATE, "chat": {"id": 1, "type": "private"},
                                             "text": "x"}},
        "via_bot": {"text": rng.choice(QUESTIONS), "via_bot": {"id": 1, "is_bot": True, "first_name": "b",
                                                                "username": "other_bot"}},
        "media_spoiler": {"photo": [{**file, **size}], "has_media_spoiler": True, "media_group_id": "g1"},
    }


# Service messages: Telegram's notes about the chat itself (pinned, auto-delete timer, payments, ...).
SERVICE: dict[str, Json] = {
    "pinned_message": {"pinned_message": {"message_id": 1, "date": 0, "chat": {"id": 1, "type": "private"}}},
    "auto_delete_timer": {"message_auto_delete_timer_changed": {"message_auto_delete_time": 86400}},
    "write_access_allowed": {"write_access_allowed": {"from_request": True}},
    "successful_payment": {"successful_payment": {"currency": "XTR", "total_amount": 1, "invoice_payload": "p",
                                                  "telegram_payment_charge_id": "t",
                                                  "provider_payment_charge_id": "p"}},
    "refunded_payment": {"refunded_payment": {"currency": "XTR", "total_amount": 1, "invoice_payload": "p",
                                              "telegram_payment_charge_id": "t"}},
    "chat_background_set": {"chat_background_set": {"type": {"type": "chat_theme", "theme_name": "x"}}},
    "connected_website": {"connected_website": "evil.example"},
    "proximity_alert": {"proximity_alert_triggered": {"traveler": {"id": 1, "is_bot": False, "first_name": "a"},
                                                      "watcher": {"id": 2, "is_bot": False, "first_name": "b"},
                                                      "distance": 5}},
    "forum_topic_created": {"forum_topic_created": {"name": "<b>t</b>", "icon_color": 7322096}},
    "new_chat_title": {"new_chat_title": "<b>x</b>"},
    "delete_chat_photo": {"delete_chat_photo": True},
    "web_app_data": {"web_app_data": {"data": "<b>x</b>", "button_text": "b"}},
    "chat_shared": {"chat_shared": {"request_id": 1, "chat_id": -100}},
    "users_shared": {"users_shared": {"request_id": 1, "users": [{"user_id": 5}]}},
}

# Updates that are not a private message or button press (or come from where the bot does not talk).
def _other_updates(rng: random.Random, user: Json, private: Json, message: Callable[..., Json]) -> dict[str, Json]:
    group = {"id": -100 - user["id"], "type": rng.choice(("group", "supergroup")), "title": "<b>g</b>"}
    channel = {"id": -1000000000000 - user["id"], "type": "channel", "title": "c"}
    member = {"status": "member", "user": user}
    kicked = {"status": "kicked", "user": user, "until_date": 0}
    bot_user = {"id": 4242, "is_bot": True, "first_name": "Refuge Assistant", "username": BOT_USERNAME}
    text, _ = random_text(rng)
    return {
        "group_text": {"message": message(group, user=user, text=text)},
        "group_command": {"message": message(group, user=user, text=f"/start@{BOT_USERNAME}",
                                             entities=[{"type": "bot_command", "offset": 0, "length": 21}])},
        "group_photo": {"message": message(group, user=user, photo=[{"file_id": "p", "file_unique_id": "p", "width": 1,
                                                          "height": 1}])},
        "group_new_members": {"message": message(group, user=user, new_chat_members=[bot_user, user])},
        "group_left_member": {"message": message(group, user=user, left_chat_member=bot_user)},
        "group_edited": {"edited_message": {**message(group, user=user, text=text), "edit_date": DATE + 5}},
        "group_migrate": {"message": message(group, user=user, migrate_to_chat_id=-1009999)},
        "channel_post": {"channel_post": message(channel, text=text, sender=False)},
        "edited_channel_post": {"edited_channel_post": {**message(channel, text=text, sender=False),
                                                        "edit_date": DATE + 5}},
        "my_chat_member_blocked": {"my_chat_member": {"chat": private, "from": user, "date": DATE,
                                                      "old_chat_member": {"status": "member", "user": bot_user},
                                                      "new_chat_member": {**kicked, "user": bot_user}}},
        "my_chat_member_added": {"my_chat_member": {"chat": group, "from": user, "date": DATE,
                                                    "old_chat_member": {"status": "left", "user": bot_user},
                                                    "new_chat_member": {"status": "member", "user": bot_user}}},
        "chat_member": {"chat_member": {"chat": group, "from": user, "date": DATE, "old_chat_member": member,
                                        "new_chat_member": kicked}},
        "chat_join_request": {"chat_join_request": {"chat": group, "from": user, "user_chat_id": user["id"],
                                                    "date": DATE, "bio": "<b>bio</b>"}},
        "inline_query": {"inline_query": {"id": str(rng.randrange(10**9)), "from": user, "query": text[:256],
                                          "offset": ""}},
        "chosen_inline_result": {"chosen_inline_result": {"result_id": "r", "from": user, "query": "q"}},
        "shipping_query": {"shipping_query": {"id": "s", "from": user, "invoice_payload": "p", "shipping_address": {
            "country_code": "TR", "state": "", "city": "x", "street_line1": "x", "street_line2": "",
            "post_code": "1"}}},
        "pre_checkout_query": {"pre_checkout_query": {"id": "q", "from": user, "currency": "XTR",
                                                      "total_amount": 1, "invoice_payload": "p"}},
        "poll": {"poll": {"id": "p", "question": "?",
                          "options": [{"text": "a", "voter_count": 1, "persistent_id": "a"}],
                          "total_voter_count": 1, "is_closed": True, "is_anonymous": True, "type": "regular",
                          "allows_multiple_answers": False, "allows_revoting": False,
                          "members_only": False}},
        "poll_answer": {"poll_answer": {"poll_id": "p", "user": user, "option_ids": [0],
                                        "option_persistent_ids": ["a"]}},
        "message_reaction": {"message_reaction": {"chat": private, "message_id": 5, "user": user, "date": DATE,
                                                  "old_reaction": [], "new_reaction": [
                                                      {"type": "emoji", "emoji": "👍"}]}},
        "message_reaction_count": {"message_reaction_count": {"chat": group, "message_id": 5, "date": DATE,
                                                              "reactions": []}},
        "chat_boost": {"chat_boost": {"chat": channel, "boost": {
            "boost_id": "b", "add_date": DATE, "expiration_date": DATE + 1,
            "source": {"source": "premium", "user": user}}}},
        "removed_chat_boost": {"removed_chat_boost": {"chat": channel, "boost_id": "b", "remove_date": DATE,
                                                      "source": {"source": "premium", "user": user}}},
        "business_connection": {"business_connection": {"id": "bc", "user": user, "user_chat_id": user["id"],
                                                        "date": DATE, "is_enabled": True}},
        "business_message": {"business_message": {**message(private, text=text), "business_connection_id": "bc"}},
        "edited_business_message": {"edited_business_message": {**message(private, text=text),
                                                                "business_connection_id": "bc",
                                                                "edit_date": DATE + 5}},
        "deleted_business_messages": {"deleted_business_messages": {"business_connection_id": "bc",
                                                                    "chat": private, "message_ids": [1, 2]}},
        "purchased_paid_media": {"purchased_paid_media": {"from": user, "paid_media_payload": "p"}},
        "guest_message": {"guest_message": {**message(private, text=text), "guest_query_id": "gq"}},
    }


class UpdateFactory:
    """Builds the updates, numbering update and message ids as Telegram does."""

    def __init__(self, rng: random.Random) -> None:
        self.rng = rng
        self._update_ids = itertools.count(1)
        self._message_ids = itertools.count(1)
        self._callback_ids = itertools.count(1)

    def user(self, user_id: int) -> Json:
        user: Json = {"id": user_id, "is_bot": False, "first_name": self.rng.choice(("<b>A</b>", "*x*", "User"))}
        if self.rng.random() < 0.8:
            user["language_code"] = self.rng.choice(("en", "ar", "fa", "ur", "fr", "so", "ps", "am", "bn", "zh",
                                                     "tr", "xx", "en-US", "pt-br"))
        return user

    def message(self, chat: Json, *, user: Json | None = None, sender: bool = True, **content: Any) -> Json:
        message: Json = {"message_id": next(self._message_ids), "date": DATE, "chat": chat, **content}
        if sender:
            message["from"] = user or {"id": abs(chat["id"]), "is_bot": False, "first_name": "U"}
        return message

    def update(self, **content: Any) -> Json:
        return {"update_id": next(self._update_ids), **content}

    def text_message(self, user: Json, text: str, *, entities: list[Json] | None = None) -> Json:
        chat = {"id": user["id"], "type": "private", "first_name": user["first_name"]}
        content: Json = {"text": text}
        if entities:
            content["entities"] = entities
        return self.message(chat, user=user, **content)

    def formatted(self, text: str) -> list[Json]:
        """Entities a user's own formatting would carry (Telegram sends them with the text)."""
        length = utf16_length(text)
        entities = []
        for _ in range(self.rng.randint(0, 3)):
            offset = self.rng.randrange(length)
            entity: Json = {"type": self.rng.choice(("bold", "italic", "code", "spoiler", "text_link", "pre",
                                                     "blockquote", "text_mention")),
                            "offset": offset, "length": self.rng.randint(1, length - offset)}
            if entity["type"] == "text_link":
                entity["url"] = "http://evil.example/login"
            if entity["type"] == "text_mention":
                entity["user"] = {"id": 1, "is_bot": False, "first_name": "x"}
            entities.append(entity)
        return entities

    def command(self, user: Json, text: str) -> Json:
        command = text.split()[0] if text.split() else text
        entities = [{"type": "bot_command", "offset": 0, "length": utf16_length(command)}]
        return self.text_message(user, text, entities=entities)

    def callback(self, user: Json, data: str | None, *, chat: Json | None = None, inline: bool = False,
                 inaccessible: bool = False, game: bool = False) -> Json:
        query: Json = {"id": f"cq{next(self._callback_ids)}", "from": user, "chat_instance": "ci"}
        if data is not None:
            query["data"] = data
        if game:
            query["game_short_name"] = "g"
        if inline:
            query["inline_message_id"] = "im1"
        else:
            where = chat or {"id": user["id"], "type": "private"}
            query["message"] = self.message(where, user={"id": 4242, "is_bot": True, "first_name": "Refuge"},
                                            text="menu")
            if inaccessible:
                query["message"] = {"chat": where, "message_id": 1, "date": 0}
        return query


def callback_id(update: Json) -> str | None:
    query = update.get("callback_query")
    return str(query["id"]) if query else None


class Generator:
    """Deterministic by seed: the same seed gives the same updates in the same order."""

    def __init__(self, seed: int, first_user_id: int = 10_000, *, text_share: float = 0.4) -> None:
        self.seed = seed
        self.text_share = text_share  # of single updates: new messages of text (they reach the engine)
        self.rng = random.Random(seed)
        self.make = UpdateFactory(self.rng)
        self.topics = _topics()
        self._user_ids = itertools.count(first_user_id)

    def _new_user(self) -> Json:
        return self.make.user(next(self._user_ids))

    # --- single updates ------------------------------------------------------------------

    def text(self, user: Json) -> Step:
        text, kind = random_text(self.rng)
        entities = self.make.formatted(text) if self.rng.random() < 0.2 else None
        return Step(f"text.{kind}", self.make.update(message=self.make.text_message(user, text, entities=entities)),
                    "reply")

    def command(self, user: Json) -> Step:
        rng = self.rng
        noise, _ = random_text(rng)
        kind, text = rng.choice((
            ("start_payload", f"/start {rng.choice(('ref_1', 'a' * 64, '<b>x</b>', noise[:64], '-1', '%00'))}"),
            ("start_botname", f"/start@{BOT_USERNAME}"),
            ("other_botname", f"/start@other_bot {noise[:20]}"),
            ("language", f"/language {rng.choice(('xx', 'ar', 'AR', 'ar ar', '../..', noise[:10]))}"),
            ("location", f"/location {rng.choice(('41.01,28.97', '999,999', 'nan,nan', 'inf,-inf', noise[:20]))}"),
            ("known", f"/{rng.choice(('menu', 'help', 'privacy', 'forget', 'language', 'start', 'cancel'))}"
                      f"{rng.choice(('', ' ' + noise[:50], '@' + BOT_USERNAME))}"),
            ("human", "/human"),
            ("report", "/report"),
            ("unknown", f"/{rng.choice(('rights_detention', 'admin', 'sudo', 'a' * 32, 'x_' * 20, 'b', 'test'))}"
                        f" {noise[:30]}"),
            ("long_argument", f"/{rng.choice(('start', 'language', 'help', 'nope'))} " + (noise * 400)[:4090]),
            ("volunteer_only", "/" + rng.choice(VOLUNTEER_COMMANDS)),
            ("odd_name", "/" + noise[:31].replace(" ", "_")),
        ))
        return Step(f"command.{kind}", self.make.update(message=self.make.command(user, text)), "reply")

    def callback(self, user: Json) -> Step:
        rng = self.rng
        roll = rng.random()
        if roll < 0.05:
            return Step("callback.inline_message", self.make.update(
                callback_query=self.make.callback(user, rng.choice(VALID_DATA), inline=True)), "answer")
        if roll < 0.08:
            return Step("callback.game", self.make.update(callback_query=self.make.callback(user, None, game=True)),
                        "answer")
        if roll < 0.11:
            return Step("callback.inaccessible_message", self.make.update(
                callback_query=self.make.callback(user, rng.choice(VALID_DATA), inaccessible=True)), "answer")
        if roll < 0.14:
            group = {"id": -100 - user["id"], "type": "supergroup", "title": "g"}
            return Step("callback.group_message", self.make.update(
                callback_query=self.make.callback(user, rng.choice(VALID_DATA), chat=group)), "answer")
        data, kind = forged_data(rng, self.topics)
        return Step(kind, self.make.update(callback_query=self.make.callback(user, data)), "answer")

    def media(self, user: Json) -> Step:
        kind, content = self.rng.choice(sorted(_media(self.rng).items()))
        chat = {"id": user["id"], "type": "private"}
        return Step(f"message.{kind}", self.make.update(message=self.make.message(chat, user=user, **content)),
                    "reply")

    def service(self, user: Json) -> Step:
        kind, content = self.rng.choice(sorted(SERVICE.items()))
        chat = {"id": user["id"], "type": "private"}
        return Step(f"service.{kind}", self.make.update(message=self.make.message(chat, user=user, **content)),
                    "ignored")

    def other(self, user: Json) -> Step:
        private = {"id": user["id"], "type": "private"}
        kind, update = self.rng.choice(sorted(_other_updates(self.rng, user, private, self.make.message).items()))
        return Step(f"update.{kind}", self.make.update(**update), "ignored")

    def edited(self, user: Json) -> Step:
        rng = self.rng
        chat = {"id": user["id"], "type": "private"}
        if rng.random() < 0.25:
            content: Json = {"location": {"latitude": 41.0 + rng.random(), "longitude": 29.0, "live_period": 900}}
            message = {**self.make.message(chat, user=user, **content), "edit_date": DATE + 60}
            return Step("edited.live_location", self.make.update(edited_message=message), "ignored")
        text, kind = random_text(rng)
        message = {**self.make.text_message(user, text), "edit_date": DATE + rng.randint(1, 10**6)}
        return Step(f"edited.{kind}", self.make.update(edited_message=message), "reply")

    # --- cases -----------------------------------------------------------------------------

    def single(self) -> Case:
        user = self._new_user()
        roll = self.rng.random()
        if roll < self.text_share:
            return Case(user["id"], [self.text(user)])
        roll = (roll - self.text_share) / (1 - self.text_share)  # the others keep their proportions
        makers: list[tuple[float, Callable[[Json], Step]]] = [
            (0.22, self.command), (0.55, self.callback), (0.75, self.media), (0.82, self.edited),
            (0.87, self.service), (1.0, self.other)]
        return Case(user["id"], [next(maker for bound, maker in makers if roll < bound)(user)])

    def sequence(self) -> Case:
        """A few updates from one user: replays, edits, a finder question answered with garbage, forgetting."""
        rng, make = self.rng, self.make
        user = self._new_user()
        steps: list[Step] = []
        for _ in range(rng.randint(2, 6)):
            roll = rng.random()
            if roll < 0.3:  # the same button pressed again later (a new query id each time)
                data = rng.choice((*VALID_DATA, "f:yes", f"t:{rng.choice(self.topics)}"))
                steps += [Step("callback.replayed", make.update(callback_query=make.callback(user, data)), "answer")
                          for _ in range(rng.randint(2, 3))]
            elif roll < 0.45:  # a message, then its edit
                first = make.text_message(user, random_text(rng)[0])
                edited = {**first, "text": random_text(rng)[0], "edit_date": DATE + 9}
                steps += [Step("text.before_edit", make.update(message=first), "reply"),
                          Step("edited.same_message", make.update(edited_message=edited), "reply")]
            elif roll < 0.6:  # the finder asks for a city; it gets garbage, a place, or a location
                steps.append(Step("callback.finder_asks", make.update(
                    callback_query=make.callback(user, f"g:{rng.choice(('legal', 'health', 'housing'))}")),
                    "answer"))
                steps.append(rng.choice((self.text(user), self.media(user))))
            elif roll < 0.7:  # a stale handoff button of somebody else's case
                data = rng.choice(("o:rate:1:5", "o:report:1", "o:take:1", "o:allow:1", "o:leave"))
                steps.append(Step("callback.other_users", make.update(callback_query=make.callback(user, data)),
                                  "answer"))
            else:
                steps.append(rng.choice((self.text, self.command, self.media, self.callback))(user))
        return Case(user["id"], steps)

    def held(self, length: int) -> Case:
        """A user whose case a volunteer holds: texts and media to relay (commands are not relayed)."""
        user = {**self._new_user(), "language_code": "en"}
        chat = {"id": user["id"], "type": "private"}
        steps = []
        for _ in range(length):
            if self.rng.random() < 0.7:
                text, kind = random_text(self.rng)
                text = text.lstrip("/") or "x"
                steps.append(Step(f"relay.text.{kind}", self.make.update(
                    message=self.make.text_message(user, text, entities=self.make.formatted(text))), "relay"))
            else:
                kind, content = self.rng.choice(sorted(_media(self.rng).items()))
                steps.append(Step(f"relay.{kind}", self.make.update(
                    message=self.make.message(chat, user=user, **content)), "relay"))
        return Case(user["id"], steps, held=True)

    def cases(self, updates: int, *, held: int = 3, held_length: int = 40, sequences: float = 0.08
              ) -> Iterator[Case]:
        """Cases until `updates` updates are made: mostly single updates, a share of `sequences`, and `held`
        relayed ones."""
        made = 0
        for _ in range(held):
            case = self.held(held_length)
            made += len(case.steps)
            yield case
        while made < updates:
            case = self.sequence() if self.rng.random() < sequences else self.single()
            made += len(case.steps)
            yield case


def watched_chat(update: Json, user_id: int) -> int:
    """The chat where anything the bot sends in answer would appear (the user's, for chat-less updates)."""
    for key in ("message", "edited_message", "channel_post", "edited_channel_post", "business_message",
                "edited_business_message", "guest_message", "my_chat_member", "chat_member", "chat_join_request",
                "message_reaction", "message_reaction_count", "chat_boost", "removed_chat_boost",
                "deleted_business_messages"):
        if key in update:
            return int(update[key]["chat"]["id"])
    query = update.get("callback_query")
    if query and "message" in query:
        return int(query["message"]["chat"]["id"])
    return user_id
