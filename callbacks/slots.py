"""Slot names of the callback form, shared by the actions and the tracker store."""

NAME, PHONE, REASON = "callback_name", "callback_phone", "callback_reason"
PREFERRED_TIME, ALTERNATIVE = "callback_preferred_time", "callback_alternative"
OFFICE, CONFIRMED = "callback_office", "callback_confirmed"
# Set only when a request really ended (stored, cancelled, refused): the tracker store then masks it.
CLOSED = "callback_closed"
PERSONAL_SLOTS = (NAME, PHONE, REASON, PREFERRED_TIME, ALTERNATIVE)
