"""Exceptions shared by every stage.

Bad *input* raises ``ValueError`` with a sentence that says how to fix it. A backend that
cannot run on this machine (missing package, weights or network) raises
:class:`BackendUnavailable` whose message is one sentence a user can act on.
"""


class BackendUnavailable(RuntimeError):
    """A backend cannot run here; ``str(err)`` says why in one sentence."""
