"""A laptop: everything on embedded defaults (see base.py)."""

from parivision.settings.base import *  # noqa: F403
