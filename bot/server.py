"""Start Rasa with this project's patches: `python -m bot.server run ...` takes Rasa's arguments.

The patches (bot/rasa_patches.py) are written against one Rasa version and refuse any other.
"""

from __future__ import annotations

import sys

from bot import rasa_patches


def main() -> None:
    rasa_patches.apply()
    from rasa.__main__ import main as rasa_main

    sys.argv[0] = "rasa"
    rasa_main()


if __name__ == "__main__":
    main()
