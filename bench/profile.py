"""Where the time of one message goes, stage by stage, in the bot's own pipeline."""

from __future__ import annotations

import time
from collections.abc import Callable
from statistics import median

from bot.db import preferences
from bot.replies import Said, TopicAnswer
from bot.services import Services

SAMPLES = ("كيف أقدم طلب لجوء؟", "I was arrested, what are my rights?", "je cherche un avocat gratuit",
           "where can I see a doctor without papers", "بدي اتعلم تركي وين في كورسات")


async def stages(services: Services, rounds: int) -> dict[str, float]:
    """Median milliseconds of each stage over `rounds` passes of the samples."""
    timings: dict[str, list[float]] = {name: [] for name in
                                       ("language", "danger phrases", "preferences read",
                                        "engine: parse and dialogue", "rendering")}
    user = services.user("bench-profile")

    def timed(name: str, started: float) -> None:
        timings[name].append((time.perf_counter() - started) * 1000)

    for _ in range(rounds):
        for text in SAMPLES:
            started = time.perf_counter()
            resolution = services.resolver.resolve(text)
            timed("language", started)
            started = time.perf_counter()
            services.emergency.match(text)
            timed("danger phrases", started)
            started = time.perf_counter()
            async with services.sessions() as session:
                await preferences.get_preferences(session, user.key)
            timed("preferences read", started)
            started = time.perf_counter()
            turn = await services.engine.message(user.engine_id, text=text)
            timed("engine: parse and dialogue", started)
            started = time.perf_counter()
            services.renderer.render(Said(TopicAnswer(turn.parse.best_topic()[0]), resolution.language))
            timed("rendering", started)
    return {name: median(values) for name, values in timings.items()}


Progress = Callable[[str], None]
