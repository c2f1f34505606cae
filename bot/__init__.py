"""The Rasa side: config, domain, channels, tracker and lock stores."""

from bot import rasa_patches

rasa_patches.apply()
