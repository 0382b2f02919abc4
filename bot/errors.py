"""The errors this project raises, written out once.

BotError
 ├── ConfigError          a setting is missing or malformed; raised at start-up
 ├── ContentError         the knowledge base, NLU data or catalogs are invalid
 └── EngineError          the conversation engine could not answer
      ├── EngineUnavailable   down, refusing connections or too slow
      └── EngineProtocolError answered, but not with what the contract says
"""


class BotError(Exception):
    """Base class of every error this project raises on purpose."""


class ConfigError(BotError):
    """A setting is missing or malformed."""


class ContentError(BotError):
    """Content files are invalid; the message names the file."""


class EngineError(BotError):
    """The conversation engine could not answer."""


class EngineUnavailable(EngineError):
    """The engine is down, refused the connection or did not answer in time."""


class EngineProtocolError(EngineError):
    """The engine answered with something the contract does not allow."""
