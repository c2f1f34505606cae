"""Slot names of the callback form, shared by the actions and the tracker store."""

NAME, REASON = "callback_name", "callback_reason"
# How the office answers (phone, sms, email, fax) and the value for it.
CONTACT_METHOD, PHONE = "callback_contact_method", "callback_phone"
EMAIL, FAX = "callback_email", "callback_fax"
CANNOT_PHONE = "callback_cannot_phone"
CALLER_DECLINED = "callback_caller_declined"  # telephone: not the number the caller calls from
PREFERRED_TIME, ALTERNATIVE = "callback_preferred_time", "callback_alternative"
OFFICE, CONFIRMED = "callback_office", "callback_confirmed"
# Set only when a request really ended (stored, cancelled, refused): the tracker store then masks it.
CLOSED = "callback_closed"
# Personal values: masked in the stored conversation when the request ends or is abandoned.
PERSONAL_SLOTS = (NAME, PHONE, REASON, PREFERRED_TIME, ALTERNATIVE)
CONTACT_SLOTS = (EMAIL, FAX, CONTACT_METHOD)
FORM_SLOTS = (
    NAME,
    PHONE,
    REASON,
    PREFERRED_TIME,
    *CONTACT_SLOTS,
    CANNOT_PHONE,
    CALLER_DECLINED,
    OFFICE,
    CONFIRMED,
)
