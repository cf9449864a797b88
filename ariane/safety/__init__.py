"""Safety: input checks, crisis detection and reply, careful mode, and output guards.

A turn meets these stages first (`ariane.pipeline.safety_stages`):

- `InputStage` ("input", ariane/safety/input_checks.py): refuses empty, over-long, binary or
  flooding messages, the model's `<|endoftext|>` marker, and too many messages a minute;
- `CrisisStage` ("crisis", ariane/safety/crisis_stage.py): the detector (ariane/safety/crisis.py)
  reads suicidal thoughts, self-harm, intent to harm others and acute distress in English and
  French: hand-written rules first (ariane/safety/patterns.yaml, the high-precision layer), then
  a learned classifier over multilingual-e5 vectors and n-grams (ariane/safety/classifier.py,
  features.py; trained by ariane/safety/train.py on data/safety/train/). Three routes: a crisis
  gets a fixed, reviewed text with the helplines of the player's country (data/helplines.yaml),
  the message is recorded for a mediator (ARIANE_HOME/escalations.sqlite) and the session goes
  careful; support (distress, no crisis) gets the grounded answer plus a helpline line; safe
  goes on;
- `CarefulStage` ("careful"): a session that had a crisis gets no generated text again.

Generated text then passes `ariane.safety.guards` (no puzzle solution before its level, no
self-harm methods, diagnoses or medication, no degenerate output).

Importing this package reads no file and opens no database.
"""

from ariane.safety.crisis import Assessment, CrisisDetector, assess

__all__ = ["Assessment", "CrisisDetector", "assess"]
