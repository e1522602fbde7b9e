"""Function words of English speech (and its fillers): never a topic word, a term or a title
word. Shared by the chapter evidence (``v2a.write``) and the screen's terms (``v2a.ocr``).
The list is short on purpose: for other languages, very frequent words are dropped per
transcript instead (``v2a.write.candidates``)."""

from __future__ import annotations

STOP = frozenset("""a about above after again all also am an and any are as at be because been before
being below between both but by can could did do does doing down during each even every few for
from further get gets got had has have having he her here hers him his how i if in into is it its
just let like lot many me more most much my no nor not now of off on once one only or other our
out over own really right same say she should so some such than that the their them then there
these they thing things this those through to too two under until up us very was way we well were
what when where which while who why will with would yeah you your okay ok gonna going want know
see look basically actually kind sort mean""".split())
