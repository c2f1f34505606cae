"""What a message mentions besides its topic (knowledge/mentions.py)."""

from __future__ import annotations

import pytest

from knowledge.mentions import closed_question_verb


@pytest.mark.parametrize(
    ("text", "verb"),
    [
        ("Kann ich die Verlängerung auch am Telefon beantragen?", "kann"),
        ("Geht das auch telefonisch?", "kann"),
        ("Hallo, muss ich meinen Arzt von der Schweigepflicht entbinden?", "muss"),
        ("Bekommt mein Mann als Begleitperson freie Fahrt?", "bekomme"),
        ("und gilt das auch für Kinder?", "gilt"),
        ("Ich wohne in Köln. Darf meine Tochter das für mich machen?", "darf"),
        ("Wie lange dauert es?", None),
        ("Gilt das nicht für Kinder?", None),  # negated: a "Ja" or "Nein" would be ambiguous
        ("Ich brauche einen Termin.", None),
    ],
)
def test_the_verb_of_a_closed_question(text: str, verb: str | None) -> None:
    assert closed_question_verb(text) == verb
