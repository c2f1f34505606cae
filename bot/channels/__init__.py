"""Input channels: REST (web widget), Telegram, telephone; all behind bot.channels.guard."""
