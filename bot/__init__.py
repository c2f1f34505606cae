"""The Rasa side: config, domain, NLU components, channels, tracker and lock stores.

Importing this package changes nothing in Rasa; `python -m bot.server` applies bot.rasa_patches
explicitly before it starts Rasa.
"""
