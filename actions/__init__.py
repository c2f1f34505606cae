"""Rasa custom actions: thin translators between the tracker and the knowledge module."""
