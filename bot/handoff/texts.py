"""What the handoff says to users, volunteers and coordinators, in each reader's language.

Like bot/rendering.py, this only turns facts into text and buttons: plain text, catalogs for
every sentence, right-to-left text with its left-to-right fragments isolated.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from babel import Locale
from babel.dates import format_date, format_datetime

from bot.callbacks import ButtonAction
from bot.handoff.models import GoodAnswer
from bot.i18n import Catalogs, Translator
from bot.knowledge import KnowledgeBase
from bot.language.registry import LanguageRegistry
from bot.outgoing import Button
from bot.rendering import TELEGRAM_LIMIT, isolate_ltr


@dataclass(frozen=True)
class Stats:
    """The state of the queue and of the last seven days, for coordinators."""

    waiting: int
    waiting_by_language: dict[str, int]
    held: int
    volunteers_online: int
    volunteers: int
    taken: int
    median_wait: timedelta | None
    longest_wait: timedelta | None
    ratings: int
    average_rating: float | None
    reports: int


@dataclass(frozen=True)
class BanLine:
    """One ban as coordinators see it: its number, the case it was issued on, when, by whom, why."""

    number: int
    label: str
    created_at: datetime
    by: str | None
    reason: str | None


SKILLS = ("legal", "medical", "women", "mental_health", "general")
CANNED = ("hello", "moment", "details", "safety", "goodbye")
Rows = list[list[Button]]


@dataclass(frozen=True)
class Text:
    """A message ready for the outbox."""

    text: str
    buttons: Rows


@dataclass(frozen=True)
class CaseFacts:
    """What a volunteer may know about a case: never the user's name, username or id."""

    id: int
    label: str
    language: str
    topic: str | None
    reason: str
    urgent: bool
    waiting: timedelta
    note: str | None = None


@dataclass(frozen=True)
class HandoffTexts:
    """Builds every handoff message."""

    catalogs: Catalogs
    languages: LanguageRegistry
    knowledge: KnowledgeBase

    def _done(self, language: str, text: str, buttons: Rows | None = None) -> Text:
        info = self.languages.get(language)
        if info is not None and info.rtl:
            text = isolate_ltr(text)
        if len(text) > TELEGRAM_LIMIT:
            text = text[: TELEGRAM_LIMIT - 1] + "…"
        return Text(text, buttons or [])

    def tr(self, language: str) -> Translator:
        return self.catalogs.get(language)

    def language_name(self, code: str, in_language: str) -> str:
        try:
            return Locale.parse(code).get_display_name(in_language) or code
        except (ValueError, TypeError):
            info = self.languages.get(code)
            return info.native if info else code

    def skill_name(self, skill: str, language: str) -> str:
        tr = self.tr(language)
        return {
            "legal": tr.p_("volunteer skill", "legal"),
            "medical": tr.p_("volunteer skill", "medical"),
            "women": tr.p_("volunteer skill", "women's support"),
            "mental_health": tr.p_("volunteer skill", "mental health"),
            "general": tr.p_("volunteer skill", "general"),
        }.get(skill, skill)

    def minutes(self, span: timedelta, language: str) -> str:
        count = max(1, round(span.total_seconds() / 60))
        return self.tr(language).n_("{count} minute", "{count} minutes", count).format(count=count)

    # --- to the user ---------------------------------------------------------------------------

    def queued(self, language: str, *, position: int, wait: timedelta | None, online: int,
               hours: str | None, urgent: bool, already: bool = False) -> Text:
        tr = self.tr(language)
        if already:
            parts = [tr._("You are already waiting for a person. Your place in the queue: {position}.")
                     .format(position=position)]
        else:
            parts = [tr._("I passed your request to our volunteers. Your place in the queue: {position}.")
                     .format(position=position)]
        if hours is not None:
            parts.append(tr._("Volunteers answer between {hours}. Your request stays in the queue, and a "
                              "volunteer will answer when they are back.").format(hours=hours))
        elif online == 0:
            parts.append(tr._("Right now no volunteer who speaks your language is online. Your request stays in "
                              "the queue, and a volunteer will answer as soon as one is free."))
        elif wait is None:
            parts.append(tr._("I cannot estimate the wait yet."))
        else:
            parts.append(tr._("Expected wait: about {minutes}.").format(minutes=self.minutes(wait, language)))
        if urgent and (online == 0 or hours is not None):
            parts.append(tr._("If you are in danger, do not wait: call the emergency numbers above now."))
        parts.append(tr._("Meanwhile you can keep writing to me, and the volunteer will see your messages. "
                          "To leave the queue, send /cancel."))
        return self._done(language, "\n\n".join(parts), [[self._button(tr.p_("button", "Leave the queue"),
                                                                         "leave")]])

    def left_queue(self, language: str) -> Text:
        tr = self.tr(language)
        return self._done(language, tr._("You left the queue. You can ask for a person again at any time."),
                          [[self._menu(tr)]])

    def not_waiting(self, language: str) -> Text:
        tr = self.tr(language)
        return self._done(language, tr._("You are not waiting for a person right now."), [[self._menu(tr)]])

    def seen_later(self, language: str) -> Text:
        tr = self.tr(language)
        return self._done(language, tr._("I cannot open this, but I kept it: the volunteer will see it when they "
                                         "answer you."))

    def connected(self, language: str, name: str) -> Text:
        tr = self.tr(language)
        return self._done(language, tr._(
            "{name}, a volunteer, is with you now. Write here: your messages go to {name}, and I stay quiet "
            "until the conversation ends. To end it, send /cancel.").format(name=name))

    def from_volunteer(self, language: str, name: str, text: str | None) -> str:
        label = self.tr(language)._("{name} (volunteer)").format(name=name)
        return f"{label}:\n{text}" if text else label

    def requeued(self, language: str, position: int, *, silent: bool) -> Text:
        tr = self.tr(language)
        first = (tr._("Sorry, the volunteer could not answer in time.") if silent
                 else tr._("The volunteer had to leave your conversation."))
        rest = tr._("You are back in the queue at place {position}, and another volunteer will answer you.")
        return self._done(language, f"{first} {rest.format(position=position)}")

    def transferred(self, language: str, name: str) -> Text:
        tr = self.tr(language)
        return self._done(language, tr._("{name} is passing you to another volunteer who can help you better. "
                                         "Please wait a little.").format(name=name))

    def closed(self, language: str, handoff_id: int, *, by_user: bool) -> Text:
        tr = self.tr(language)
        first = (tr._("You ended the conversation with the volunteer.") if by_user
                 else tr._("The volunteer ended the conversation."))
        text = "\n\n".join((first, tr._("You are back with the assistant: write your question or choose a topic."),
                            tr._("How helpful was the volunteer? 1 = not at all, 5 = very helpful.")))
        stars = [self._button(str(n), f"rate:{handoff_id}:{n}") for n in range(1, 6)]
        report = self._button(tr.p_("button", "Report this volunteer"), f"report:{handoff_id}")
        return self._done(language, text, [stars, [report], [self._menu(tr)]])

    def rated(self, language: str) -> Text:
        tr = self.tr(language)
        return self._done(language, tr._("Thank you for your rating."), [[self._menu(tr)]])

    def reported(self, language: str) -> Text:
        tr = self.tr(language)
        return self._done(language, tr._("Thank you. Your report went to the coordinators, who will read this "
                                         "conversation. You can also talk to another volunteer."),
                          [[Button(tr.p_("button", "Talk to a person"), ButtonAction("human"))], [self._menu(tr)]])

    def nothing_to_report(self, language: str) -> Text:
        tr = self.tr(language)
        return self._done(language, tr._("There is no recent conversation with a volunteer to report."),
                          [[self._menu(tr)]])

    def not_delivered(self, language: str, label: str | None) -> Text:
        tr = self.tr(language)
        if label:
            return self._done(language, tr._("Case {label}: your message could not be delivered. The person may "
                                             "have blocked the bot.").format(label=label))
        return self._done(language, tr._("Your last message could not be delivered. Please send it again."))

    # --- to volunteers -------------------------------------------------------------------------

    def case_line(self, case: CaseFacts, language: str) -> str:
        tr = self.tr(language)
        parts = [self.language_name(case.language, language)]
        if case.topic and case.topic in self.knowledge.topics:
            parts.append(self.knowledge.title(case.topic, language))
        if case.urgent:
            parts.append(tr._("URGENT"))
        parts.append(tr._("waiting {minutes}").format(minutes=self.minutes(case.waiting, language)))
        head = tr._("Case {label}").format(label=case.label)
        return f"{head}: " + " · ".join(parts)

    def offer(self, case: CaseFacts, language: str, *, again: bool = False) -> Text:
        tr = self.tr(language)
        head = tr._("Still waiting for a volunteer:") if again else tr._("New request for a person:")
        text = f"{head}\n{self.case_line(case, language)}"
        if case.note:
            text += "\n" + tr._("Note: {note}").format(note=case.note)
        return self._done(language, text, [[self._button(tr.p_("button", "Take"), f"take:{case.id}")]])

    def offer_gone(self, case_label: str, language: str, *, taken: bool) -> Text:
        tr = self.tr(language)
        text = (tr._("Case {label} was taken by another volunteer.") if taken
                else tr._("Case {label} is no longer waiting."))
        return self._done(language, text.format(label=case_label))

    def card(self, case: CaseFacts, language: str, recent: Sequence[tuple[str, str]]) -> Text:
        """The case card: what the volunteer needs, and no identity."""
        tr = self.tr(language)
        reasons = {
            "asked": tr._("asked for a person"),
            "not_understood": tr._("the assistant did not understand twice"),
            "emergency": tr._("emergency"),
        }
        lines = [tr._("You hold case {label} now.").format(label=case.label),
                 tr._("Language: {language}").format(language=self.language_name(case.language, language)),
                 tr._("Why: {reason}").format(reason=reasons.get(case.reason, case.reason))]
        if case.topic and case.topic in self.knowledge.topics:
            lines.append(tr._("Topic: {topic}").format(topic=self.knowledge.title(case.topic, language)))
        lines.append(tr._("Priority: {priority}").format(
            priority=tr._("URGENT") if case.urgent else tr._("normal")))
        lines.append(tr._("Waited: {minutes}").format(minutes=self.minutes(case.waiting, language)))
        if case.note:
            lines.append(tr._("Note: {note}").format(note=case.note))
        if recent:
            lines.append("")
            lines.append(tr._("Last messages with the assistant:"))
            lines += [f"{'›' if who == 'user' else '‹'} {what[:300]}" for who, what in recent]
        lines.append("")
        lines.append(tr._("Write here to answer. /canned: ready replies; /release: back to the queue; "
                          "/transfer: to another volunteer; /close: end. Never share your own phone number or "
                          "accounts."))
        return self._done(language, "\n".join(lines))

    def relayed_label(self, label: str) -> str:
        return f"[{label}]"

    def take_refused(self, language: str, why: str, *, held: int = 0) -> str:
        tr = self.tr(language)
        return {
            "taken": tr._("Someone else already took this case."),
            "full": tr.n_("You already hold {count} chat, your maximum.",
                          "You already hold {count} chats, your maximum.", held).format(count=held),
            "offline": tr._("Go /online first."),
        }.get(why, tr._("This case is not available to you."))

    def volunteer_notice(self, language: str, kind: str, **params: str) -> Text:
        tr = self.tr(language)
        texts = {
            "user_left": tr._("Case {label}: the person ended the conversation."),
            "user_cancelled": tr._("Case {label}: the person left the queue."),
            "remind": tr._("Case {label} has been waiting for your answer for {minutes}. Please answer, or "
                           "/release it so another volunteer can."),
            "requeued": tr._("Case {label} went back to the queue: no answer for {minutes}."),
            "released": tr._("Case {label} is back in the queue."),
            "transferred": tr._("Case {label} was passed on to a volunteer with {target}."),
            "closed": tr._("Case {label} is closed. Thank you."),
            "contact_held": tr._("Not sent to case {label}: your message contains a phone number, e-mail address "
                                 "or messenger account. Volunteers must not move people to private channels. A "
                                 "coordinator was asked to review it."),
            "contact_allowed": tr._("A coordinator allowed your message to case {label}; it was sent."),
            "contact_rejected": tr._("A coordinator did not allow your message to case {label}; it was not sent."),
            "no_case": tr._("You hold no chat right now. /queue shows who is waiting."),
            "which_case": tr._("You hold several chats. Reply to a message of the person you want to answer, or "
                               "choose one with /switch followed by the case code."),
            "switched": tr._("Your messages now go to case {label}."),
            "undelivered": tr._("Case {label}: your message could not be delivered. The person may have blocked "
                                "the bot."),
            "blocked": tr._("Case {label}: the person has blocked the bot, so nothing more can reach them. The case "
                            "is closed."),
            "removed": tr._("You are no longer registered as a volunteer. Thank you for your help."),
            "registered": tr._("Welcome! You are registered. Choose the languages you speak and your skills below, "
                               "set the name people will see with /name, then send /online."),
            "already": tr._("You are already registered. /profile shows your profile."),
            "invalid_invite": tr._("This invite code is not valid, was used already, or has expired. Ask a "
                                   "coordinator for a new one."),
            "name_usage": tr._("Send /name followed by the first name or pseudonym people should see, for example: "
                               "/name Amina"),
            "transfer_usage": tr._("Send /transfer followed by a language code ({languages}) or a skill ({skills}), "
                                   "and a note if you like."),
            "remove_usage": tr._("Send /remove followed by the volunteer's number from /volunteers."),
            "transcript_usage": tr._("Send /transcript followed by a case code."),
            "not_found": tr._("Nothing found for {label}."),
            "removed_done": tr._("Volunteer #{number} removed; {count} held chats went back to the queue."),
            "good_saved": tr._("Saved for the editors' review list. Thank you."),
            "good_already": tr._("This reply is already in the editors' review list."),
            "good_refused": tr._("Only a text you wrote to a person can be marked as a good answer. Reply /good to "
                                 "one of your own messages."),
            "closed_by_coordinator": tr._("Case {label} was closed by a coordinator."),
            "ban_usage": tr._("Send /ban followed by a case code, and the reason if you like. The assistant then "
                              "ignores the person's messages, except emergencies. /bans lists the bans."),
            "banned_done": tr._("Ban #{number}: the person of case {label} is banned. The assistant ignores their "
                                "messages from now on, except emergencies, and their open case was ended. "
                                "/unban {number} lifts the ban."),
            "already_banned": tr._("The person of case {label} is already banned (ban #{number})."),
            "unban_usage": tr._("Send /unban followed by a ban number from /bans, or a case code."),
            "unbanned_done": tr._("Ban #{number} lifted. The person can write again."),
            # TRANSLATORS: /good is a command; keep it as it is.
            "good_nothing": tr._("Reply /good to a message you wrote to a person to suggest it to the editors as a "
                                 "good answer. Without a reply, /good marks your last message in your current chat."),
        }
        return self._done(language, texts[kind].format(**params))

    def queue_list(self, language: str, cases: Sequence[CaseFacts]) -> Text:
        tr = self.tr(language)
        if not cases:
            return self._done(language, tr._("Nobody is waiting in your languages."))
        lines = [tr.n_("{count} person is waiting:", "{count} people are waiting:", len(cases))
                 .format(count=len(cases))]
        lines += [self.case_line(case, language) for case in cases]
        buttons = [[self._button(tr._("Take {label}").format(label=case.label), f"take:{case.id}")]
                   for case in cases[:8]]
        return self._done(language, "\n".join(lines), buttons)

    def canned_menu(self, language: str) -> Text:
        tr = self.tr(language)
        rows = [[self._button(self.canned(key, language, name="…").split("\n")[0][:40], f"canned:{key}")]
                for key in CANNED]
        return self._done(language, tr._("Choose a ready reply; it is sent in the person's language:"), rows)

    def canned(self, key: str, language: str, *, name: str) -> str:
        tr = self.tr(language)
        return {
            "hello": tr._("Hello, I am {name}, a volunteer. I am here to listen and help. What is happening?"),
            "moment": tr._("Thank you. Please give me a moment while I look into this."),
            "details": tr._("Can you tell me a little more: which city are you in, and what happened?"),
            "safety": tr._("If you are in danger right now, please call the emergency number first. I will stay "
                           "here."),
            "goodbye": tr._("Thank you for writing. I will end our conversation now; you can ask for a person again "
                            "at any time. Take care."),
        }[key].format(name=name)

    # --- volunteer profile ---------------------------------------------------------------------

    def profile(self, language: str, *, name: str, languages: Sequence[str], skills: Sequence[str],
                max_chats: int, online: bool, coordinator: bool) -> Text:
        tr = self.tr(language)
        none = tr._("none yet")
        lines = [
            tr._("Your volunteer profile"),
            tr._("Name shown to people: {name}").format(name=name),
            tr._("Languages: {languages}").format(
                languages=", ".join(self.language_name(code, language) for code in languages) or none),
            tr._("Skills: {skills}").format(skills=", ".join(self.skill_name(s, language) for s in skills) or none),
            tr._("Chats at once: {count}").format(count=max_chats),
            tr._("Status: {status}").format(status=tr._("online") if online else tr._("offline")),
            "",
            tr._("Tap to change. /name sets the name people see. /online and /offline switch requests on and off."),
            tr._("Reply /good to an answer you wrote to suggest it to the editors."),
        ]
        if coordinator:
            lines.append(tr._("Coordinator: /invite, /volunteers, /remove, /stats, /transcript."))
            lines.append(tr._("Content: /suggestions (answers volunteers marked), /reload (edited answers)."))
        rows: Rows = []
        code_buttons = [self._button(("✓ " if code in languages else "") + info.native, f"vlang:{code}")
                        for code, info in ((lang.code, lang) for lang in self.languages.languages)]
        rows += [code_buttons[i:i + 3] for i in range(0, len(code_buttons), 3)]
        skill_buttons = [self._button(("✓ " if s in skills else "") + self.skill_name(s, language), f"vskill:{s}")
                         for s in SKILLS]
        rows += [skill_buttons[i:i + 3] for i in range(0, len(skill_buttons), 3)]
        rows.append([self._button(("✓ " if n == max_chats else "") + str(n), f"vmax:{n}") for n in (1, 2, 3, 5)])
        return self._done(language, "\n".join(lines), rows)

    def status(self, language: str, *, online: bool, languages: Sequence[str]) -> Text:
        tr = self.tr(language)
        if not online:
            return self._done(language, tr._("You are offline: no new requests will reach you. Chats you hold stay "
                                             "with you."))
        if not languages:
            return self._done(language, tr._("You are online, but you have no languages in your profile yet: "
                                             "/profile."))
        names = ", ".join(self.language_name(code, language) for code in languages)
        return self._done(language, tr._("You are online. New requests in {languages} will reach you.")
                          .format(languages=names))

    def volunteer_list(self, language: str, volunteers: Sequence[tuple[int, str, str, Sequence[str], bool]]) -> Text:
        tr = self.tr(language)
        lines = [tr._("Volunteers:")]
        for number, name, role, languages, online in volunteers:
            state = tr._("online") if online else tr._("offline")
            who = tr._("coordinator") if role == "coordinator" else tr._("volunteer")
            lines.append(f"#{number} {name} ({who}) · {', '.join(languages) or '-'} · {state}")
        return self._done(language, "\n".join(lines))

    def stats(self, language: str, stats: Stats) -> Text:
        tr = self.tr(language)
        def span(value: timedelta | None) -> str:
            return self.minutes(value, language) if value is not None else "-"
        by_language = ", ".join(f"{self.language_name(code, language)}: {count}"
                                for code, count in sorted(stats.waiting_by_language.items()))
        lines = [
            tr._("Waiting now: {count}").format(count=stats.waiting) + (f" ({by_language})" if by_language else ""),
            tr._("Held by volunteers now: {count}").format(count=stats.held),
            tr._("Volunteers online: {online} of {total}").format(online=stats.volunteers_online,
                                                                  total=stats.volunteers),
            tr._("Last 7 days: {count} chats taken; median wait {median}, longest {longest}").format(
                count=stats.taken, median=span(stats.median_wait), longest=span(stats.longest_wait)),
            tr._("Ratings: {count}, average {average}").format(
                count=stats.ratings,
                average=f"{stats.average_rating:.1f}" if stats.average_rating is not None else "-"),
            tr._("Reports: {count}").format(count=stats.reports),
        ]
        return self._done(language, "\n".join(lines))

    # --- to coordinators -----------------------------------------------------------------------

    def invite(self, language: str, code: str, role: str, expires: datetime) -> Text:
        tr = self.tr(language)
        who = tr._("coordinator") if role == "coordinator" else tr._("volunteer")
        when = format_datetime(expires, format="medium", locale=language)
        return self._done(language, tr._("Invite code for a new {role}: {code}\nIt works once, until {date}. They "
                                         "send this to the bot:\n/volunteer {code}")
                          .format(role=who, code=code, date=when))

    def alert(self, language: str, case: CaseFacts, online: int) -> Text:
        tr = self.tr(language)
        text = tr._("Nobody has taken this case yet. Volunteers online for its language: {count}.").format(
            count=online)
        return self._done(language, f"{self.case_line(case, language)}\n{text}",
                          [[self._button(tr.p_("button", "Take"), f"take:{case.id}")]])

    def report(self, language: str, label: str, volunteer: str, keep_until: datetime) -> Text:
        tr = self.tr(language)
        return self._done(language, tr._("Case {label} was reported by the person. Volunteer: {volunteer}. Read it "
                                         "with /transcript {label}; it is kept until {date}.").format(
            label=label, volunteer=volunteer, date=format_datetime(keep_until, format="medium", locale=language)))

    def contact_review(self, language: str, label: str, volunteer: str, text: str, review_id: int) -> Text:
        tr = self.tr(language)
        head = tr._("{volunteer} wants to send a message with contact details to case {label}:").format(
            volunteer=volunteer, label=label)
        return self._done(language, f"{head}\n\n{text}", [[
            self._button(tr.p_("button", "Allow"), f"allow:{review_id}"),
            self._button(tr.p_("button", "Do not send"), f"reject:{review_id}")]])

    def ban_list(self, language: str, bans: Sequence[BanLine]) -> Text:
        """Every ban with its number for /unban (coordinators only)."""
        tr = self.tr(language)
        if not bans:
            return self._done(language, tr._("Nobody is banned."))
        lines = [tr.n_("{count} ban:", "{count} bans:", len(bans)).format(count=len(bans))]
        for ban in bans:
            line = tr._("#{number} · case {label} · {date} · by {name}").format(
                number=ban.number, label=ban.label, date=format_date(ban.created_at, format="medium", locale=language),
                name=ban.by or "?")
            lines.append(f"{line} · {_shortened(ban.reason, 200)}" if ban.reason else line)
        lines.append(tr._("Send /unban followed by a number to lift a ban."))
        return self._done(language, _fitted(lines))

    def suggestions(self, language: str, count: int, latest: Sequence[GoodAnswer]) -> Text:
        """How many good answers wait for the editors, and the latest few."""
        tr = self.tr(language)
        if not count:
            return self._done(language, tr._("No new suggestions from volunteers."))
        lines = [tr.n_("{count} new suggestion from volunteers waits for the editors.",
                       "{count} new suggestions from volunteers wait for the editors.", count).format(count=count)]
        for suggestion in latest:
            about = [f"#{suggestion.id}", f"{suggestion.created_at:%Y-%m-%d}",
                     self.language_name(suggestion.language, language)]
            if suggestion.topic:
                about.append(self.knowledge.title(suggestion.topic, language)
                             if suggestion.topic in self.knowledge.topics else suggestion.topic)
            lines += ["", " · ".join(about),
                      tr._("Question: {text}").format(text=_shortened(suggestion.question, 200) or "-"),
                      tr._("Answer: {text}").format(text=_shortened(suggestion.answer, 400))]
        lines += ["", tr._("Editors see them all with: python -m bot suggestions")]
        return self._done(language, _fitted(lines))

    def content_reload(self, language: str, *, applied: bool, problems: Sequence[str], changed: Sequence[str],
                       retrain_needed: bool, errors: int = 0) -> Text:
        """The outcome of /reload: what changed, or why the previous content is still served."""
        tr = self.tr(language)
        if not applied:
            head = tr.n_("Not reloaded: the files have {count} error; still serving the previous content:",
                         "Not reloaded: the files have {count} errors; still serving the previous content:",
                         errors or len(problems)).format(count=errors or len(problems))
            return self._done(language, _fitted([head, *problems]))
        lines = [tr._("Content reloaded: {changes}.").format(changes=", ".join(changed) or tr._("no change"))]
        if retrain_needed:
            lines.append(tr._("Topics or training examples changed as well: they take effect only after "
                              "make train and a restart."))
        return self._done(language, _fitted(lines))

    def component_name(self, component: str, language: str) -> str:
        tr = self.tr(language)
        return {
            "bot": tr.p_("health component", "Bot"),
            "engine": tr.p_("health component", "Conversation engine"),
            "database": tr.p_("health component", "Database"),
        }.get(component, component)

    def health_down(self, language: str, component: str, down_for: timedelta) -> Text:
        """The alert: a component has not answered for a while."""
        tr = self.tr(language)
        return self._done(language, tr._("Alert: {component} has not answered for {duration}. Users get an "
                                         "apology instead of answers. You will be told when it is back.").format(
            component=self.component_name(component, language), duration=self.minutes(down_for, language)))

    def health_back(self, language: str, component: str, down_for: timedelta) -> Text:
        """The all-clear after an alert."""
        tr = self.tr(language)
        return self._done(language, tr._("Resolved: {component} is back after {duration}.").format(
            component=self.component_name(component, language), duration=self.minutes(down_for, language)))

    def health_report(self, language: str, checks: Sequence[tuple[str, bool, float, timedelta | None]]) -> Text:
        """/health: one line per component (up with its latency, or down and for how long)."""
        tr = self.tr(language)
        lines = []
        for component, up, seconds, down_for in checks:
            name, milliseconds = self.component_name(component, language), round(seconds * 1000)
            if up:
                lines.append(tr._("{component}: up ({milliseconds} ms)").format(
                    component=name, milliseconds=milliseconds))
            elif down_for is not None and down_for >= timedelta(minutes=1):
                lines.append(tr._("{component}: DOWN for {duration}").format(
                    component=name, duration=self.minutes(down_for, language)))
            else:
                lines.append(tr._("{component}: DOWN (no answer after {milliseconds} ms)").format(
                    component=name, milliseconds=milliseconds))
        return self._done(language, "\n".join(lines))

    def _button(self, label: str, data: str) -> Button:
        return Button(label, ButtonAction("handoff", data))

    def _menu(self, tr: Translator) -> Button:
        return Button(tr.p_("button", "Menu"), ButtonAction("menu"))


def _shortened(text: str, limit: int) -> str:
    """`text` on one line, at most `limit` characters."""
    line = " ".join(text.split())
    return line if len(line) <= limit else line[: limit - 1] + "…"


def _fitted(lines: Sequence[str], limit: int = 3900) -> str:
    """As many whole lines as fit in one Telegram message (some room left for RTL isolation marks)."""
    kept: list[str] = []
    size = 0
    for line in lines:
        line = line if len(line) <= limit else line[: limit - 1] + "…"
        if kept and size + len(line) + 1 > limit:
            kept.append("…")
            break
        kept.append(line)
        size += len(line) + 1
    return "\n".join(kept)
